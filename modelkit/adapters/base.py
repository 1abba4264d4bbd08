"""What every engine provides: a few primitives the materializations are built from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..relation import Relation


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str

    @property
    def dtype(self) -> str:
        return self.data_type

    @property
    def column(self) -> str:
        return self.name

    @property
    def quoted(self) -> str:
        return '"' + self.name.replace('"', '""') + '"'

    def is_string(self) -> bool:
        return self.data_type.upper() in ("VARCHAR", "TEXT", "STRING") or self.data_type.upper().startswith("VARCHAR")

    def is_number(self) -> bool:
        upper = self.data_type.upper()
        return any(t in upper for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "NUMERIC", "REAL"))


@dataclass
class QueryResult:
    columns: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rows_affected: int | None = None
    message: str = "OK"


class Adapter(Protocol):
    """The engine interface. Each thread gets its own cursor inside the adapter."""

    type: str
    quote_char: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...

    def quote(self, identifier: str) -> str: ...

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None: ...

    def list_relations(self, database: str | None, schema: str) -> list[Relation]: ...

    def get_columns(self, relation: Relation) -> list[ColumnInfo]: ...

    def describe_query(self, sql: str) -> list[ColumnInfo]: ...

    def create_schema(self, database: str | None, schema: str) -> None: ...

    def drop_relation(self, relation: Relation) -> None: ...

    def rename_relation(self, relation: Relation, new_identifier: str) -> None: ...

    def replace_view(self, relation: Relation, sql: str) -> QueryResult:
        """Create or replace a view; on failure the previous relation stays."""
        ...

    def replace_table(self, relation: Relation, sql: str) -> QueryResult:
        """Build a table and swap it in atomically; on failure the previous relation stays."""
        ...

    def load_csv(
        self,
        relation: Relation,
        path: Path,
        *,
        column_types: Mapping[str, str],
        delimiter: str,
        quote_columns: bool,
    ) -> QueryResult: ...

    def limit_sql(self, sql: str, limit: int) -> str: ...

    def cast_sql(self, expression: str, data_type: str) -> str: ...


def seed_type(sniffed: str) -> str:
    """Map a sniffed CSV column type to the type dbt's seed inference would give."""
    upper = sniffed.upper()
    if upper in ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"):
        return "INTEGER"
    if upper in ("BIGINT", "UINTEGER", "UBIGINT", "HUGEINT"):
        return "BIGINT"
    if upper.startswith(("DECIMAL", "FLOAT", "DOUBLE", "REAL", "NUMERIC")):
        return "DOUBLE"
    if upper.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    if upper in ("DATE", "BOOLEAN"):
        return upper
    return "VARCHAR"


def quoted_list(names: Sequence[str], quote_char: str = '"') -> str:
    return ", ".join(quote_char + n.replace(quote_char, quote_char * 2) + quote_char for n in names)
