"""A root project with a local package installed by ``modelkit deps``, for the ``test_packages_*`` tests.

The package ``acme`` has models (in a sub-folder too), a seed, a snapshot, a source, docs blocks, macros
(one dispatched), a custom generic test in ``tests/generic/``, a singular test, generic tests in its
YAML and its own ``dbt_project.yml`` configs and vars; the root project ``demo`` configures it from its
own project file and refers to its models.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conftest import run_cli, write_files

ACME = {
    "dbt_project.yml": """
        name: acme
        version: "1.0.0"
        config-version: 2
        vars:
          acme_label: from_package
          shared: from_package
          only_package: package_default
        models:
          acme:
            +materialized: table
            staging:
              +materialized: view
              +tags: [acme_staging]
        seeds:
          acme:
            +schema: acme_seeds
        data_tests:
          acme:
            +severity: warn
    """,
    "models/staging/acme_orders.sql": "select id, amount from {{ ref('acme_raw_orders') }}\n",
    "models/staging/schema.yml": """
        version: 2
        models:
          - name: acme_orders
            description: '{{ doc("acme_orders_doc") }}'
            columns:
              - name: id
                description: The order's id
                data_tests: [unique, not_null]
              - name: amount
                data_tests: [is_even]
        sources:
          - name: acme_src
            schema: main_acme_seeds
            tables:
              - name: events
                identifier: acme_raw_orders
                columns:
                  - name: id
                    data_tests: [not_null]
    """,
    "models/acme_summary.sql": """
        {{ config(tags=['own']) }}
        select count(*) as n, '{{ var("acme_label") }}' as label, '{{ var("shared") }}' as shared,
               '{{ var("only_package") }}' as only_package, {{ acme_double(2) }} as four, {{ greet() }} as greeting
        from {{ ref('acme_orders') }}
    """,
    "models/acme_events.sql": "select * from {{ source('acme_src', 'events') }}\n",
    "models/docs.md": "{% docs acme_orders_doc %}Orders, as acme keeps them{% enddocs %}\n",
    "seeds/acme_raw_orders.csv": "id,amount\n1,10\n2,20\n",
    "snapshots/acme_snap.sql": """
        {% snapshot acme_snap %}
        {{ config(unique_key='id', strategy='check', check_cols='all') }}
        select * from {{ ref('acme_raw_orders') }}
        {% endsnapshot %}
    """,
    "tests/assert_amounts_positive.sql": "select * from {{ ref('acme_orders') }} where amount < 0\n",
    "tests/generic/is_even.sql": """
        {% test is_even(model, column_name) %}
        select * from {{ model }} where {{ column_name }} % 2 = 1
        {% endtest %}
    """,
    "macros/acme.sql": """
        {% macro acme_double(x) %}({{ x }} * 2){% endmacro %}
        {% macro greet() %}{{ return(adapter.dispatch('greet', 'acme')()) }}{% endmacro %}
        {% macro default__greet() %}'hello from acme'{% endmacro %}
    """,
}

ROOT = {
    "dbt_project.yml": """
        name: demo
        profile: demo
        vars:
          shared: from_root
          acme:
            acme_label: from_root_for_acme
        models:
          acme:
            +schema: acme
            staging:
              +materialized: table
    """,
    "profiles.yml": """
        demo:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: target/demo.duckdb
    """,
    "packages.yml": "packages:\n  - local: ../acme\n",
    "models/report.sql": "select * from {{ ref('acme', 'acme_summary') }}\n",
    "models/orders_again.sql": "select * from {{ ref('acme_orders') }}\n",
}


def make_projects(
    tmp_path: Path,
    root: Mapping[str, str | None] | None = None,
    acme: Mapping[str, str | None] | None = None,
    others: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write ``acme`` and ``demo`` under ``tmp_path`` (``None`` drops a file) and the packages of ``others``
    (folder -> files; the root's packages.yml must list them), install them; the root's folder."""
    for folder, base, extra in (("acme", ACME, acme), ("demo", ROOT, root)):
        files = {**base, **(extra or {})}
        write_files(tmp_path / folder, {k: v for k, v in files.items() if v is not None})
    for folder, files in (others or {}).items():
        write_files(tmp_path / folder, files)
    deps = run_cli("deps", "--project-dir", str(tmp_path / "demo"))
    assert deps.exit_code == 0, deps.output
    return tmp_path / "demo"


def package_project(name: str, extra: str = "") -> str:
    """A package's dbt_project.yml."""
    return f"name: {name}\nversion: '1.0.0'\nconfig-version: 2\n{extra}"


TWO_PACKAGES = "packages:\n  - local: ../acme\n  - local: ../beta\n"
