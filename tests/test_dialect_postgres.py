"""DuckDB SQL translated for PostgreSQL, checked against a real server: the same rows as DuckDB gives,
each rewrite needed, the functions and types reported really missing, and projects whose SQL does
not translate stopped before anything runs."""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pg_support
import psycopg
import pytest
import sqlglot
from conftest import run_cli
from dialect_support import SAME_RESULTS, translated
from pg_projects import pg_project, relations

from modelkit.dialects.duckdb_only import DUCKDB_ONLY
from modelkit.dialects.types import build, translate_type

pytestmark = pytest.mark.postgres
DB = "modelkit_dialects"
ROWS = [
    (1, 2, 2.5, "1.25", "x", "2024-01-01", "2024-01-01 10:00:00", [1, 2]),
    (-7, 2, -2.5, "-3.50", "y", "2024-02-29", "2024-03-01 23:59:00", []),
    (5, -3, 0.125, "0.05", "x", "2023-12-31", "2024-01-01 00:00:00", [3]),
    (4, 4, 1234.5678, "10.00", "z", "2024-06-15", "2024-06-16 12:30:00", [4, 5, 6]),
    (0, 7, -0.5, "0.00", "y", "2024-01-01", "2024-01-10 08:00:00", [7]),
    (None, 3, None, None, None, None, None, None),
]


@pytest.fixture(scope="module")
def engines(pg_server: pg_support.Server) -> Any:
    """The table ``t`` of dialect_support, with the same rows in DuckDB and in PostgreSQL."""
    pg_support.create_database(pg_server, DB)
    duck = duckdb.connect()
    duck.execute(
        "create table t (a integer, b integer, d double, n decimal(10,2), s varchar, dt date, ts timestamp, "
        "l integer[], st struct(x integer, y varchar))"
    )
    with pg_server.connect(DB) as pg:
        pg.execute(
            "create table t (a integer, b integer, d double precision, n numeric(10,2), s text, dt date, "
            "ts timestamp, l integer[])"
        )
        for row in ROWS:
            duck.execute("insert into t values (?, ?, ?, ?, ?, ?, ?, ?, {'x': 1, 'y': 'q'})", list(row))
            pg.execute("insert into t values (%s, %s, %s, %s, %s, %s, %s, %s)", list(row))
    yield duck, pg_server
    duck.close()


def normal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def key(row: list[Any]) -> tuple[str, ...]:
    return tuple(f"{v:.6f}" if isinstance(v, float) else repr(v) for v in row)


def same(left: list[list[Any]], right: list[list[Any]]) -> bool:
    if len(left) != len(right):
        return False
    for a_row, b_row in zip(left, right):
        for a, b in zip(a_row, b_row):
            if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
                if not math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif a != b:
                return False
    return True


def both(engines: Any, duckdb_sql: str, postgres_sql: str) -> tuple[list[list[Any]], list[list[Any]]]:
    """The rows of the DuckDB query on DuckDB and of the PostgreSQL one on PostgreSQL, normalised (and
    sorted, unless the query ends with its own ORDER BY)."""
    duck, server = engines
    ordered = bool(re.search(r"order by [^)]*$", duckdb_sql))
    left = [[normal(v) for v in row] for row in duck.execute(duckdb_sql).fetchall()]
    with server.connect(DB) as pg:
        right = [[normal(v) for v in row] for row in pg.execute(postgres_sql).fetchall()]
    if not ordered:
        left, right = sorted(left, key=key), sorted(right, key=key)
    return left, right


@pytest.mark.parametrize("sql", SAME_RESULTS)
def test_translations_give_duckdbs_rows_on_postgresql(engines: Any, sql: str) -> None:
    found = translated(sql, "postgres")
    assert not found.findings, found.findings
    left, right = both(engines, sql, found.sql)
    assert same(left, right), f"{found.sql}\nDuckDB:     {left}\nPostgreSQL: {right}"


@pytest.mark.parametrize(
    "sql",
    [
        "select round(d) as r from t",  # PostgreSQL rounds a double's halves to even
        "select round(d, 2) as r from t",  # no round(double precision, integer)
        "select len(l) as n from t",  # no length(integer[]); array_length is NULL for []
        "select array_length(l) as n from t",
        "select strftime(ts, 'week %V of %Y') as w from t",  # the W of 'week' is a pattern in to_char
        "select any_value(a) as v from t",  # none in PostgreSQL 15
        "select s, count(*) as c from t group by all",
        "select * exclude (l, st) from t",
        "select a + 1 as x, x * 2 as y from t",
        "select ts + interval (a) day as later from t",
    ],
)
def test_each_rewrite_is_needed(engines: Any, sql: str) -> None:
    """sqlglot's own translation of these gives other rows, or an error, on PostgreSQL."""
    plain = sqlglot.transpile(sql, read="duckdb", write="postgres")[0]
    assert plain != translated(sql, "postgres").sql
    try:
        left, right = both(engines, sql, plain)
    except psycopg.Error:
        return
    assert not same(left, right), plain


def test_avg_keeps_duckdbs_double(engines: Any) -> None:
    _, server = engines
    found = translated("select avg(a) as m, avg(n) as k from t", "postgres")
    with server.connect(DB) as pg:
        types = pg.execute(f"select pg_typeof(m)::text, pg_typeof(k)::text from ({found.sql}) as q").fetchone()
    assert types == ("double precision", "double precision")


def test_functions_reported_as_duckdb_only_are_not_in_postgresql(engines: Any) -> None:
    _, server = engines
    with server.connect(DB) as pg:
        names = {r[0] for r in pg.execute("select distinct lower(proname) from pg_proc").fetchall()}
        version = pg.execute("show server_version_num").fetchone()[0]
    assert int(version) >= 150000
    assert not DUCKDB_ONLY["postgres"] & names, sorted(DUCKDB_ONLY["postgres"] & names)
    known = {r[0] for r in duckdb.connect().execute("select distinct function_name from duckdb_functions()").fetchall()}
    assert len(DUCKDB_ONLY["postgres"] & known) > 0.9 * len(DUCKDB_ONLY["postgres"])


DUCKDB_TYPES = [
    *"boolean tinyint smallint integer bigint hugeint utinyint usmallint uinteger ubigint uhugeint float double".split(),
    *"decimal varchar text blob date time timestamp timestamptz interval uuid json bit timestamp_ns".split(),
    *("decimal(10,2)", "integer[]", "varchar[]", "struct(a integer)", "map(varchar, integer)", "union(a integer)"),
]


@pytest.mark.parametrize("duckdb_type", DUCKDB_TYPES)
def test_types_translate_or_are_reported(engines: Any, duckdb_type: str) -> None:
    """A type that translates exists in PostgreSQL; one that is reported would have failed there (or,
    for BIT, cut the value to its first bit)."""
    _, server = engines
    spelled, problem = translate_type(duckdb_type, "duckdb", "postgres")
    with server.connect(DB) as pg:
        if problem is None:
            pg.execute(f"select cast(null as {spelled})")
        elif duckdb_type == "bit":
            assert pg.execute("select pg_typeof(cast('1' as bit))::text").fetchone() == ("bit",)
            # DuckDB's BIT holds any number of bits; PostgreSQL's keeps the first one
            assert pg.execute("select cast('1010' as bit)::text").fetchone() == ("1",)
            assert duckdb.connect().execute("select cast('1010' as bit)::varchar").fetchone() == ("1010",)
        else:
            with pytest.raises(psycopg.Error):
                pg.execute(f"select cast(null as {build(duckdb_type, 'duckdb').sql(dialect='postgres')})")


def test_a_project_whose_sql_does_not_translate_runs_nothing(engines: Any, tmp_path: Path) -> None:
    _, server = engines
    root = pg_project(
        tmp_path,
        server,
        DB,
        "stopped",
        {
            "seeds/people.csv": "id,name,score\n1,Ann,2.5\n2,Bob,3.5\n",
            "models/people_clean.sql": "select * exclude (score) from {{ ref('people') }}",
            "models/scores.sql": (
                "select id,\n    round(score, 1) as score,\n    list_sum([score, 1]) as plus\nfrom {{ ref('people') }}"
            ),
            "models/unknown.sql": "select * exclude (x) from {{ source('raw', 'events') }}",
            "models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables: [{name: events}]\n",
            "models/contracted.sql": "select 1 as id",
            "models/contracted.yml": """
                version: 2
                models:
                  - name: contracted
                    config: {contract: {enforced: true}}
                    columns: [{name: id, data_type: ubigint}]
            """,
        },
        project={"dialect": "duckdb", "seeds": {"demo": {"people": {"+column_types": {"score": "double"}}}}},
    )
    result = run_cli("build", cwd=root)
    assert result.exit_code == 2, result.output
    out = result.output
    assert "Compilation Error in model scores (models/scores.sql:3)" in out
    assert "model scores is written in DuckDB SQL and runs on PostgreSQL; this does not translate:" in out
    assert "- line 3: list_sum() `LIST_SUM(...)`: PostgreSQL has no function list_sum() (a DuckDB function)." in out
    assert "round() of a value" not in out  # a seed's DOUBLE column is rounded as numeric: that translates
    assert "Compilation Error in model unknown (models/unknown.sql:1)" in out
    assert "SELECT * EXCLUDE / REPLACE `* EXCLUDE (x)`: PostgreSQL has no * EXCLUDE" in out
    assert "model contracted is written in DuckDB; the type 'ubigint' does not translate into PostgreSQL" in out
    assert "model people_clean" not in out  # the seed's columns are known: * EXCLUDE is listed
    assert "3 nodes hold SQL that does not translate into PostgreSQL; nothing ran." in out
    assert relations(server, DB, "stopped") == {}  # not even the seed was loaded

    for rel in ("models/scores.sql", "models/unknown.sql", "models/contracted.sql", "models/contracted.yml"):
        (root / rel).unlink()
    result = run_cli("build", cwd=root)
    assert result.exit_code == 0, result.output
    compiled = (root / "target/compiled/demo/models/people_clean.sql").read_text()
    assert compiled == 'SELECT\n  people.id,\n  people.name\nFROM "modelkit_dialects"."stopped"."people"'
    assert relations(server, DB, "stopped") == {"people": "r", "people_clean": "v"}
    with server.connect(DB) as pg:  # the seed's column_types, DuckDB's double, as PostgreSQL names it
        found = pg.execute(
            "select data_type from information_schema.columns where table_schema = 'stopped' "
            "and table_name = 'people' and column_name = 'score'"
        ).fetchone()
    assert found == ("double precision",)
