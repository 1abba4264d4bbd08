"""DuckDB SQL for the stateful materializations: seeds, staging tables, contracted tables, MERGE.

Mixed into :class:`modelkit.adapters.duckdb.DuckDBAdapter`; the SQL DuckDB shares with other
engines (incremental strategies, snapshots, freshness) is :class:`modelkit.adapters.stateful.StandardStateful`.
Every method here is meant to run inside ``adapter.transaction()`` (except ``describe_csv``, which
only reads), so a failure rolls all of it back.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from modelkit.adapters.base import ColumnInfo, CsvReadError, QueryResult, RelationOptions, TableSchema
from modelkit.adapters.stateful import StandardStateful, sql_literal
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation, quote

# Types the CSV sniffer may pick: what dbt's seed inference yields, plus BIGINT
# for integers that do not fit in 32 bits.
SEED_TYPE_CANDIDATES = ["BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "VARCHAR"]
_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


class StatefulMixin(StandardStateful):
    """DuckDB's seeds, staging tables and contracted tables, over ``self.execute`` (provided by the adapter)."""

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None: ...

    def _drop_sql(self, relation: Relation) -> str: ...

    def invalidate_cache(self) -> None: ...

    # -- seeds -----------------------------------------------------------------
    @staticmethod
    def _csv_reader(path: Path, delimiter: str, types: Mapping[str, str], sample_all: bool, sniff: bool) -> str:
        """The reader of a seed file: ``sniff`` to find its columns' types (double quotes quote), else to load
        it into exactly ``types``' columns with the quote and escape characters found as dbt-duckdb's
        ``COPY ... FROM`` finds them (DuckDB's sniffer, knowing the columns: `'a'` quotes where `"a"` does not)."""
        options = ["header = true", f"delim = {sql_literal(delimiter)}"]
        if sniff:
            options += ["quote = '\"'", "escape = '\"'"]
        options += ["strict_mode = true", "nullstr = ['', 'null', 'NULL']"]
        if sniff:
            options.append(f"auto_type_candidates = {SEED_TYPE_CANDIDATES!r}")
        if sample_all:
            options.append("sample_size = -1")
        if types:
            key = "types" if sniff else "columns"
            options.append(
                f"{key} = {{" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in types.items()) + "}"
            )
        return f"read_csv({sql_literal(str(path))}, {', '.join(options)})"

    def describe_csv(
        self, path: Path, *, column_types: Mapping[str, str], delimiter: str, sample_all: bool = False
    ) -> list[ColumnInfo]:
        """The CSV's columns with the types a seed gets (``column_types`` override the sniffer)."""
        reader = self._csv_reader(path, delimiter, column_types, sample_all, sniff=True)
        with _read_errors():
            return self.describe_query(f"select * from {reader}")

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
        """``column_types`` should name every column (see ``describe_csv``), in file order."""
        with _read_errors():
            return self._load_csv(relation, path, column_types, delimiter, quote_columns, full_refresh)

    def _load_csv(
        self,
        relation: Relation,
        path: Path,
        column_types: Mapping[str, str],
        delimiter: str,
        quote_columns: bool,
        full_refresh: bool,
    ) -> QueryResult:
        columns = self.describe_csv(path, column_types=column_types, delimiter=delimiter)
        types = {c.name: c.data_type for c in columns}
        reader = self._csv_reader(path, delimiter, types, sample_all=False, sniff=False)
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
                    f"The columns of {path.name} ({', '.join(types)}) no longer match the table "
                    f"{relation.render()} ({', '.join(have)}).\nRun `modelkit seed --full-refresh` to recreate it."
                )
            self.execute(f"delete from {existing.render()}")
            self.execute(f"insert into {existing.render()} ({names}) select * from {reader}")
            count = self._count(f"select count(*) from {existing.render()}")
            return QueryResult(rows_affected=count, message=f"INSERT {count}")
        if existing is not None:
            self.execute(self._drop_sql(existing))
        definition = ", ".join(f"{ident(c.name)} {c.data_type}" for c in columns)
        self.execute(f"create table {relation.render()} ({definition})")
        self._remember(relation.with_type("table"), self._key(relation.database, relation.schema), relation.identifier)
        self.execute(f"insert into {relation.render()} select * from {reader}")
        count = self._count(f"select count(*) from {relation.render()}")
        return QueryResult(rows_affected=count, message=f"{'CREATE' if full_refresh else 'INSERT'} {count}")

    # -- incremental models --------------------------------------------------
    def create_temp_table(self, relation: Relation, sql: str, *, sql_header: str | None = None) -> Relation:
        stamp = datetime.datetime.now().strftime("%H%M%S%f")
        temp = Relation("temp", "main", f"{relation.identifier}__dbt_tmp{stamp}", type="table")
        self.execute(
            self.sql.with_header(sql_header, f"create or replace temp table {quote(temp.identifier)} as (\n{sql}\n)")
        )
        return temp

    def replace_table_with_schema(
        self,
        relation: Relation,
        schema: TableSchema,
        sql: str,
        options: RelationOptions | None = None,
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        """Declare the table (types and constraints, so that DuckDB checks every row), then fill it.

        Both statements run in one transaction: a row that breaks a constraint leaves the previous
        table as it was.
        """
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        items = [" ".join([quote(name), data_type, *checks]) for name, data_type, checks in schema.columns]
        items += list(schema.constraints)
        names = ", ".join(quote(name) for name, _, _ in schema.columns)
        statements = [] if existing is None else [f"drop {existing.type or 'table'} if exists {existing.render()}"]
        create = f"create table {relation.render()} (\n    " + ",\n    ".join(items) + "\n)"
        statements.append(self.sql.with_header(sql_header, create))
        statements.append(f"insert into {relation.render()} ({names})\nselect {names} from (\n{sql}\n) as model_subq")
        with self.transaction():
            for statement in statements:
                self.execute(statement)
        self.invalidate_cache()
        return QueryResult(message="OK")

    def merge_statement(self) -> bool:
        return _duckdb_version() >= (1, 4)  # DuckDB has MERGE since 1.4


def _duckdb_version() -> tuple[int, ...]:
    return tuple(int(p) for p in duckdb.__version__.split(".")[:2] if p.isdigit())


@contextmanager
def _read_errors() -> Iterator[None]:
    """DuckDB's CSV reader errors (a value the sniffed types did not foresee) as CsvReadError with the line."""
    try:
        yield
    except CsvReadError:
        raise
    except DatabaseError as exc:
        text = exc.message
        if "CSV" not in text and "Conversion Error" not in text and "sniff" not in text:
            raise
        found = _CSV_LINE.search(text)
        raise CsvReadError(text, line=int(found.group(1)) if found else None) from None
