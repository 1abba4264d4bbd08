"""persist_docs: descriptions written as relation and column comments by every materialization, as dbt-duckdb does.

Each test builds an unmodified dbt project through the CLI and reads the comments back from DuckDB's catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import query
from suite_support import db, dbt_project, run

PERSIST = {"+persist_docs": {"relation": True, "columns": True}}
CONFIG = {"models": {"test": PERSIST}, "seeds": {"test": PERSIST}, "snapshots": {"test": PERSIST}}
SNAPSHOT = """
{% snapshot snap %}
{{ config(unique_key='id', strategy='check', check_cols='all', target_schema='main') }}
select * from {{ ref('s') }}
{% endsnapshot %}
"""
FILES = {
    "models/t.sql": "{{ config(materialized='table') }}\nselect 1 as id, 'x' as name\n",
    "models/v.sql": "select 1 as id, 'x' as name\n",
    "models/inc.sql": "{{ config(materialized='incremental', unique_key='id') }}\nselect 1 as id, 'x' as name\n",
    "models/merged.sql": "{{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}\n"
    "select 1 as id, 'x' as name\n",
    "models/mb.sql": "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', "
    "batch_size='year', begin='2024-01-01') }}\nselect 1 as id, 'x' as name, timestamp '2024-06-01' as ts\n",
    "seeds/s.csv": "id,name\n1,a\n",
    "snapshots/snap.sql": SNAPSHOT,
    "models/schema.yml": """
version: 2
models:
  - {name: t, description: "table t, it's", columns: [{name: id, description: t id}]}
  - {name: v, description: view v, columns: [{name: id, description: v id}]}
  - {name: inc, description: inc desc, columns: [{name: id, description: inc id}]}
  - {name: merged, description: merged desc, columns: [{name: id, description: merged id}]}
  - {name: mb, description: batched, columns: [{name: id, description: mb id}]}
seeds:
  - {name: s, description: seed s, columns: [{name: id, description: s id}]}
snapshots:
  - {name: snap, description: snap desc, columns: [{name: id, description: snap id}]}
""",
}
EXPECTED = {
    "t": ("table t, it's", "t id"),
    "v": ("view v", "v id"),
    "inc": ("inc desc", "inc id"),
    "merged": ("merged desc", "merged id"),
    "mb": ("batched", "mb id"),
    "s": ("seed s", "s id"),
    "snap": ("snap desc", "snap id"),
}


def relation_comments(root: Path) -> dict[str, str | None]:
    return dict(
        query(
            db(root),
            "select table_name, comment from duckdb_tables() union all "
            "select view_name, comment from duckdb_views() where not internal",
        )
    )


def column_comments(root: Path) -> dict[tuple[str, str], str | None]:
    rows = query(db(root), "select table_name, column_name, comment from duckdb_columns() where not internal")
    return {(table, column): comment for table, column, comment in rows}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = dbt_project(tmp_path_factory.mktemp("persist") / "test", FILES, CONFIG)
    run(root, "build")
    return root


@pytest.mark.parametrize("name", list(EXPECTED))
def test_every_materialization_writes_comments(built: Path, name: str) -> None:
    relation, column = EXPECTED[name]
    assert relation_comments(built)[name] == relation
    columns = column_comments(built)
    assert columns[(name, "id")] == column
    assert columns[(name, "name")] is None  # not documented: no comment


@pytest.mark.parametrize("name", list(EXPECTED))
def test_comments_are_written_again_on_later_runs(tmp_path: Path, name: str) -> None:
    """A rebuilt view or table, an incremental run, a reloaded seed and a snapshot update keep their comments."""
    root = dbt_project(tmp_path / "test", FILES, CONFIG)
    run(root, "build")
    run(root, "build", "--select", name)
    assert relation_comments(root)[name] == EXPECTED[name][0]
    assert column_comments(root)[(name, "id")] == EXPECTED[name][1]


def test_without_persist_docs_nothing_is_commented(tmp_path: Path) -> None:
    root = dbt_project(tmp_path / "test", FILES)
    run(root, "build")
    assert set(relation_comments(root).values()) == {None}
    assert set(column_comments(root).values()) == {None}


@pytest.mark.parametrize(
    ("persist", "relation", "column"),
    [({"relation": True}, "table t, it's", None), ({"columns": True}, None, "t id"), ({}, None, None)],
)
def test_relation_and_columns_are_chosen_separately(
    tmp_path: Path, persist: dict, relation: str | None, column: str | None
) -> None:
    root = dbt_project(tmp_path / "test", FILES, {"models": {"test": {"+persist_docs": persist}}})
    run(root, "run", "--select", "t")
    assert relation_comments(root)["t"] == relation
    assert column_comments(root)[("t", "id")] == column


def test_missing_and_differently_cased_columns(tmp_path: Path) -> None:
    """A documented column the relation lacks is reported; an unquoted name matches in any case for the report,
    but is commented only when its case matches (as dbt-duckdb's alter_column_comment); quoted names are quoted."""
    files = {
        "models/m.sql": '{{ config(materialized="table") }}\nselect 1 as id, 2 as "Total", 3 as "2id", 4 as amount\n',
        "models/schema.yml": """
version: 2
models:
  - name: m
    columns:
      - {name: id, description: the id}
      - {name: total, description: lower-cased}
      - {name: 2id, description: starts with a digit, quote: true}
      - {name: AMOUNT, description: upper-cased}
      - {name: gone, description: not in the table}
      - {name: also_gone}
""",
    }
    root = dbt_project(tmp_path / "test", files, {"models": {"test": PERSIST}})
    output = run(root, "run")
    assert (
        'In relation "test"."main"."m": The following columns are specified in the schema but are not present in '
        "the database: gone, also_gone" in output
    )
    columns = column_comments(root)
    assert columns[("m", "id")] == "the id"
    assert columns[("m", "2id")] == "starts with a digit"
    assert columns[("m", "Total")] is None and columns[("m", "amount")] is None


def test_hooks_see_comments_as_in_dbt(tmp_path: Path) -> None:
    """A view's or an incremental model's comments are written before its in-transaction post-hooks; a table's
    after them (dbt-duckdb's table materialization)."""
    hook = (
        "insert into seen select '{{ this.name }}', comment from duckdb_tables() where table_name = '{{ this.name }}' "
        "union all select '{{ this.name }}', comment from duckdb_views() where view_name = '{{ this.name }}'"
    )
    files = {
        "models/t.sql": "{{ config(materialized='table') }}\nselect 1 as id\n",
        "models/v.sql": "select 1 as id\n",
        "models/inc.sql": "{{ config(materialized='incremental') }}\nselect 1 as id\n",
        "models/schema.yml": "models:\n  - {name: t, description: t desc}\n  - {name: v, description: v desc}\n"
        "  - {name: inc, description: inc desc}\n",
    }
    config = {
        "on-run-start": ["create table if not exists seen (model varchar, c varchar)"],
        "models": {"test": {**PERSIST, "+post-hook": hook}},
    }
    root = dbt_project(tmp_path / "test", files, config)
    run(root, "run", "--threads", "1")
    assert sorted(query(db(root), "select * from seen")) == [("inc", "inc desc"), ("t", None), ("v", "v desc")]


def test_a_comment_that_cannot_be_written_fails_the_model_and_keeps_the_table(tmp_path: Path) -> None:
    files = {"models/t.sql": "{{ config(materialized='table') }}\nselect 1 as id\n"}
    root = dbt_project(tmp_path / "test", files, {"models": {"test": PERSIST}})
    run(root, "run")
    (root / "models" / "schema.yml").write_text(
        "models:\n  - {name: t, description: 'has $dbt_comment_literal_block$ in it'}\n"
    )
    (root / "models" / "t.sql").write_text("{{ config(materialized='table') }}\nselect 2 as id\n")
    output = run(root, "run", expect=1)
    assert "Compilation Error in model t (models/t.sql)" in output
    assert "The string $dbt_comment_literal_block$ is not allowed in comments." in output
    assert query(db(root), "select id from t") == [(1,)]  # the whole unit of work rolled back


def test_contracted_table_is_commented(tmp_path: Path) -> None:
    files = {
        "models/c.sql": "{{ config(materialized='table') }}\nselect 1 as id\n",
        "models/schema.yml": "models:\n  - name: c\n    description: contracted\n    config: {contract: {enforced: true}}\n"
        "    columns:\n      - {name: id, data_type: integer, description: the id}\n",
    }
    root = dbt_project(tmp_path / "test", files, {"models": {"test": PERSIST}})
    run(root, "run")
    assert relation_comments(root)["c"] == "contracted"
    assert column_comments(root)[("c", "id")] == "the id"


def test_jinja_materialization_calls_the_persist_docs_macro(tmp_path: Path) -> None:
    """A materialization written in Jinja writes comments through dbt's persist_docs macro, which reports
    documented columns the relation lacks (validate_doc_columns)."""
    materialization = """
{% materialization plain, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {% call statement('main') -%}
    create or replace table {{ target_relation }} as ({{ sql }})
  {%- endcall %}
  {% do persist_docs(target_relation, model) %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
"""
    files = {
        "macros/plain.sql": materialization,
        "models/p.sql": "{{ config(materialized='plain') }}\nselect 1 as id\n",
        "models/schema.yml": "models:\n  - name: p\n    description: plain p\n    columns:\n"
        "      - {name: id, description: p id}\n      - {name: gone, description: absent}\n",
    }
    root = dbt_project(tmp_path / "test", files, {"models": {"test": PERSIST}})
    output = run(root, "run")
    assert "The following columns are specified in the schema but are not present in the database: gone" in output
    assert relation_comments(root)["p"] == "plain p"
    assert column_comments(root)[("p", "id")] == "p id"
