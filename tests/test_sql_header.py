"""sql_header: SQL a model runs just before its DDL (``config(sql_header=...)`` or ``set_sql_header``), as dbt does.

Each test builds an unmodified dbt project through the CLI. The headers set DuckDB session variables or temporary
macros that the model's query needs, so a model only gets the right rows when its header ran before its DDL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query
from suite_support import db, dbt_project, run

SET_HEADER = """{% call set_sql_header(config) %}
create table if not exists side as select 7 as x;
{%- endcall %}
select 1 as id
"""


def _var_model(materialized: str, extra: str = "") -> str:
    return (
        f"{{{{ config(materialized='{materialized}', sql_header='set variable v = 42;'{extra}) }}}}\n"
        "select 1 as id, getvariable('v') as v\n"
    )


@pytest.mark.parametrize(
    "model",
    [
        _var_model("table"),
        _var_model("incremental", ", unique_key='id'"),
        _var_model("incremental", ", unique_key='id', incremental_strategy='merge'"),
        _var_model("incremental", ", incremental_strategy='append'"),
    ],
    ids=["table", "delete+insert", "merge", "append"],
)
def test_header_runs_before_the_ddl(tmp_path: Path, model: str) -> None:
    """The first build, and an incremental model's later runs (its staging table), see what the header set."""
    root = dbt_project(tmp_path / "test", {"models/m.sql": model})
    run(root, "run")
    assert query(db(root), "select id, v from m") == [(1, 42)]
    run(root, "run")
    expected = [(1, 42), (1, 42)] if "append" in model else [(1, 42)]
    assert query(db(root), "select id, v from m") == expected


def test_set_sql_header_block_is_recorded_at_parse_and_applied(tmp_path: Path) -> None:
    """A view's header (here in a set_sql_header block) runs when the view is created."""
    root = dbt_project(tmp_path / "test", {"models/m.sql": SET_HEADER})
    run(root, "run")
    assert query(db(root), "select x from side") == [(7,)]  # the header ran
    node = json.loads((root / "target" / "manifest.json").read_text())["nodes"]["model.test.m"]
    assert node["config"]["sql_header"] == "\ncreate table if not exists side as select 7 as x;"  # as dbt records it


def test_compiled_code_has_no_header(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", {"models/m.sql": _var_model("table")})
    run(root, "compile")
    compiled = (root / "target" / "compiled" / "test" / "models" / "m.sql").read_text()
    assert "set variable" not in compiled and "getvariable('v')" in compiled


def test_snapshot_header(tmp_path: Path) -> None:
    snapshot = """
{% snapshot snap %}
{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='main',
          sql_header='set variable v = 42;') }}
select 1 as id, getvariable('v') as v
{% endsnapshot %}
"""
    root = dbt_project(tmp_path / "test", {"snapshots/snap.sql": snapshot})
    run(root, "snapshot")
    run(root, "snapshot")  # the staging table's query needs the header too: no change is seen
    assert query(db(root), "select id, v, dbt_valid_to from snap") == [(1, 42, None)]


def test_contracted_table_header_reaches_the_contract_check(tmp_path: Path) -> None:
    """The query uses a temporary macro the header creates: describing it for the contract needs the header."""
    files = {
        "models/c.sql": "{{ config(materialized='table', sql_header='create or replace temp macro twice(x) as x * 2;') }}\n"
        "select twice(21) as v\n",
        "models/schema.yml": "models:\n  - name: c\n    config: {contract: {enforced: true}}\n"
        "    columns:\n      - {name: v, data_type: integer}\n",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run")
    assert query(db(root), "select v from c") == [(42,)]


def test_failing_header_fails_the_model_and_keeps_the_table(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", {"models/m.sql": "{{ config(materialized='table') }}\nselect 1 as id\n"})
    run(root, "run")
    (root / "models" / "m.sql").write_text(
        "{{ config(materialized='table', sql_header='this is not sql;') }}\nselect 2 as id\n"
    )
    output = run(root, "run", expect=1)
    assert "Runtime Error in model m (models/m.sql)" in output and "syntax error" in output
    assert query(db(root), "select id from m") == [(1,)]
