"""PostgreSQL SQL for the stateful materializations: seeds through COPY, staging tables, MERGE.

Mixed into :class:`modelkit.adapters.postgres.PostgresAdapter`; incremental strategies, snapshots
and freshness are the SQL PostgreSQL shares with other engines
(:class:`modelkit.adapters.stateful.StandardStateful`).

A seed's column types are inferred as dbt-postgres infers them (through agate): a column whose
every value is an integer is ``integer`` (``bigint`` past 32 bits), a number with decimals
``float8``, then ``date`` (``YYYY-MM-DD``), ``timestamp without time zone`` (ISO 8601),
``boolean`` (``true`` / ``false``), else ``text``; empty fields and ``null`` are NULL, and a column
with no value at all is ``integer``. The rows go in through ``COPY ... FROM STDIN``.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from modelkit.adapters.base import ColumnInfo, CsvReadError, QueryResult, RelationOptions
from modelkit.adapters.stateful import StandardStateful
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation, quote

NULLS = frozenset({"", "null", "NULL"})
MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names (NAMEDATALEN - 1)
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COPY_LINE = re.compile(r"COPY [^,]+, line (\d+)")
_INT32 = 2**31


def suffixed(relation: Relation, suffix: str) -> Relation:
    """``relation`` renamed ``<identifier><suffix>``, the identifier cut so the whole fits in 63 characters."""
    return relation.replace_identifier(relation.identifier[: MAX_IDENTIFIER - len(suffix)] + suffix)


def _is_datetime(text: str) -> bool:
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return False
    return True


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def infer_type(values: Sequence[str | None]) -> str:
    """The type dbt-postgres gives a seed column holding ``values`` (None for NULL).

    >>> infer_type(["1", "2", None]), infer_type(["1", "2.5"]), infer_type(["3000000000"])
    ('integer', 'float8', 'bigint')
    >>> infer_type(["2024-01-02"]), infer_type(["2024-01-02 10:00:00"]), infer_type(["True", "false"])
    ('date', 'timestamp without time zone', 'boolean')
    >>> infer_type(["a", "1"]), infer_type([None, None])
    ('text', 'integer')
    """
    present = [v.strip() for v in values if v is not None]
    if all(_INTEGER.fullmatch(v) for v in present):
        return "bigint" if any(abs(int(v)) >= _INT32 for v in present) else "integer"
    if all(_NUMBER.fullmatch(v) for v in present):
        return "float8"
    if all(_is_date(v) for v in present):
        return "date"
    if all(_is_datetime(v) for v in present):
        return "timestamp without time zone"
    if all(v.lower() in ("true", "false") for v in present):
        return "boolean"
    return "text"


class SeedFile:
    """A seed CSV read whole: its header, its rows (NULL as None) and the file line each row starts on."""

    def __init__(self, path: Path, delimiter: str) -> None:
        self.path = path
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            self.header = next(reader, None) or []
            self.rows: list[list[str | None]] = []
            self.lines: list[int] = []
            start = reader.line_num + 1
            for row in reader:
                if row:
                    self.rows.append([None if value in NULLS else value for value in row])
                    self.lines.append(start)
                start = reader.line_num + 1

    def columns(self, column_types: Mapping[str, str]) -> list[ColumnInfo]:
        overrides = {k.lower(): v for k, v in column_types.items()}
        found = []
        for index, name in enumerate(self.header):
            given = column_types.get(name) or overrides.get(name.lower())
            found.append(
                ColumnInfo(name, given or infer_type([r[index] if index < len(r) else None for r in self.rows]))
            )
        return found


class PostgresStateful(StandardStateful):
    """Seeds, staging tables and MERGE for :class:`~modelkit.adapters.postgres.PostgresAdapter`."""

    server_version: tuple[int, int]

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None: ...

    def drop_relation(self, relation: Relation) -> None: ...  # pragma: no cover - the adapter's

    def _connection(self) -> psycopg.Connection[Any]: ...  # pragma: no cover - the adapter's

    def _database_error(self, exc: psycopg.Error, sql: str, body: str | None = None) -> DatabaseError: ...

    def _execute(self, sql: str, fetch: bool = False, body: str | None = None) -> QueryResult: ...

    def merge_statement(self) -> bool:
        return self.server_version >= (15, 0)  # MERGE came with PostgreSQL 15

    # -- staging tables ----------------------------------------------------------
    def create_temp_table(self, relation: Relation, sql: str, *, sql_header: str | None = None) -> Relation:
        """A ``temporary`` table, private to this thread's connection (dbt-postgres's make_temp_relation)."""
        stamp = datetime.datetime.now().strftime("%H%M%S%f")
        temp = Relation(None, None, suffixed(relation, "__dbt_tmp" + stamp).identifier, type="table")
        create = f"create temporary table {temp.render()} as (\n{sql}\n)"
        self._execute(self.sql.with_header(sql_header, create), body=sql)
        return temp

    # -- seeds -----------------------------------------------------------------
    def describe_csv(
        self, path: Path, *, column_types: Mapping[str, str], delimiter: str, sample_all: bool = False
    ) -> list[ColumnInfo]:
        """The seed's columns: every row is read (``sample_all`` makes no difference here)."""
        return SeedFile(path, delimiter).columns(column_types)

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
        """Create (or truncate) the table, then COPY the rows in; run inside ``adapter.transaction()``."""
        seed = SeedFile(path, delimiter)
        columns = seed.columns(column_types)
        ident = quote if quote_columns else (lambda name: name)
        names = ", ".join(ident(c.name) for c in columns)
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        if existing is not None and existing.type != "table":
            raise DatabaseError(
                f"Seed target {relation.render()} is a {existing.type}, not a table; drop it or rename the seed"
            )
        if existing is not None and not full_refresh:
            have = [c.name for c in self.get_columns(existing)]
            if [n.lower() for n in have] != [c.name.lower() for c in columns]:
                raise DatabaseError(
                    f"The columns of {path.name} ({', '.join(c.name for c in columns)}) no longer match the table "
                    f"{relation.render()} ({', '.join(have)}).\nRun `modelkit seed --full-refresh` to recreate it."
                )
            self.execute(f"truncate table {existing.render()}")
            target = existing
        else:
            if existing is not None:
                self.drop_relation(existing)
            definition = ", ".join(f"{ident(c.name)} {c.data_type}" for c in columns)
            self.execute(f"create table {relation.render()} ({definition})")
            target = relation.with_type("table")
            self._remember(target, self._key(relation.database, relation.schema), relation.identifier)
        self._copy(target, names, seed)
        count = len(seed.rows)
        return QueryResult(rows_affected=count, message=f"{'CREATE' if full_refresh else 'INSERT'} {count}")

    def _copy(self, target: Relation, names: str, seed: SeedFile) -> None:
        statement = f"copy {target.render()} ({names}) from stdin"
        try:
            with self._connection().cursor() as cur, cur.copy(statement) as copy:
                for row in seed.rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            error = self._database_error(exc, statement)
            found = _COPY_LINE.search(getattr(exc.diag, "context", None) or "")
            if found is None:
                raise error from None
            index = int(found.group(1)) - 1
            line = seed.lines[index] if 0 <= index < len(seed.lines) else None
            raise CsvReadError(error.message, line=line) from None
