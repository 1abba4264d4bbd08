"""dbt's global macros on PostgreSQL: dbt's default view and snapshot materializations (copied) build what
modelkit builds, custom strategies written with dbt's strategy macros, and the relation macros' rename path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pg_support
import pytest
from conftest import run_cli
from pg_projects import pg_project, relations, rows

pytestmark = pytest.mark.postgres
DB = "modelkit_macro_surface"
COPIED = Path(__file__).parent / "data" / "dbt_materializations" / "macros"

SOURCE = """
{{ config(materialized='table') }}
{% if var('round') == 1 %}
select 1 as id, 'a'::text as name, 10 as amount, timestamp '2024-01-01' as updated_at
union all select 2, 'b', 20, timestamp '2024-01-01'
{% else %}
select 1 as id, 'a2'::text as name, 11 as amount, timestamp '2024-02-01' as updated_at
union all select 3, 'c', 30, timestamp '2024-02-01'
{% endif %}
"""
SNAPSHOTS = """
snapshots:
  - name: copied_snap
    relation: ref('src')
    config: {materialized: copied_snapshot, unique_key: id, strategy: timestamp, updated_at: updated_at,
             hard_deletes: invalidate}
  - name: builtin_snap
    relation: ref('src')
    config: {unique_key: id, strategy: timestamp, updated_at: updated_at, hard_deletes: invalidate}
"""
STRATEGIES = """
{% macro get_incremental_my_merge_sql(arg_dict) %}
  {{ return(get_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'],
            arg_dict['dest_columns'])) }}
{% endmacro %}
{% macro get_incremental_my_delete_insert_sql(arg_dict) %}
  {{ return(get_delete_insert_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'],
            arg_dict['unique_key'], arg_dict['dest_columns'], none)) }}
{% endmacro %}
{% macro swap(name) %}
  {% set relation = api.Relation.create(database=target.database, schema=target.schema, identifier=name, type='table') %}
  {% do run_query(get_replace_sql(relation, relation.incorporate(type='view'), 'select 43 as answer')) %}
{% endmacro %}
"""


@pytest.fixture(scope="module")
def project(pg_server: pg_support.Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pg_support.create_database(pg_server, DB)
    files = {
        "models/src.sql": SOURCE,
        "models/copied_v.sql": "{{ config(materialized='copied_view') }} select id, name from {{ ref('src') }}",
        "models/builtin_v.sql": "{{ config(materialized='view') }} select id, name from {{ ref('src') }}",
        "models/answer.sql": "{{ config(materialized='table') }} select 42 as answer",
        "snapshots/snapshots.yml": SNAPSHOTS,
        "macros/strategies.sql": STRATEGIES,
    }
    for strategy in ("my_merge", "my_delete_insert"):
        config = f"materialized='incremental', unique_key='id', incremental_strategy='{strategy}'"
        files[f"models/{strategy}.sql"] = f"{{{{ config({config}) }}}}\nselect id, name from {{{{ ref('src') }}}}"
    root = pg_project(tmp_path_factory.mktemp("pg") / "demo", pg_server, DB, "surface", files)
    for name in ("copied_view.sql", "copied_snapshot.sql"):
        shutil.copy(COPIED / name, root / "macros" / name)
    for round_number in (1, 2):
        result = run_cli("build", "--vars", f"{{round: {round_number}}}", cwd=root)
        assert result.exit_code == 0, result.output
    return root


def test_copied_view_and_snapshot_build_what_builtins_build(pg_server: pg_support.Server, project: Path) -> None:
    kinds = relations(pg_server, DB, "surface")
    assert kinds["copied_v"] == kinds["builtin_v"] == "v"
    assert rows(pg_server, DB, "select * from surface.copied_v order by 1") == rows(
        pg_server, DB, "select * from surface.builtin_v order by 1"
    )
    # a deleted row is closed at the run's own time: compared as "closed by a run"
    valid_to = "coalesce(least(dbt_valid_to, timestamp '2025-01-01')::text, 'current')"
    select = (
        f"select id, name, amount, updated_at, dbt_valid_from, {valid_to}, dbt_scd_id from surface.{{}} order by 1, 4"
    )
    snapshot = rows(pg_server, DB, select.format("builtin_snap"))
    assert rows(pg_server, DB, select.format("copied_snap")) == snapshot
    assert len(snapshot) == 4  # 1 and 2 closed (changed, deleted), 1 and 3 current


@pytest.mark.parametrize("strategy", ["my_merge", "my_delete_insert"])
def test_custom_strategies_on_postgres(pg_server: pg_support.Server, project: Path, strategy: str) -> None:
    assert rows(pg_server, DB, f"select id, name from surface.{strategy} order by 1") == [(1, "a2"), (2, "b"), (3, "c")]


def test_replace_renames_through_intermediate_and_backup(pg_server: pg_support.Server, project: Path) -> None:
    result = run_cli("run-operation", "swap", "--args", "{name: answer}", cwd=project)
    assert result.exit_code == 0, result.output
    assert relations(pg_server, DB, "surface")["answer"] == "v"
    assert rows(pg_server, DB, "select answer from surface.answer") == [(43,)]
    assert not {"answer__dbt_tmp", "answer__dbt_backup"} & set(relations(pg_server, DB, "surface"))
