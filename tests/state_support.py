"""A small dbt-style project with two targets (prod and dev schemas in one DuckDB file), for state tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import CliResult, run_cli, write_files

FILES = {
    "dbt_project.yml": """
        name: shop
        version: '1.0'
        profile: shop
        models:
          shop:
            +materialized: view
            marts:
              +materialized: table
              +tags: ["{{ 'x' ~ 'y' }}"]
              +meta:
                owner: "{{ env_var('OWNER', 'me') }}"
    """,
    "macros/m.sql": """
        {% macro double(x) %}{{ inner(x) }}{% endmacro %}
        {% macro inner(x) %}({{ x }} * 2){% endmacro %}
    """,
    "seeds/people.csv": "id,name\n1,a\n2,b\n",
    "models/stg.sql": """
        {{ config(materialized='table', schema=env_var('SCH', 'extra')) }}
        select id, name from {{ ref('people') }}
    """,
    "models/marts/fct.sql": "select id, {{ double('id') }} as d from {{ ref('stg') }}\n",
    "models/other.sql": "select 1 as x\n",
    "models/schema.yml": """
        version: 2
        models:
          - name: other
            config:
              contract: {enforced: true}
            columns:
              - name: x
                data_type: integer
          - name: fct
            description: facts
            config:
              persist_docs: {relation: true}
    """,
}


def profiles(db: Path) -> str:
    return f"""
        shop:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{db}"
              schema: dev
            prod:
              type: duckdb
              path: "{db}"
              schema: prod
    """


def shop_project(root: Path, extra: dict[str, str] | None = None) -> Path:
    """The project under ``root`` (its warehouse is ``root/wh.duckdb``), with ``extra`` files on top."""
    write_files(root, {**FILES, "profiles.yml": profiles(root / "wh.duckdb"), **(extra or {})})
    return root


def mk(root: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """``modelkit ARGS`` on the project at ``root`` (its profiles.yml next to it)."""
    return run_cli(*args, "--project-dir", str(root), "--profiles-dir", str(root), env=env)


def save_state(root: Path, name: str = "prod-state") -> Path:
    """Copy target/'s manifest.json (and run_results.json) to ``root/name``, as CI saves production's."""
    folder = root / name
    folder.mkdir(exist_ok=True)
    for artifact in ("manifest.json", "run_results.json"):
        if (root / "target" / artifact).is_file():
            shutil.copy(root / "target" / artifact, folder / artifact)
    return folder


def listed(result: CliResult) -> set[str]:
    """The node names ``ls --output name`` printed (its log lines left aside)."""
    assert result.exit_code == 0, result.output
    return {line.strip() for line in result.output.splitlines() if line.strip() and " " not in line.strip()}
