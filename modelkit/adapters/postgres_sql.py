"""PostgreSQL's spelling of the SQL that tests, contracts and unit tests ask of an engine.

>>> sql = PostgresSQL()
>>> sql.decode_text("12", "bigint"), sql.decode_text("true", "boolean"), sql.decode_text("1.5", "numeric")
(12, True, Decimal('1.5'))
>>> sql.contract_type("character varying(20)"), sql.contract_type("text"), sql.contract_type("int4")
('STRING', 'STRING', 'INTEGER')
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from modelkit.adapters.sql import StandardSQL

# The names PostgreSQL's format_type() gives the types a data test can return.
_INTEGERS = frozenset({"smallint", "integer", "bigint"})
_FLOATS = frozenset({"real", "double precision"})

# How dbt-postgres compares a contract with a query: by the family psycopg2 casts each type with
# (so varchar and text are both STRING, int2 and int4 both INTEGER), named as psycopg2 names them.
_CONTRACT_FAMILIES = {
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "smallint": "INTEGER",
    "int2": "INTEGER",
    "integer": "INTEGER",
    "int": "INTEGER",
    "int4": "INTEGER",
    "oid": "INTEGER",
    "bigint": "LONGINTEGER",
    "int8": "LONGINTEGER",
    "real": "FLOAT",
    "float4": "FLOAT",
    "double precision": "FLOAT",
    "float8": "FLOAT",
    "float": "FLOAT",
    "numeric": "DECIMAL",
    "decimal": "DECIMAL",
    "money": "DECIMAL",
    "text": "STRING",
    "character varying": "STRING",
    "varchar": "STRING",
    "character": "STRING",
    "char": "STRING",
    "bpchar": "STRING",
    "name": "STRING",
    '"char"': "STRING",
    "date": "DATE",
    "time without time zone": "TIME",
    "time": "TIME",
    "time with time zone": "TIME",
    "timetz": "TIME",
    "timestamp without time zone": "DATETIME",
    "timestamp": "DATETIME",
    "timestamp with time zone": "DATETIMETZ",
    "timestamptz": "DATETIMETZ",
    "interval": "INTERVAL",
    "bytea": "BINARY",
    "uuid": "UUID",
    "json": "JSON",
    "jsonb": "JSONB",
}


class PostgresSQL(StandardSQL):
    """StandardSQL with PostgreSQL's type names: ``pg_typeof`` for batched tests, psycopg2's type families."""

    def __init__(self) -> None:
        super().__init__('"', type_of_function="pg_typeof")

    def test_batch_branch(self, index: int, wrapped_sql: str) -> str:
        columns = ", ".join(
            f"cast({c} as text) as {c}, cast(pg_typeof({c}) as text) as {c}_type"
            for c in ("failures", "should_warn", "should_error")
        )
        return f"select {index} as idx, {columns}\nfrom (\n{wrapped_sql}\n) as modelkit_batch_{index}"

    def decode_text(self, text: str | None, type_name: str) -> Any:
        if text is None:
            return None
        kind = type_name.lower()
        if kind in _INTEGERS:
            return int(text)
        if kind in _FLOATS:
            return float(text)  # PostgreSQL 12+ prints floats in their shortest round-trip form
        if kind == "numeric":
            return Decimal(text)
        if kind == "boolean":
            return text == "true"
        if kind in ("text", "character varying"):
            return text
        raise ValueError(f"unexpected type {type_name}")

    def contract_type(self, data_type: str) -> str:
        """The family a contract compares (dbt-postgres: psycopg2's caster name); arrays end in ``ARRAY``."""
        name = data_type.strip().lower()
        array = name.endswith("[]")
        base = re.sub(r"\(.*\)", "", name[:-2] if array else name).strip()
        family = _CONTRACT_FAMILIES.get(base, base.upper())
        return family + "ARRAY" if array else family
