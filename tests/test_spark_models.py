"""The spark adapter on a local session: every materialization and strategy, seeds, snapshots, tests,
comments, the catalog, and the build-then-swap replacement (a failure keeps the previous table; a
run drops what an interrupted one left behind)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import run_cli
from spark_support import adapter_for, relations, rows, session_output, spark_project

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

SEEDS = {
    "seeds/_seeds.yml": """\
        version: 2
        seeds:
          - name: people
            config:
              event_time: joined
    """,
    "seeds/people.csv": """\
        id,name,score,joined,active
        1,Ann,1.5,2024-01-01,true
        2,Bob,,2024-02-01,false
        3,O'Hara,3,2024-03-01,true
    """,
}

MODELS = {
    "models/people_view.sql": "select id, name, score from {{ ref('people') }}\n",
    "models/people_table.sql": """\
        {{ config(materialized='table', partition_by=['active'], file_format='parquet') }}
        select id, name, joined, active from {{ ref('people') }}
    """,
    "models/shape.sql": """\
        {{ config(materialized=('table' if var('phase', 1) == 1 else 'view')) }}
        select {{ var('phase', 1) }} as phase
    """,
    "models/events_append.sql": """\
        {{ config(materialized='incremental') }}
        select {{ var('phase', 1) }} as phase, id from {{ ref('people') }}
    """,
    "models/events_overwrite.sql": """\
        {{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['day']) }}
        {% if var('phase', 1) == 1 %}
        select 1 as id, 'a' as v, date'2024-01-01' as day
        union all select 2, 'b', date'2024-01-02'
        {% else %}
        select 3 as id, 'c' as v, date'2024-01-02' as day
        {% endif %}
    """,
    "models/replaced_whole.sql": """\
        {{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}
        {% if var('phase', 1) == 1 %}select 1 as id, 'a' as v union all select 2, 'b'
        {% else %}select 3 as id, 'c' as v{% endif %}
    """,
    "models/events_merge.sql": """\
        {{ config(materialized='incremental', incremental_strategy='merge', unique_key='id',
                  merge_update_columns=['v'], on_schema_change='append_new_columns') }}
        {% if var('phase', 1) == 1 %}
        select 1 as id, 'a' as v, 'x' as tag union all select 2, 'b', 'x'
        {% else %}
        select 2 as id, 'B' as v, 'y' as tag, 20 as extra union all select 3, 'c', 'y', 30
        {% endif %}
    """,
    "models/events_di.sql": """\
        {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key=['id', 'k'],
                  file_format='orc') }}
        {% if var('phase', 1) == 1 %}
        select 1 as id, 'a' as k, 'v1' as v union all select 1, 'b', 'v1' union all select 2, 'a', 'v1'
        {% else %}
        select 1 as id, 'a' as k, 'v2' as v
        {% endif %}
    """,
    "models/by_year.sql": """\
        {{ config(materialized='incremental', incremental_strategy='microbatch', event_time='joined',
                  batch_size='year', begin='2024-01-01') }}
        select id, {% if var('phase', 1) == 1 %}name{% else %}upper(name){% endif %} as name, joined
        from {{ ref('people') }}
    """,
    "models/_models.yml": """\
        version: 2
        sources:
          - name: raw
            schema: models_a
            loaded_at_field: cast(joined as timestamp)
            freshness:
              warn_after: {count: 1, period: day}
            tables:
              - name: people
        models:
          - name: people_view
            description: People, as a view.
            config:
              persist_docs: {relation: true, columns: true}
            columns:
              - name: name
                description: What they are called.
          - name: people_table
            description: People, as a table.
            config:
              persist_docs: {relation: true, columns: true}
            columns:
              - name: id
                description: The person.
                data_tests: [unique, not_null]
          - name: events_merge
            columns:
              - name: id
                data_tests: [unique]
        unit_tests:
          - name: names_pass_through
            model: people_view
            given:
              - input: ref('people')
                rows:
                  - {id: 7, name: "O'Neil", score: 2.5}
            expect:
              rows:
                - {id: 7, name: "O'Neil", score: 2.5}
    """,
    "snapshots/thing_snap.sql": """\
        {% snapshot thing_snap %}
        {{ config(unique_key='id', strategy='check', check_cols=['v'], hard_deletes='invalidate') }}
        {% if var('phase', 1) == 1 %}
        select 1 as id, 'a' as v union all select 3, 'c'
        {% else %}
        select 1 as id, 'A' as v union all select 2, 'b'
        {% endif %}
        {% endsnapshot %}
    """,
}


def test_every_materialization_and_strategy_builds_twice(tmp_path: Path, spark_dirs) -> None:
    root = spark_project(tmp_path / "p", session_output(spark_dirs, "models_a"), {**SEEDS, **MODELS})
    first = run_cli("build", cwd=root)
    assert first.exit_code == 0, first.output
    assert "Registered adapter: spark=4.0" in first.output
    second = run_cli(
        "build", "--vars", "phase: 2", "--event-time-start", "2024-01-01", "--event-time-end", "2025-01-01", cwd=root
    )
    assert second.exit_code == 0, second.output

    def table(name: str, order: str = "id") -> list[tuple]:
        return rows(root, f"select * from models_a.{name} order by {order}")

    # the profile's server_side_parameters are the session's settings
    assert rows(root, "set spark.sql.shuffle.partitions") == [("spark.sql.shuffle.partitions", "2")]
    java = rows(root, "set spark.driver.extraJavaOptions")[0][1]  # the profile's options, then modelkit's
    assert java.startswith("-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dderby.system.home="), java
    # seeds: inferred types (bigint, string, double, date, boolean), NULL for an empty field, quotes kept
    assert table("people") == [
        (1, "Ann", 1.5, dt.date(2024, 1, 1), True),
        (2, "Bob", None, dt.date(2024, 2, 1), False),
        (3, "O'Hara", 3.0, dt.date(2024, 3, 1), True),
    ]
    assert rows(
        root, "select typeof(id), typeof(score), typeof(joined), typeof(active) from models_a.people limit 1"
    ) == [("bigint", "double", "date", "boolean")]
    assert table("people_view") == [(1, "Ann", 1.5), (2, "Bob", None), (3, "O'Hara", 3.0)]
    # partition columns come last in a partitioned table
    assert table("people_table") == [
        (1, "Ann", dt.date(2024, 1, 1), True),
        (2, "Bob", dt.date(2024, 2, 1), False),
        (3, "O'Hara", dt.date(2024, 3, 1), True),
    ]
    show = rows(root, "show create table models_a.people_table")[0][0]
    assert "USING parquet" in show and "PARTITIONED BY (active)" in show
    assert "COMMENT 'People, as a table.'" in show and "COMMENT 'The person.'" in show
    # a table replaced by a view (swapped in)
    kinds = relations(root, "models_a")
    assert kinds["shape"] == "view" and table("shape", "phase") == [(2,)]
    assert table("events_append", "phase, id") == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    # insert_overwrite: the partition of day 2 replaced, day 1 kept
    assert table("events_overwrite") == [(1, "a", dt.date(2024, 1, 1)), (3, "c", dt.date(2024, 1, 2))]
    # insert_overwrite without partitions: the whole table replaced
    assert table("replaced_whole") == [(3, "c")]
    # merge: id 2 updated in its merge_update_columns only, id 3 inserted, a new column appended
    assert table("events_merge") == [(1, "a", "x", None), (2, "B", "x", None), (3, "c", "y", 30)]
    # delete+insert on a two-column key, rewritten in the table's own format
    assert table("events_di", "id, k") == [(1, "a", "v2"), (1, "b", "v1"), (2, "a", "v1")]
    assert "USING orc" in rows(root, "show create table models_a.events_di")[0][0]
    # snapshot: id 1 changed (old version closed), id 3 deleted (closed), id 2 new
    history = rows(
        root,
        "select id, v, dbt_valid_to is null from models_a.thing_snap order by id, dbt_valid_from, v",
    )
    assert history == [(1, "a", False), (1, "A", True), (2, "b", True), (3, "c", False)]
    # microbatch: the year 2024 rebuilt (--event-time-start/-end), its rows replaced, none doubled
    assert table("by_year") == [
        (1, "ANN", dt.date(2024, 1, 1)),
        (2, "BOB", dt.date(2024, 2, 1)),
        (3, "O'HARA", dt.date(2024, 3, 1)),
    ]
    # nothing temporary is left
    assert not [name for name in kinds if "__dbt_tmp" in name], kinds

    fresh = run_cli("source", "freshness", cwd=root)
    assert fresh.exit_code == 0, fresh.output
    sources = json.loads((root / "target" / "sources.json").read_text())
    assert [(r["unique_id"], r["status"], r["max_loaded_at"][:10]) for r in sources["results"]] == [
        ("source.demo.raw.people", "warn", "2024-03-01")
    ]

    docs = run_cli("docs", "generate", cwd=root)
    assert docs.exit_code == 0, docs.output
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    view = catalog["nodes"]["model.demo.people_view"]
    assert view["metadata"]["type"] == "VIEW" and view["metadata"]["comment"] == "People, as a view."
    assert view["columns"]["name"]["comment"] == "What they are called."
    assert [c["type"] for c in sorted(view["columns"].values(), key=lambda c: c["index"])] == [
        "bigint",
        "string",
        "double",
    ]
    people_table = catalog["nodes"]["model.demo.people_table"]
    assert people_table["metadata"]["comment"] == "People, as a table."
    assert people_table["columns"]["id"]["comment"] == "The person."


def test_a_failed_build_keeps_the_previous_table(tmp_path: Path, spark_dirs) -> None:
    files = {
        "models/t.sql": """\
            {{ config(materialized='table') }}
            select id, case when id = 3 and {{ var('fail', false) }} then raise_error('boom') else 'ok' end as status
            from (select explode(sequence(1, 3)) as id)
        """,
        "models/inc.sql": """\
            {{ config(materialized='incremental', incremental_strategy='merge', unique_key='id') }}
            select id, case when id = 3 and {{ var('fail', false) }} then raise_error('boom') else 'v1' end as v
            from (select explode(sequence(1, 3)) as id)
        """,
    }
    root = spark_project(tmp_path / "p", session_output(spark_dirs, "models_b"), files)
    assert run_cli("run", cwd=root).exit_code == 0
    failed = run_cli("run", "--vars", "fail: true", cwd=root)
    assert failed.exit_code == 1, failed.output
    assert "boom" in failed.output
    assert rows(root, "select id, status from models_b.t order by id") == [(1, "ok"), (2, "ok"), (3, "ok")]
    assert rows(root, "select id, v from models_b.inc order by id") == [(1, "v1"), (2, "v1"), (3, "v1")]
    assert sorted(relations(root, "models_b")) == ["inc", "t"]


def test_a_run_drops_temporary_tables_an_interrupted_run_left(tmp_path: Path, spark_dirs) -> None:
    root = spark_project(tmp_path / "p", session_output(spark_dirs, "models_c"), {"models/t.sql": "select 1 as id\n"})
    adapter = adapter_for(root)
    try:
        adapter.execute("create schema if not exists models_c")
        # what a run killed mid-build leaves: a half-built table, a staging table of another model
        adapter.execute("create table models_c.t__dbt_tmp0123456789ab using parquet as select 1 as id")
        adapter.execute("create table models_c.gone__dbt_tmpba9876543210 using parquet as select 2 as id")
        adapter.execute("create table models_c.keep_me using parquet as select 3 as id")
    finally:
        adapter.close()
    result = run_cli("run", "--threads", "1", cwd=root)
    assert result.exit_code == 0, result.output
    assert relations(root, "models_c") == {"keep_me": "table", "t": "view"}


def test_seed_column_types_and_show(tmp_path: Path, spark_dirs) -> None:
    root = spark_project(
        tmp_path / "p",
        session_output(spark_dirs, "models_d"),
        SEEDS,
        project={"seeds": {"demo": {"people": {"+column_types": {"id": "int", "score": "decimal(5,2)"}}}}},
    )
    result = run_cli("seed", cwd=root)
    assert result.exit_code == 0, result.output
    assert "INSERT 3" in result.output
    assert rows(root, "select id, score, typeof(id), typeof(score) from models_d.people order by id") == [
        (1, Decimal("1.50"), "int", "decimal(5,2)"),
        (2, None, "int", "decimal(5,2)"),
        (3, Decimal("3.00"), "int", "decimal(5,2)"),
    ]
    shown = run_cli("show", "--select", "people", "--limit", "2", cwd=root)
    assert shown.exit_code == 0, shown.output
    assert sum(name in shown.output for name in ("Ann", "Bob", "O'Hara")) == 2


PERSIST = {"+persist_docs": {"relation": True, "columns": True}}
DOCS_FILES = {
    "seeds/s.csv": "id,name\n1,a\n",
    "models/inc.sql": """\
        {{ config(materialized='incremental', unique_key='id', incremental_strategy='merge') }}
        select id, name from {{ ref('s') }}
    """,
    "models/headed.sql": """\
        {{ config(materialized='table',
                  sql_header="create or replace temporary view modelkit_header_rows as select 7 as id;") }}
        select id from modelkit_header_rows
    """,
    "snapshots/snap.sql": """\
        {% snapshot snap %}
        {{ config(unique_key='id', strategy='check', check_cols='all') }}
        select * from {{ ref('s') }}
        {% endsnapshot %}
    """,
    "models/schema.yml": """\
        version: 2
        models:
          - {name: inc, description: "inc, it's", columns: [{name: id, description: inc id}, {name: gone, description: x}]}
          - {name: headed, description: headed desc, columns: [{name: id, description: headed id}]}
        seeds:
          - {name: s, description: seed s, columns: [{name: id, description: s id}]}
        snapshots:
          - {name: snap, description: snap desc, columns: [{name: id, description: snap id}]}
    """,
}


def test_persist_docs_on_seeds_incremental_models_and_snapshots_and_sql_header(tmp_path: Path, spark_dirs) -> None:
    """Comments as table properties and column comments on every kind of table, kept by a second run (a merge
    rewrite, a snapshot update); a model's sql_header runs in the session just before its DDL."""
    config = {
        "models": {"demo": PERSIST},
        "seeds": {"demo": PERSIST},
        "snapshots": {"demo": {**PERSIST, "+target_schema": "docs_hdr"}},
    }
    root = spark_project(tmp_path / "p", session_output(spark_dirs, "docs_hdr"), DOCS_FILES, project=config)
    expected = {"inc": ("inc, it's", "inc id"), "headed": ("headed desc", "headed id"), "s": ("seed s", "s id"),
                "snap": ("snap desc", "snap id")}  # fmt: skip
    for run in range(2):
        result = run_cli("build", cwd=root)
        assert result.exit_code == 0, result.output
        assert "The following columns are specified in the schema but are not present in the database: gone" in (
            result.output
        )
        for name, (relation, column) in expected.items():
            described = rows(root, f"describe table extended docs_hdr.{name}")
            assert ("Comment", relation) in [(r[0], r[1]) for r in described], (run, name, described)
            assert ("id", column) in [(r[0], r[2]) for r in described], (run, name, described)
    assert rows(root, "select id from docs_hdr.headed") == [(7,)]
