"""Parsing with packages: edits to package files are never missed, and a package shaped like dbt_utils works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query, run_cli, write_files
from packages_support import make_projects

from modelkit import Project
from modelkit.artifacts.writer import node_dict
from modelkit.parse import state as parsestate


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust files written a moment ago (each edit below changes a file's size, so none can hide)."""
    monkeypatch.setattr(parsestate, "RACY_NS", 0)


def parse(root: Path) -> bool:
    """Whether `parse` wrote manifest.json (False: nothing changed, nothing done)."""
    manifest = root / "target" / "manifest.json"
    before = manifest.stat().st_mtime_ns if manifest.exists() else None
    Project(root).parse_summary()
    return manifest.stat().st_mtime_ns != before


def shape(uid: str, node: dict) -> tuple:
    return (uid, node.get("raw_code"), node["schema"], node["description"], node["depends_on"].get("nodes", []))


def written(root: Path) -> list[tuple]:
    nodes = json.loads((root / "target" / "manifest.json").read_text())["nodes"]
    return sorted(shape(uid, n) for uid, n in nodes.items())


def fresh(root: Path) -> list[tuple]:
    with Project(root, partial_parse=False).session("parse") as session:
        return sorted(shape(uid, node_dict(n)) for uid, n in session.manifest.nodes.items())


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


EDITS = [
    ("model", lambda acme: write_files(acme, {"models/acme_events.sql": "select * from {{ ref('acme_orders') }}"})),
    ("yaml", lambda acme: append(acme / "models/staging/schema.yml", "\n# edited\n")),
    ("docs", lambda acme: write_files(acme, {"models/docs.md": "{% docs acme_orders_doc %}New text{% enddocs %}"})),
    ("macro", lambda acme: write_files(acme, {"macros/more.sql": "{% macro acme_double(x) %}({{ x }}+{{ x }}){% endmacro %}"})),
    ("new_model", lambda acme: write_files(acme, {"models/deeper/extra.sql": "select 1 as x"})),
    ("seed", lambda acme: append(acme / "seeds/acme_raw_orders.csv", "3,30\n")),
    ("project_file", lambda acme: append(acme / "dbt_project.yml", "snapshots:\n  +schema: moved\n")),
    ("new_package", lambda acme: write_files(acme.parent / "demo/dbt_packages/extra", {"dbt_project.yml": "name: extra\n", "models/extra_model.sql": "select 2 as y"})),
]  # fmt: skip


@pytest.mark.parametrize(("case", "edit"), EDITS, ids=[e[0] for e in EDITS])
def test_an_edit_in_an_installed_package_is_parsed(tmp_path: Path, trusting, case, edit) -> None:
    root = make_projects(tmp_path)
    assert parse(root) is True
    assert parse(root) is False  # nothing changed: nothing done
    edit(tmp_path / "acme")  # the package's own folder, which dbt_packages/acme links to
    assert parse(root) is True
    assert written(root) == fresh(root)
    assert parse(root) is False


def test_the_parse_cache_keeps_root_and_package_files_apart(tmp_path: Path) -> None:
    # the same path in the root project and in the package: two files, two nodes
    root = make_projects(tmp_path, root={"models/acme_events.sql": "select * from {{ ref('report') }}\n"})
    for _ in range(2):  # cold, then from the cache
        out = run_cli("parse", "--project-dir", str(root))
        assert out.exit_code == 0, out.output
        assert written(root) == fresh(root)
        nodes = {uid: n for uid, n in json.loads((root / "target" / "manifest.json").read_text())["nodes"].items()}
        assert nodes["model.demo.acme_events"]["depends_on"]["nodes"] == ["model.demo.report"]
        assert nodes["model.acme.acme_events"]["depends_on"]["nodes"] == ["source.acme.acme_src.events"]
    cache = json.loads((root / "target" / "modelkit_parse_cache.json").read_text())
    assert {"models/acme_events.sql", "dbt_packages/acme/models/acme_events.sql"} <= set(cache["templates"])
    write_files(tmp_path / "acme", {"models/acme_events.sql": "select * from {{ ref('acme_summary') }}\n"})
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    nodes = json.loads((root / "target" / "manifest.json").read_text())["nodes"]
    assert nodes["model.acme.acme_events"]["depends_on"]["nodes"] == ["model.acme.acme_summary"]
    assert nodes["model.demo.acme_events"]["depends_on"]["nodes"] == ["model.demo.report"]


# A package laid out as dbt_utils is: macros only, in sub-folders, private helpers named `_x` called as
# `pkg._x(...)`, each public macro dispatched in its own namespace, generic tests among the macros, the
# built-ins reached as `dbt.x`, and an integration_tests project inside that is not part of the package.
UTILS = {
    "dbt_project.yml": """
        name: 'dbt_utils'
        version: '0.1.0'
        require-dbt-version: [">=1.3.0", "<3.0.0"]
        config-version: 2
        target-path: "target"
        clean-targets: ["target", "dbt_packages"]
        macro-paths: ["macros"]
    """,
    "macros/jinja_helpers/_is_relation.sql": """
        {% macro _is_relation(obj, macro) %}
            {%- if not (obj is mapping and obj.get('metadata', {}).get('type', '').endswith('Relation')) -%}
                {%- do exceptions.raise_compiler_error("Macro " ~ macro ~ " expected a Relation but received the value: " ~ obj) -%}
            {%- endif -%}
        {% endmacro %}
    """,
    "macros/sql/star.sql": """
        {% macro star(from, except=[]) -%}
            {{ return(adapter.dispatch('star', 'dbt_utils')(from, except)) }}
        {% endmacro %}

        {% macro default__star(from, except=[]) -%}
            {%- do dbt_utils._is_relation(from, 'star') -%}
            {%- if not execute -%}{% do return('*') %}{%- endif -%}
            {%- for col in adapter.get_columns_in_relation(from) if col.name | lower not in except -%}
                {{ adapter.quote(col.name) }}{{ ", " if not loop.last }}
            {%- endfor -%}
        {%- endmacro %}
    """,
    "macros/sql/generate_surrogate_key.sql": """
        {%- macro generate_surrogate_key(field_list) -%}
            {{ return(adapter.dispatch('generate_surrogate_key', 'dbt_utils')(field_list)) }}
        {% endmacro %}

        {%- macro default__generate_surrogate_key(field_list) -%}
            {%- set fields = [] -%}
            {%- for field in field_list -%}
                {%- do fields.append("coalesce(" ~ dbt.safe_cast(field, dbt.type_string()) ~ ", '_null_')") -%}
                {%- if not loop.last %}{%- do fields.append("'-'") -%}{%- endif -%}
            {%- endfor -%}
            {{ dbt.hash(dbt.concat(fields)) }}
        {%- endmacro -%}
    """,
    "macros/generic_tests/expression_is_true.sql": """
        {% test expression_is_true(model, expression, column_name=None) %}
          {{ return(adapter.dispatch('test_expression_is_true', 'dbt_utils')(model, expression, column_name)) }}
        {% endtest %}

        {% macro default__test_expression_is_true(model, expression, column_name) %}
        select * from {{ model }} where not ({{ column_name ~ ' ' if column_name }}{{ expression }})
        {% endmacro %}
    """,
    "integration_tests/dbt_project.yml": "name: 'dbt_utils_integration_tests'\nprofile: integration_tests\n",
    "integration_tests/models/base.sql": "select 'not part of the package' as x\n",
    "integration_tests/packages.yml": "packages:\n  - local: ../\n",
}


def test_a_package_shaped_like_dbt_utils(tmp_path: Path) -> None:
    write_files(tmp_path / "dbt_utils", UTILS)
    root = write_files(
        tmp_path / "demo",
        {
            "modelkit.yml": "name: demo\n",
            "packages.yml": "packages:\n  - local: ../dbt_utils\n",
            "models/base.sql": "select 1 as id, 'a' as name, 'secret' as password\n",
            "models/keyed.sql": """
                select {{ dbt_utils.star(ref('base'), except=['password']) }},
                       {{ dbt_utils.generate_surrogate_key(['id', 'name']) }} as key
                from {{ ref('base') }}
            """,
            "models/schema.yml": """
                models:
                  - name: keyed
                    data_tests:
                      - dbt_utils.expression_is_true:
                          arguments: {expression: "id > 0"}
                    columns:
                      - name: id
                        data_tests:
                          - dbt_utils.expression_is_true:
                              arguments: {expression: "< 10"}
            """,
        },
    )
    assert run_cli("deps", "--project-dir", str(root)).exit_code == 0
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert "Found 2 models, 2 data tests" in out.output  # nothing of integration_tests/
    assert "PASS dbt_utils_expression_is_true_keyed_id_0" in out.output
    assert "PASS dbt_utils_expression_is_true_keyed_id___10" in out.output
    rows = query(root / "target" / "demo.duckdb", "select * from keyed")
    assert rows == [(1, "a", query(root / "target" / "demo.duckdb", "select md5('1' || '-' || 'a')")[0][0])]
    compiled = (root / "target" / "compiled" / "demo" / "models" / "keyed.sql").read_text()
    assert 'select "id", "name",' in compiled
    write_files(root, {"models/bad.sql": "select {{ dbt_utils.star('base') }}\n"})  # a name, not a relation
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2
    assert "Compilation Error in model bad (dbt_packages/dbt_utils/macros/jinja_helpers/_is_relation.sql:3)" in (
        out.output
    )
    assert "Macro star expected a Relation but received the value: base" in out.output
