"""Spark seeds: the CSV's types as dbt-spark infers them, its rows sent from this process as text."""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import ColumnInfo, QueryResult, RelationOptions
from modelkit.adapters.spark_sql import SparkSQL, quote, relation_name
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from modelkit.project.profiles import Target

NULL_VALUES = frozenset({"", "null", "NULL"})  # a seed's fields read as NULL (as the DuckDB adapter reads them)
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?")
_LONG_MAX = 2**63 - 1


def seed_column_type(values: Sequence[str | None]) -> str:
    """The Spark type of a seed column, as dbt-spark infers it (integers are ``bigint``).

    >>> [seed_column_type(v) for v in (["1", None, "-2"], ["1.5", "2"], ["true", "False"], ["2024-01-02"], ["x", "1"])]
    ['bigint', 'double', 'boolean', 'date', 'string']
    >>> seed_column_type(["2024-01-02 10:00:00"]), seed_column_type([None])
    ('timestamp', 'string')
    """
    present = [v for v in values if v is not None]
    if not present:
        return "string"
    if all(_INTEGER.fullmatch(v) and abs(int(v)) <= _LONG_MAX for v in present):
        return "bigint"
    if all(_NUMBER.fullmatch(v) for v in present):
        return "double"
    if all(v.lower() in ("true", "false") for v in present):
        return "boolean"
    if all(_DATE.fullmatch(v) for v in present):
        return "date"
    if all(_TIMESTAMP.fullmatch(v) for v in present):
        return "timestamp"
    return "string"


def read_seed(path: Path, delimiter: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
    """The header and rows of a seed file; the seed materialization has checked its shape already."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            header = next(reader, None) or []
            rows = [tuple(None if v in NULL_VALUES else v for v in row) for row in reader if row]
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise DatabaseError(f"Could not read {path.name}: {exc}") from None
    return header, rows


class SparkSeeds:
    """Seeds, and the adapter's primitives the Spark mixins build on."""

    target: Target
    sql: SparkSQL
    _spark: Any

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...  # pragma: no cover - the adapter's

    def describe_query(self, sql: str) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None: ...

    def get_columns(self, relation: Relation) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def transaction(self) -> AbstractContextManager[None]: ...  # pragma: no cover - the adapter's

    def temp_relation(self, relation: Relation) -> Relation: ...  # pragma: no cover - the adapter's

    def swap(self, relation: Relation, candidate: Relation) -> None: ...  # pragma: no cover - the adapter's

    def replace_table(  # pragma: no cover - the adapter's
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult: ...

    def table_clauses(self, options: RelationOptions | None, *, staging: bool = False) -> str: ...

    def _session(self) -> Any: ...  # pragma: no cover - the adapter's

    # -- seeds -----------------------------------------------------------------
    def describe_csv(
        self, path: Path, *, column_types: Mapping[str, str], delimiter: str, sample_all: bool = False
    ) -> list[ColumnInfo]:
        """The CSV's columns with the types a seed gets: every row is read (``sample_all`` changes nothing)."""
        header, rows = read_seed(path, delimiter)
        overrides = {k.lower(): v for k, v in column_types.items()}
        return [
            ColumnInfo(name, overrides.get(name.lower()) or seed_column_type([row[i] for row in rows if i < len(row)]))
            for i, name in enumerate(header)
        ]

    def load_csv(
        self,
        relation: Relation,
        path: Path,
        *,
        column_types: Mapping[str, str],
        delimiter: str,
        quote_columns: bool = True,
        full_refresh: bool = False,
        options: RelationOptions | None = None,
    ) -> QueryResult:
        """The rows travel from this process as text (so a cluster needs no access to the file), then are
        cast to their types into a new table swapped in for the old one."""
        header, rows = read_seed(path, delimiter)
        columns = self.describe_csv(path, column_types=column_types, delimiter=delimiter)
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        if existing is not None and existing.type != "table":
            raise DatabaseError(
                f"Seed target {relation_name(relation)} is a {existing.type}, not a table; drop it or rename the seed"
            )
        if existing is not None and not full_refresh:
            have = [c.name for c in self.get_columns(existing)]
            if [n.lower() for n in have] != [c.name.lower() for c in columns]:
                raise DatabaseError(
                    f"The columns of {path.name} ({', '.join(c.name for c in columns)}) no longer match the table "
                    f"{relation_name(relation)} ({', '.join(have)}).\nRun `modelkit seed --full-refresh` to recreate it."
                )
        from pyspark.sql.types import StringType, StructField, StructType  # loaded with the session already

        schema = StructType([StructField(f"c{i}", StringType(), True) for i in range(len(header))])
        width = len(header)
        padded = [row + (None,) * (width - len(row)) if len(row) < width else row[:width] for row in rows]
        view = f"modelkit_seed_{uuid.uuid4().hex[:12]}"
        self._session().createDataFrame(padded, schema).createOrReplaceTempView(view)
        alias = quote if quote_columns else (lambda name: name)
        select = ", ".join(f"cast(`c{i}` as {c.data_type}) as {alias(c.name)}" for i, c in enumerate(columns))
        try:
            self.replace_table(relation, f"select {select} from {view}", options)
        finally:
            self.execute(f"drop view if exists {view}")
        count = len(rows)
        return QueryResult(rows_affected=count, message=f"{'CREATE' if full_refresh else 'INSERT'} {count}")
