"""PostgreSQL: seeds through COPY, snapshots, data and unit tests, freshness, the catalog, show, run-operation."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pg_support
import pytest
from conftest import run_cli, write_files
from pg_projects import pg_project, rows

pytestmark = pytest.mark.postgres
DB = "modelkit_stateful"

SEED = """\
id,name,amount,price,day,ts,flag,big,empty,code
1,a,10,1.5,2024-01-01,2024-01-01 10:00:00,true,3000000000,,007
2,b,20,2.25,2024-01-02,2024-01-02T11:30:00,false,1,,008
3,null,,3,2024-01-03,2024-01-03 12:00:00,True,2,,009
"""


@pytest.fixture(scope="module")
def server(pg_server: pg_support.Server) -> pg_support.Server:
    pg_support.create_database(pg_server, DB)
    return pg_server


def column_types(server: pg_support.Server, schema: str, table: str) -> dict[str, str]:
    return dict(
        rows(
            server,
            DB,
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = '{schema}' and table_name = '{table}' order by ordinal_position",
        )
    )


def test_seeds_infer_dbt_postgres_types_and_load_through_copy(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "seeds",
        {"seeds/things.csv": SEED},
        project={"seeds": {"demo": {"things": {"+column_types": {"code": "varchar(3)"}}}}},
    )
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 0, out.output
    assert "OK loaded seed file seeds.things" in out.output and "[INSERT 3 in " in out.output
    assert column_types(server, "seeds", "things") == {
        "id": "integer", "name": "text", "amount": "integer", "price": "double precision", "day": "date",
        "ts": "timestamp without time zone", "flag": "boolean", "big": "bigint", "empty": "integer",
        "code": "character varying",
    }  # fmt: skip
    assert rows(server, DB, "select * from seeds.things order by id") == [
        (1, "a", 10, 1.5, datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1, 10), True, 3000000000, None, "007"),
        (2, "b", 20, 2.25, datetime.date(2024, 1, 2), datetime.datetime(2024, 1, 2, 11, 30), False, 1, None, "008"),
        (3, None, None, 3.0, datetime.date(2024, 1, 3), datetime.datetime(2024, 1, 3, 12), True, 2, None, "009"),
    ]  # fmt: skip

    # a second load empties and refills the same table (a view on it survives); new columns need --full-refresh
    with server.connect(DB) as con:
        con.execute("create view seeds.on_things as select id from seeds.things")
    write_files(root, {"seeds/things.csv": SEED.splitlines()[0] + "\n4,d,1,1,2024-01-04,2024-01-04,false,1,,010\n"})
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 0, out.output
    assert rows(server, DB, "select id from seeds.on_things") == [(4,)]
    write_files(root, {"seeds/things.csv": "id,other\n5,x\n"})
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 1 and "no longer match the table" in out.output and "--full-refresh" in out.output
    assert rows(server, DB, "select id from seeds.things") == [(4,)]  # unchanged
    out = run_cli("seed", "--full-refresh", cwd=root)
    assert out.exit_code == 0, out.output
    assert rows(server, DB, "select * from seeds.things") == [(5, "x")]


def test_a_value_that_does_not_fit_names_the_file_line(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "seed_error",
        {"seeds/nums.csv": "id,n\n1,2\n2,3\n3,oops\n"},
        project={"seeds": {"demo": {"+column_types": {"n": "integer"}}}},
    )
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 1, out.output
    assert "Could not load seeds/nums.csv, line 4: invalid input syntax for type integer" in out.output
    assert rows(server, DB, "select count(*) from pg_tables where schemaname = 'seed_error'") == [(0,)]


SNAPSHOTS = """
{% snapshot by_time %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', target_schema='snaps',
          hard_deletes='invalidate') }}
select * from {{ ref('people') }}
{% endsnapshot %}

{% snapshot by_check %}
{{ config(unique_key='id', strategy='check', check_cols=['name'], target_schema='snaps') }}
select id, name from {{ ref('people') }}
{% endsnapshot %}
"""


def test_snapshots_record_history(server: pg_support.Server, tmp_path: Path) -> None:
    people = "id,name,updated_at\n1,Ann,2024-01-01 00:00:00\n2,Bob,2024-01-01 00:00:00\n"
    root = pg_project(tmp_path, server, DB, "snaps", {"seeds/people.csv": people, "snapshots/snaps.sql": SNAPSHOTS})
    assert run_cli("seed", cwd=root).exit_code == 0
    out = run_cli("snapshot", cwd=root)
    assert out.exit_code == 0, out.output
    write_files(root, {"seeds/people.csv": "id,name,updated_at\n1,Anne,2024-02-01 00:00:00\n"})
    assert run_cli("seed", cwd=root).exit_code == 0
    out = run_cli("snapshot", cwd=root)
    assert out.exit_code == 0, out.output
    history = rows(
        server,
        DB,
        "select id, name, dbt_valid_from, dbt_valid_to is null from snaps.by_time order by id, dbt_valid_from",
    )
    jan, feb = datetime.datetime(2024, 1, 1), datetime.datetime(2024, 2, 1)
    assert history[0] == (1, "Ann", jan, False)
    assert history[1] == (1, "Anne", feb, True)
    assert history[2][:2] == (2, "Bob") and history[2][3] is False  # gone from the source: closed
    checked = rows(server, DB, "select id, name, dbt_valid_to is null from snaps.by_check order by id, dbt_valid_from")
    assert checked == [(1, "Ann", False), (1, "Anne", True), (2, "Bob", True)]  # hard_deletes: ignore


TESTS_YML = """
version: 2
models:
  - name: orders
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values:
              arguments: {values: [open, closed]}
      - name: customer_id
        data_tests:
          - relationships:
              arguments: {to: ref('customers'), field: id}
              config: {store_failures: true}
unit_tests:
  - name: counts_orders
    model: per_customer
    given:
      - input: ref('orders')
        rows:
          - {id: 1, customer_id: 7, status: open}
          - {id: 2, customer_id: 7, status: closed}
    expect:
      rows:
        - {customer_id: 7, n: 2}
  - name: wrong_expectation
    model: per_customer
    given:
      - input: ref('orders')
        rows:
          - {id: 1, customer_id: 7, status: open}
    expect:
      rows:
        - {customer_id: 7, n: 5}
"""


def test_data_and_unit_tests(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "tests",
        {
            "models/customers.sql": "select * from (values (7), (8)) as c(id)",
            "models/orders.sql": (
                "select * from (values (1, 7, 'open'), (2, 8, 'closed'), (2, 9, 'lost')) as o(id, customer_id, status)"
            ),
            "models/per_customer.sql": "select customer_id, count(*) as n from {{ ref('orders') }} group by 1",
            "models/_tests.yml": TESTS_YML,
            "tests/no_big_ids.sql": "select * from {{ ref('orders') }} where id > 100",
        },
    )
    assert run_cli("run", cwd=root).exit_code == 0
    out = run_cli("test", cwd=root)  # data tests run a batch at a time (one statement for several tests)
    assert out.exit_code == 1, out.output
    for line in (
        "PASS not_null_orders_id",
        "FAIL 1 unique_orders_id",
        "FAIL 1 accepted_values_orders_status__open__closed",
        "FAIL 1 relationships_orders_customer_id__id__ref_customers_",
        "PASS no_big_ids",
        "PASS per_customer::counts_orders",
        "FAIL 1 per_customer::wrong_expectation",
    ):
        assert line in out.output, line
    assert "actual differs from expected" in out.output
    stored = rows(
        server, DB, 'select * from "tests_dbt_test__audit"."relationships_orders_customer_id__id__ref_customers_"'
    )
    assert stored == [(9,)]
    # built with its tests, a model that fails one skips what depends on it
    out = run_cli("build", cwd=root)
    assert out.exit_code == 1
    assert "FAIL 1 unique_orders_id" in out.output and "SKIP relation tests.per_customer" in out.output


SOURCES = """
version: 2
sources:
  - name: raw
    schema: fresh
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: recent
      - name: stale
"""


def test_source_freshness(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "fresh",
        {"models/_sources.yml": SOURCES, "models/noop.sql": "select 1 as x"},
        project={
            "on-run-start": [
                "create table if not exists fresh.recent as select now() - interval '5 minutes' as loaded_at",
                "create table if not exists fresh.stale as select (now() - interval '2 days')::timestamp as loaded_at",
            ]
        },
    )
    assert run_cli("run", cwd=root).exit_code == 0
    out = run_cli("source", "freshness", cwd=root)
    assert out.exit_code == 1, out.output
    assert "PASS freshness of raw.recent" in out.output and "ERROR STALE freshness of raw.stale" in out.output
    results = {r["unique_id"]: r for r in json.loads((root / "target/sources.json").read_text())["results"]}
    assert 250 < results["source.demo.raw.recent"]["max_loaded_at_time_ago_in_s"] < 3000
    assert results["source.demo.raw.stale"]["status"] == "error"


def test_catalog_show_and_run_operation(server: pg_support.Server, tmp_path: Path) -> None:
    root = pg_project(
        tmp_path,
        server,
        DB,
        "docs",
        {
            "models/t.sql": "{{ config(materialized='table') }}\nselect 1::int as id, 'x'::varchar(5) as label",
            "models/v.sql": "select id from {{ ref('t') }}",
            "models/_docs.yml": "version: 2\nmodels:\n  - name: t\n    description: The table.\n",
            "macros/ops.sql": (
                "{% macro count_rows(name) %}{% set n = run_query('select count(*) from ' ~ ref(name)) %}"
                "{{ log('rows: ' ~ n.columns[0].values()[0], info=true) }}{% endmacro %}"
            ),
        },
    )
    assert run_cli("run", cwd=root).exit_code == 0
    out = run_cli("docs", "generate", cwd=root)
    assert out.exit_code == 0, out.output
    catalog = json.loads((root / "target/catalog.json").read_text())
    table = catalog["nodes"]["model.demo.t"]
    assert table["metadata"]["type"] == "BASE TABLE" and table["metadata"]["owner"] == server.user
    assert table["metadata"]["database"] == DB and table["metadata"]["schema"] == "docs"
    assert {n: c["type"] for n, c in table["columns"].items()} == {"id": "integer", "label": "character varying(5)"}
    assert catalog["nodes"]["model.demo.v"]["metadata"]["type"] == "VIEW"

    out = run_cli("show", "-s", "t", cwd=root)
    assert out.exit_code == 0 and "| id | label |" in out.output and "| 1  | x     |" in out.output
    out = run_cli("show", "--inline", "select 40 + 2 as answer", cwd=root)
    assert "| 42     |" in out.output
    out = run_cli("run-operation", "count_rows", "--args", "{name: v}", cwd=root)
    assert out.exit_code == 0 and "rows: 1" in out.output, out.output


def test_batched_data_tests_decode_to_the_values_each_test_gives_alone(server: pg_support.Server) -> None:
    """BATCHED_TESTS on PostgreSQL: values carried as text with pg_typeof come back as run alone."""
    from modelkit.adapters.postgres import PostgresAdapter
    from modelkit.project.profiles import Target

    output = pg_support.profile_output(server, DB, "public")
    adapter = PostgresAdapter(Target("demo", "pg", "postgres", "public", DB, 1, output, "test"))
    adapter.open()
    try:
        sql = adapter.sql
        wrapped = [
            sql.test_wrapper("select 1 as x union all select 2", "count(*)", "!= 0", "> 1", None),
            sql.test_wrapper("select 1.5::float8 as v union all select 0.1", "sum(v)", "> 1", "> 10", None),
            sql.test_wrapper("select 2.25::numeric as v", "sum(v)", "!= 0", "!= 0", None),
            sql.test_wrapper("select 1 as x where false", "count(*)", "!= 0", "!= 0", 5),
        ]
        batch = adapter.execute(sql.union_all([sql.test_batch_branch(i, w) for i, w in enumerate(wrapped)]), fetch=True)
        by_index = {row[0]: row for row in batch.rows}
        for index, single in enumerate(wrapped):
            alone = adapter.execute(single, fetch=True).rows[0]
            row = by_index[index]
            decoded = tuple(sql.decode_text(row[1 + 2 * i], row[2 + 2 * i]) for i in range(3))
            assert decoded == alone
            assert [type(v) for v in decoded] == [type(v) for v in alone]
    finally:
        adapter.close()
