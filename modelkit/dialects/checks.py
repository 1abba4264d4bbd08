"""The table of rules: each construct, the dialects it concerns, what is done with it.

``sources`` None means any source dialect (the rule follows from the dialects' own definitions,
such as how each divides integers); the others are about SQL written for DuckDB. The README's section
on dialects shows this table (a test keeps them in step).

Loaded only when a node is translated: it imports sqlglot.
"""

from __future__ import annotations

from sqlglot import exp

from modelkit.dialects import clauses, rules
from modelkit.dialects.rules import Context, Rule

PG = frozenset({"postgres"})
PG_SPARK = frozenset({"postgres", "spark"})

RULES: tuple[Rule, ...] = (
    Rule("a / b", (exp.Div,), rules.division, sources=None,
         does="kept a float division (an operand cast to double) where the target would truncate integers; "
              "from a dialect that truncates, typed integers divide with the integer division, unknown types are reported"),
    Rule("a // b", (exp.IntDiv,), rules.integer_division, PG,
         does="two integers: PostgreSQL's integer division (DIV() would return a numeric)"),
    Rule("round(x, n)", (exp.Round,), rules.rounding, PG,
         does="a double is rounded as numeric and cast back to double precision (PostgreSQL has no "
              "round(double precision, int), and rounds a double's halves to even); unknown type: reported"),
    Rule("avg(x)", (exp.Avg,), rules.average, PG,
         does="of integers or decimals: cast to double precision (a DOUBLE in DuckDB, numeric in PostgreSQL)"),
    Rule("any_value(x)", (exp.AnyValue,), rules.any_value, PG, does="min(x) (PostgreSQL 15 has no any_value)"),
    Rule("mean(x)", (exp.Anonymous,), rules.mean, PG, does="avg(x)"),
    Rule("interval (n) day", (exp.Interval,), rules.interval, PG_SPARK, does="n * interval '1 day'"),
    Rule("CAST / :: to a type", (exp.DataType,), rules.data_type, PG_SPARK, sources=None,
         does="types the target lacks (unsigned integers, HUGEINT, STRUCT, MAP, UNION, ENUM...): reported"),
    Rule("epoch_ms(timestamp)", (exp.UnixToTime,), rules.epoch_of_time, PG_SPARK,
         does="reported (sqlglot reads it as the timestamp of a number of milliseconds)"),
    Rule("TRY_CAST", (exp.TryCast,), rules.try_cast, PG, does="reported (a failed conversion would stop the query)"),
    Rule("len(list), array_length(list)", (exp.Length, exp.ArraySize), rules.array_length, PG_SPARK,
         does="cardinality() in PostgreSQL (0 for an empty list, as DuckDB), size() in Spark"),
    Rule("[] (empty list)", (exp.Array,), rules.empty_array, PG, does="reported unless cast"),
    Rule("{'k': v}, struct_pack, map", (exp.Struct, exp.ToMap, exp.Map, exp.VarMap), rules.struct_literal, PG,
         does="reported"),
    Rule("x[i]", (exp.Bracket,), rules.bracket, PG_SPARK,
         does="list elements translate (Spark counts from 0); strings, structs and maps (PostgreSQL) or unknown types: reported"),
    Rule("s.field (struct field)", (), None, PG, does="reported"),
    Rule("USING SAMPLE / TABLESAMPLE", (exp.TableSample,), rules.sample, PG_SPARK, does="reported"),
    Rule("ASOF / POSITIONAL JOIN", (exp.Join,), rules.join_method, PG_SPARK, does="reported"),
    Rule("strftime / strptime formats", (exp.TimeToStr, exp.StrToTime, exp.StrToDate), rules.time_format, PG_SPARK,
         does="directives the target lacks: reported; literal letters quoted for PostgreSQL's to_char, reported for Spark"),
    Rule("GROUP BY ALL", (exp.Group,), clauses.group_by_all, PG,
         does="the positions of the projections without an aggregate (with * listed when its columns are known)"),
    Rule("ORDER BY ALL", (exp.Order,), clauses.order_by_all, PG_SPARK, does="the positions of every projection"),
    Rule("SELECT * EXCLUDE / REPLACE / RENAME", (exp.Star, exp.Column), clauses.star_modifiers, PG_SPARK,
         does="the columns listed when the columns of * are known; reported otherwise"),
    Rule("COLUMNS(...)", (exp.Columns,), clauses.columns_expression, PG_SPARK, does="reported"),
    Rule("QUALIFY over SELECT *", (exp.Select,), clauses.qualify_star, PG_SPARK,
         does="* listed (QUALIFY becomes a filtering subquery, which would add the window's column); reported when unknown"),
    Rule("alias used in the same SELECT", (exp.Select,), clauses.lateral_aliases, PG,
         does="replaced by the aliased expression when the relations' columns show it is not a column; reported when unknown"),
    Rule("functions only DuckDB has", (), None, PG,
         does="reported (list_*, struct_*, map_*, hash, regexp_extract, read_csv, ... sqlglot leaves under their name)"),
    Rule("anything sqlglot cannot write", (), None, None, sources=None, does="reported with sqlglot's reason"),
)  # fmt: skip

PREPASS: tuple[Rule, ...] = (
    Rule(
        "subquery without a name",
        (exp.Subquery,),
        clauses.derived_table_names,
        PG,
        does="given one (PostgreSQL before 16 requires it)",
    ),
)


def check(ctx: Context) -> None:
    """Rewrite or report what the statement holds that does not translate as it is."""
    rules.run(ctx, PREPASS)
    rules.run(ctx, RULES)
    if ctx.target == "postgres" and ctx.source == "duckdb":
        rules.field_access(ctx)
