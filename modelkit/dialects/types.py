"""Data types across dialects: a type as one dialect writes it, as another one names it, and the
types an engine does not have.

``double`` in DuckDB is ``DOUBLE PRECISION`` in PostgreSQL; DuckDB's ``DECIMAL`` without a precision
is ``DECIMAL(18, 3)`` there too, as DuckDB defines it. A type the target lacks (PostgreSQL has no
unsigned integers, no STRUCT, MAP or UNION) is not translated into something else: it is reported.
"""

from __future__ import annotations

from typing import Any

# The sqlglot type kinds each target has, under the name sqlglot writes for it. Any other kind is
# reported; a dialect not listed here is trusted to sqlglot.
SUPPORTED: dict[str, frozenset[str]] = {
    "postgres": frozenset(
        """BIGINT INT SMALLINT TINYINT BOOLEAN DOUBLE FLOAT DECIMAL TEXT VARCHAR CHAR NVARCHAR NCHAR BPCHAR
        VARBINARY BINARY DATE TIME TIMETZ TIMESTAMP TIMESTAMPNTZ TIMESTAMPTZ INTERVAL UUID JSON JSONB ARRAY
        INET MONEY""".split()
    ),
    "spark": frozenset(
        """BIGINT INT SMALLINT TINYINT BOOLEAN DOUBLE FLOAT DECIMAL TEXT VARCHAR CHAR NVARCHAR NCHAR
        VARBINARY BINARY DATE TIMESTAMP TIMESTAMPNTZ TIMESTAMPTZ INTERVAL UUID ARRAY MAP STRUCT""".split()
    ),
}

# Why a kind is missing, where a word helps.
WHY: dict[tuple[str, str], str] = {
    ("postgres", "BIT"): "DuckDB's BIT is a bit string of any length, PostgreSQL's BIT is BIT(1)",
    ("spark", "TIME"): "Spark has no time-of-day type (sqlglot would turn it into a TIMESTAMP)",
    ("spark", "BIT"): "Spark has no bit string type (sqlglot would turn it into a BOOLEAN)",
}

NAMES = {"postgres": "PostgreSQL", "spark": "Spark", "duckdb": "DuckDB"}


def dialect_label(dialect: str) -> str:
    """A dialect as prose names it.

    >>> dialect_label("postgres"), dialect_label("snowflake")
    ('PostgreSQL', 'snowflake')
    """
    return NAMES.get(dialect, dialect)


def build(text: str, dialect: str) -> Any:
    """The sqlglot DataType of ``text`` written in ``dialect``, or None when sqlglot cannot read it."""
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: only when a type is translated
    from sqlglot.errors import SqlglotError  # (lazy, as above)

    try:
        return exp.DataType.build(text, dialect=dialect)
    except (SqlglotError, ValueError, TypeError):
        return None


def kinds(data_type: Any) -> list[str]:
    """The kind of a DataType and of every type nested in it (an ARRAY's elements, a STRUCT's fields)."""
    from sqlglot import exp  # sqlglot takes ~0.2 s to import: only when a type is translated

    return [t.this.name for t in data_type.find_all(exp.DataType) if isinstance(t.this, exp.DataType.Type)]


def problem(data_type: Any, target: str) -> str | None:
    """Why ``target`` has no such type (None when it has it, or when nothing is known of ``target``)."""
    supported = SUPPORTED.get(target)
    if supported is None:
        return None
    for kind in kinds(data_type):
        if kind not in supported:
            why = WHY.get((target, kind))
            return why or f"{dialect_label(target)} has no {kind} type"
    return None


def translate_type(text: str, source: str, target: str) -> tuple[str, str | None]:
    """``text``, a type written in ``source``, as ``target`` writes it; and why it cannot be, if so.

    A type sqlglot cannot read is kept as written (an engine's own type, a domain).

    >>> translate_type("double", "duckdb", "postgres")
    ('DOUBLE PRECISION', None)
    >>> translate_type("decimal", "duckdb", "postgres")
    ('DECIMAL(18, 3)', None)
    >>> translate_type("ubigint", "duckdb", "postgres")
    ('ubigint', 'PostgreSQL has no UBIGINT type')
    """
    if source == target:
        return text, None
    built = build(text, source)
    if built is None:
        return text, None
    why = problem(built, target)
    if why is not None:
        return text, why
    return built.sql(dialect=target), None
