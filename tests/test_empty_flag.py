"""``--empty``: where a relation reads zero rows and where it is only a name, as dbt renders them.

dbt's relations render through the limiting subquery when a template prints them (``{{ ref('x') }}``, ``~``),
and as their bare name through ``render()``, which dbt's DDL macros use. Each test runs an unmodified dbt project
through the CLI.
"""

from __future__ import annotations

from pathlib import Path

from conftest import query
from suite_support import db, dbt_project, run

SEED = "my_id,my_value\n1,a\n2,b\n"
SOURCES = "sources:\n  - name: s\n    schema: main\n    tables: [{name: my_seed}]\n"


def test_printed_relations_are_limited_and_rendered_ones_are_not(tmp_path: Path) -> None:
    logging = """{{ config(materialized='table') }}
{% if execute %}
{% do log("STR: " ~ ref('my_seed'), info=True) %}
{% do log("RENDER: " ~ ref('my_seed').render(), info=True) %}
{% do log("INCLUDE: " ~ ref('my_seed').include(database=False), info=True) %}
{% do log("SOURCE: " ~ source('s', 'my_seed'), info=True) %}
{% do log("SOURCE RENDER: " ~ source('s', 'my_seed').render(), info=True) %}
{% endif %}
select * from {{ ref('my_seed') }}
"""
    files = {"seeds/my_seed.csv": SEED, "models/sources.yml": SOURCES, "models/m.sql": logging}
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed")
    output = run(root, "run", "--empty")
    limited = '(select * from "test"."main"."my_seed" where false limit 0)'
    assert f"STR: {limited}\n" in output
    assert 'RENDER: "test"."main"."my_seed"\n' in output
    assert 'INCLUDE: (select * from "main"."my_seed" where false limit 0)\n' in output
    assert f"SOURCE: {limited}\n" in output
    assert 'SOURCE RENDER: "test"."main"."my_seed"\n' in output
    assert query(db(root), "select count(*) from m") == [(0,)]
    output = run(root, "run")
    assert 'STR: "test"."main"."my_seed"\n' in output
    assert query(db(root), "select count(*) from m") == [(2,)]


def test_ddl_on_a_ref_uses_render(tmp_path: Path) -> None:
    """A hook writing into ``{{ ref('x').render() }}`` works with --empty; into ``{{ ref('x') }}`` it is a syntax
    error, as in dbt (the printed relation is the limiting subquery)."""
    rendered = (
        "{{ config(materialized='table', post_hook=\"insert into {{ ref('my_seed').render() }} values (9, 'z')\") }}\n"
    )
    printed = "{{ config(materialized='table', post_hook=\"insert into {{ ref('my_seed') }} values (9, 'z')\") }}\n"
    files = {
        "seeds/my_seed.csv": SEED,
        "models/rendered.sql": rendered + "select * from {{ ref('my_seed') }}\n",
        "models/printed.sql": printed + "select * from {{ ref('my_seed') }}\n",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed")
    run(root, "run", "--empty", "--select", "rendered")
    assert query(db(root), "select my_id from my_seed order by 1") == [(1,), (2,), (9,)]
    output = run(root, "run", "--empty", "--select", "printed", expect=1)
    assert "syntax error" in output and 'insert into (select * from "test"."main"."my_seed" where false' in output


def test_metadata_macros_on_limited_relations(tmp_path: Path) -> None:
    """dbt's column and relation macros take a ref() relation and address the table itself."""
    model = """{{ config(materialized='table') }}
{% set columns = adapter.get_columns_in_relation(ref('my_seed')) %}
{% do log("COLUMNS: " ~ (columns | map(attribute='name') | join(',')), info=True) %}
{{ alter_column_type(ref('my_seed'), 'my_value', 'varchar(20)') }}
{% do alter_relation_add_remove_columns(ref('my_seed'), [api.Column('extra', 'integer')], none) %}
select * from {{ ref('my_seed') }}
"""
    root = dbt_project(tmp_path / "test", {"seeds/my_seed.csv": SEED, "models/m.sql": model})
    run(root, "seed")
    output = run(root, "run", "--empty")
    assert "COLUMNS: my_id,my_value\n" in output
    assert [c for (c,) in query(db(root), "select column_name from duckdb_columns() where table_name = 'm'")] == [
        "my_id",
        "my_value",
        "extra",
    ]
    assert query(db(root), "select count(*) from m") == [(0,)]


def test_microbatch_window_wraps_the_limited_relation(tmp_path: Path) -> None:
    """With --empty, a microbatch input reads the limited subquery, filtered to the window (dbt's order)."""
    files = {
        "models/ev.sql": "{{ config(materialized='table', event_time='ts') }}\n"
        "select timestamp '2024-01-01 10:00:00' as ts, 1 as id\n",
        "models/mb.sql": "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', "
        "batch_size='day', begin='2024-01-01') }}\n"
        "{% do log('REF: ' ~ ref('ev') ~ ' | ' ~ ref('ev').render(), info=True) %}\n"
        "select * from {{ ref('ev') }}\n",
    }
    root = dbt_project(tmp_path / "test", files)
    run(root, "run", "--select", "ev")
    window = ("--event-time-start", "2024-01-01", "--event-time-end", "2024-01-02")
    output = run(root, "run", "--empty", "--select", "mb", *window)
    assert (
        """REF: (select * from (select * from "test"."main"."ev" where false limit 0) where ts >= """
        """'2024-01-01 00:00:00+00:00' and ts < '2024-01-02 00:00:00+00:00') | "test"."main"."ev\"\n"""
    ) in output
    assert query(db(root), "select count(*) from mb") == [(0,)]
    output = run(root, "run", "--select", "mb", *window)
    assert (
        """REF: (select * from "test"."main"."ev" where ts >= '2024-01-01 00:00:00+00:00' and """
        """ts < '2024-01-02 00:00:00+00:00') | "test"."main"."ev\"\n"""
    ) in output
    assert query(db(root), "select id from mb") == [(1,)]
