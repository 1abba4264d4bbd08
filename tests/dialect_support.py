"""The translation table the dialect tests share: DuckDB SQL, a target dialect, and what comes out.

Queries read the table ``t`` (columns and types in :data:`COLUMNS`, as a seed or an upstream model
would make known) or ``u``, whose columns are not known. :data:`CASES` gives, for each construct,
the SQL written in the target dialect or the construct reported; :data:`SAME_RESULTS` the DuckDB
queries whose translation PostgreSQL must answer with the same rows as DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelkit.dialects.shapes import UNKNOWN, Shape
from modelkit.dialects.translate import Translation, translate
from modelkit.dialects.types import build

COLUMNS = {
    "a": "INTEGER",
    "b": "INTEGER",
    "d": "DOUBLE",
    "n": "DECIMAL(10,2)",
    "s": "VARCHAR",
    "dt": "DATE",
    "ts": "TIMESTAMP",
    "l": "INTEGER[]",
    "st": "STRUCT(x INTEGER, y VARCHAR)",
}
DEFAULTS = ("db", "main")
KNOWN = {(*DEFAULTS, "t"): Shape(tuple(COLUMNS), tuple(build(t, "duckdb") for t in COLUMNS.values()))}


def lookup(key: tuple[str, str, str]) -> Shape:
    return KNOWN.get(key, UNKNOWN)


def translated(sql: str, target: str, source: str = "duckdb") -> Translation:
    return translate(sql, source, target, lookup, DEFAULTS, pretty=False)


@dataclass(frozen=True)
class Reported:
    """The construct a finding names (its ``construct``), and a word of its message."""

    construct: str
    says: str = ""


PG, SPARK = "postgres", "spark"

CASES: list[tuple[str, str, str | Reported]] = [
    # -- division: DuckDB divides numbers as doubles, PostgreSQL truncates integers
    ("select a / b from t", PG, "SELECT CAST(a AS DOUBLE PRECISION) / b FROM t"),
    ("select 7 / 2 from t", PG, "SELECT CAST(7 AS DOUBLE PRECISION) / 2 FROM t"),
    ("select n / a from t", PG, "SELECT CAST(n AS DOUBLE PRECISION) / a FROM t"),
    ("select d / a from t", PG, "SELECT d / a FROM t"),
    ("select sum(a) / count(*) from t", PG, "SELECT CAST(SUM(a) AS DOUBLE PRECISION) / COUNT(*) FROM t"),
    ("select a / x from u", PG, "SELECT CAST(a AS DOUBLE PRECISION) / x FROM u"),
    ("select a / b from t", SPARK, "SELECT a / b FROM t"),
    ("select a // b, d // 2 from t", PG, "SELECT a / b, DIV(d, 2) FROM t"),
    ("select a // b from t", SPARK, "SELECT a DIV b FROM t"),
    # -- round: PostgreSQL has no round(double precision, int), and rounds a double's halves to even
    ("select round(d, 2) from t", PG, "SELECT CAST(ROUND(CAST(d AS DECIMAL), 2) AS DOUBLE PRECISION) FROM t"),
    ("select round(d) from t", PG, "SELECT CAST(ROUND(CAST(d AS DECIMAL)) AS DOUBLE PRECISION) FROM t"),
    ("select round(n, 1), round(a, 1) from t", PG, "SELECT ROUND(n, 1), ROUND(a, 1) FROM t"),
    (
        "select round(cast(x as double) / 100, 2) from u",
        PG,
        "SELECT CAST(ROUND(CAST(CAST(x AS DOUBLE PRECISION) / 100 AS DECIMAL), 2) AS DOUBLE PRECISION) FROM u",
    ),
    ("select round(x, 2) from u", PG, Reported("round() of a value of unknown type", "Cast it")),
    ("select round(d, 2) from t", SPARK, "SELECT ROUND(d, 2) FROM t"),
    # -- aggregates
    ("select avg(a), avg(n), avg(d) from t", PG,
     "SELECT CAST(AVG(a) AS DOUBLE PRECISION), CAST(AVG(n) AS DOUBLE PRECISION), AVG(d) FROM t"),
    ("select any_value(a), mean(a) from t", PG, "SELECT MIN(a), AVG(a) FROM t"),
    ("select count_if(a > 1) from t", PG, "SELECT SUM(CASE WHEN a > 1 THEN 1 ELSE 0 END) FROM t"),
    # -- GROUP BY ALL, ORDER BY ALL
    ("select s, count(*) from t group by all", PG, "SELECT s, COUNT(*) FROM t GROUP BY 1"),
    ("select s, dt, sum(a) as total from t group by all order by all desc", PG,
     "SELECT s, dt, SUM(a) AS total FROM t GROUP BY 1, 2 ORDER BY 1 DESC NULLS LAST, 2 DESC NULLS LAST, 3 DESC NULLS LAST"),
    ("select sum(a) from t group by all", PG, "SELECT SUM(a) FROM t"),
    ("select s, count(*) from t group by all", SPARK, "SELECT s, COUNT(*) FROM t GROUP BY ALL"),
    ("select a, b from t order by all", SPARK, "SELECT a, b FROM t ORDER BY 1 NULLS LAST, 2 NULLS LAST"),
    ("select *, count(*) over () from t group by all", PG, Reported("GROUP BY ALL", "window")),
    ("select * from u group by all", PG, Reported("GROUP BY ALL", "not known")),
    # -- SELECT * EXCLUDE / REPLACE, COLUMNS()
    ("select * exclude (st, l) from t", PG, "SELECT t.a, t.b, t.d, t.n, t.s, t.dt, t.ts FROM t"),
    ("select * exclude (st) replace (a + 1 as a) from t", SPARK,
     "SELECT t.a + 1 AS a, t.b, t.d, t.n, t.s, t.dt, t.ts, t.l FROM t"),
    ("select t.* exclude (st) from t", PG, "SELECT t.a, t.b, t.d, t.n, t.s, t.dt, t.ts, t.l FROM t"),
    ("select * exclude (a) from u", PG, Reported("SELECT * EXCLUDE / REPLACE", "not known")),
    ("select * exclude (a) from u", SPARK, Reported("SELECT * EXCLUDE / REPLACE")),
    ("select columns('a.*') from t", PG, Reported("COLUMNS(...)")),
    # -- QUALIFY: a filtering subquery, which must not add the window's column to SELECT *
    ("select a, s from t qualify row_number() over (partition by s order by ts desc) = 1", PG,
     "SELECT a, s FROM (SELECT a, s, ROW_NUMBER() OVER (PARTITION BY s ORDER BY ts DESC NULLS LAST) AS _w FROM t) AS _t WHERE _w = 1"),
    ("select * exclude (l, st) from t qualify row_number() over (partition by s order by ts) = 1", PG,
     "SELECT a, b, d, n, s, dt, ts FROM (SELECT t.a, t.b, t.d, t.n, t.s, t.dt, t.ts, ROW_NUMBER() OVER "
     "(PARTITION BY s ORDER BY ts) AS _w FROM t) AS _t WHERE _w = 1"),
    ("select * from u qualify row_number() over (order by x) = 1", PG, Reported("QUALIFY", "not known")),
    ("select * from u qualify row_number() over (order by x) = 1", SPARK, Reported("QUALIFY")),
    # -- column aliases used in the same SELECT
    ("select a + 1 as x, x * 2 as y from t where x > 1", PG,
     "SELECT a + 1 AS x, (a + 1) * 2 AS y FROM t WHERE (a + 1) > 1"),
    ("select a + 1 as b, b * 2 as c from t", PG, "SELECT a + 1 AS b, b * 2 AS c FROM t"),  # t.b wins, as in DuckDB
    ("select a + 1 as x, x * 2 as y from u", PG, Reported("column alias used in the same SELECT")),
    ("select a + 1 as x, x * 2 as y from t", SPARK, "SELECT a + 1 AS x, x * 2 AS y FROM t"),
    # -- lists, structs, maps
    ("select len(l), len(s), array_length(l) from t", PG, "SELECT CARDINALITY(l), LENGTH(s), CARDINALITY(l) FROM t"),
    ("select len(l), array_length(l) from t", SPARK, "SELECT SIZE(l), SIZE(l) FROM t"),
    ("select len([1, 2]) from t", PG, "SELECT CARDINALITY(ARRAY[1, 2]) FROM t"),
    ("select [1, 2, 3] as xs, cast([] as int[]) as e from t", PG, "SELECT ARRAY[1, 2, 3] AS xs, CAST(ARRAY[] AS INT[]) AS e FROM t"),
    ("select [] as e from t", PG, Reported("empty list []")),
    ("select l[1] from t", PG, "SELECT l[1] FROM t"),
    ("select l[1] from t", SPARK, "SELECT l[0] FROM t"),
    ("select s[1] from t", PG, Reported("subscript [...]", "TEXT")),
    ("select x[1] from u", PG, Reported("subscript [...]", "unknown type")),
    ("select st['x'] from t", SPARK, "SELECT st['x'] FROM t"),
    ("select st.x from t", PG, Reported("struct field access")),
    ("select st.x from t", SPARK, "SELECT st.x FROM t"),
    ("select {'k': 1} as m from t", PG, Reported("struct or map value")),
    ("select {'k': 1} as m from t", SPARK, "SELECT STRUCT(1 AS k) AS m FROM t"),
    # -- types
    ("select a::double, cast(a as decimal), s::varchar from t", PG,
     "SELECT CAST(a AS DOUBLE PRECISION), CAST(a AS DECIMAL(18, 3)), CAST(s AS TEXT) FROM t"),
    ("select cast(a as ubigint) from t", PG, Reported("type", "UBIGINT")),
    ("select cast(a as hugeint) from t", PG, Reported("type", "INT128")),
    ("select cast(s as struct(x int)) from t", PG, Reported("type", "STRUCT")),
    ("select cast(s as struct(x int)) from t", SPARK, "SELECT CAST(s AS STRUCT<x: INT>) FROM t"),
    ("select cast(ts as time) from t", SPARK, Reported("type", "time-of-day")),
    ("select try_cast(s as int) from t", PG, Reported("TRY_CAST")),
    ("select try_cast(s as int) from t", SPARK, "SELECT TRY_CAST(s AS INT) FROM t"),
    # -- times
    ("select strftime(ts, '%Y-%m-%d %H:%M') from t", PG, "SELECT TO_CHAR(ts, 'YYYY-MM-DD HH24:MI') FROM t"),
    ("select strftime(ts, 'week %V of %Y') from t", PG, "SELECT TO_CHAR(ts, '\"week \"IW\" of \"YYYY') FROM t"),
    ("select strftime(ts, '%Y %W') from t", PG, Reported("time format", "%W")),
    ("select strftime(ts, 'week %Y') from t", SPARK, Reported("time format", "letters")),
    ("select strftime(ts, s) from t", PG, Reported("time format", "literal")),
    ("select strptime(s, '%d/%m/%Y') from t", PG, "SELECT TO_TIMESTAMP(s, 'DD/MM/YYYY') FROM t"),
    ("select ts + interval (a) day from t", PG, "SELECT ts + ((a) * INTERVAL '1 DAY') FROM t"),
    ("select ts - interval 1 day from t", PG, "SELECT ts - INTERVAL '1 DAY' FROM t"),
    ("select date_diff('day', dt, ts) from t", PG, "SELECT (CAST(ts AS DATE) - CAST(dt AS DATE)) FROM t"),
    ("select epoch_ms(ts) from t", PG, Reported("epoch_ms(timestamp)")),
    # -- NULLs sort last in DuckDB either way; in PostgreSQL they are large, in Spark small
    ("select a from t order by a desc, s", PG, "SELECT a FROM t ORDER BY a DESC NULLS LAST, s"),
    ("select a from t order by a desc, s", SPARK, "SELECT a FROM t ORDER BY a DESC, s NULLS LAST"),
    # -- functions and clauses only DuckDB has
    ("select list_sum(l) from t", PG, Reported("list_sum()")),
    ("select hash(s) from t", PG, Reported("hash()")),
    ("select string_split(s, ',') from t", PG, Reported("split()")),
    ("select * from t using sample 10%", PG, Reported("USING SAMPLE / TABLESAMPLE")),
    ("select * from t asof join u on t.ts >= u.ts", PG, Reported("ASOF JOIN")),
    ("select * from t positional join u", SPARK, Reported("POSITIONAL JOIN")),
    ("pivot t on s using sum(a)", PG, Reported("unsupported construct", "PIVOT")),
    ("select * from (select 1 as k)", PG, "SELECT * FROM (SELECT 1 AS k) AS _0"),
    ("select s from t where s ilike 'x%' and regexp_matches(s, 'x')", PG, "SELECT s FROM t WHERE s ILIKE 'x%' AND s ~ 'x'"),
    ("select nonsense(((", PG, Reported("SQL that is not DuckDB")),
    # -- from PostgreSQL: integers divide as integers there
    ("select a / b from t", "duckdb", "SELECT a // b FROM t"),
    ("select 7 / 2 from t", "duckdb", "SELECT 7 // 2 FROM t"),
    ("select d / a from t", "duckdb", "SELECT d / a FROM t"),
    ("select a / x from u", "duckdb", Reported("division of values of unknown types")),
]  # fmt: skip

SOURCES = {"duckdb": "postgres"}  # a case whose target is duckdb is written in this dialect

# DuckDB queries over ``t`` whose translation PostgreSQL must answer as DuckDB does (rows compared as
# sorted lists, floats within 1e-9).
SAME_RESULTS = [
    "select a, b, a / b as q, 7 / 2 as r, n / b as m, sum(a) over () / count(*) over () as avg_a from t",
    "select a // b as q, -7 // 2 as r from t",
    "select round(d, 2) as r2, round(d) as r0, round(d * 10, 1) as r1, round(n, 1) as rn from t",
    "select round(cast(a as double) / 3, 3) as third from t",
    "select avg(a) as avg_a, avg(n) as avg_n, avg(d) as avg_d, any_value(a) is not null as some, mean(a) as m from t",
    "select s, count(*) as c, sum(a) as total from t group by all order by all",
    "select s, dt from t group by all order by all desc",
    "select s, dt from t group by all order by all desc limit 3",
    "select * exclude (l, st) from t",
    "select * exclude (l, st) replace (a * 10 as a) from t",
    "select * exclude (l, st) from t qualify row_number() over (partition by s order by ts desc) = 1",
    "select a + 1 as x, x * 2 as y from t where x > 1",
    "select len(l) as n, len(s) as m, array_length(l) as k, [a, b] as pair from t",
    "select l[1] as first from t",
    "select strftime(ts, '%Y-%m-%d %H:%M') as f, strftime(ts, 'week %V of %Y') as w from t",
    "select ts + interval (a) day as later, date_diff('day', dt, ts) as days from t",
    "select a, s from t order by a desc, s",
    "select a, s from t order by s, a desc limit 4",
    "select row_number() over (order by d desc) as r, d from t",
    "select count_if(a > 1) as c, string_agg(s, ',' order by a desc) as ss from t",
    "select cast(a as decimal) / 3 as q, a::double as dd from t",
]
