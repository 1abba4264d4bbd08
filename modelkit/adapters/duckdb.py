"""Embedded DuckDB: the default engine."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from modelkit.adapters import duckdb_catalog
from modelkit.adapters.base import ENFORCED, Capability, ColumnInfo, QueryResult, RelationOptions
from modelkit.adapters.duckdb_catalog import (
    RELATIONS_SQL,
    catalog_entries,
    catalog_sql,
    columns_sql,
    kinds_sql,
    relations_by_schema,
    row_count_sql,
)
from modelkit.adapters.duckdb_connect import connect
from modelkit.adapters.duckdb_stateful import StatefulMixin
from modelkit.adapters.sql import StandardSQL
from modelkit.adapters.stateful import sql_literal
from modelkit.core import fsio
from modelkit.core.background import Background
from modelkit.core.errors import ConnectionFailure, DatabaseError
from modelkit.core.relation import Relation, quote
from modelkit.project.profiles import Target


class DuckDBAdapter(StatefulMixin):
    type = "duckdb"
    quote_char = '"'
    capabilities = frozenset(
        {
            Capability.BATCHED_TESTS,
            Capability.CATALOG_QUERY,
            Capability.RELATION_STATE,
            Capability.OFFLINE_INFO,
            Capability.EARLY_OPEN,  # one connection, each thread a cursor of it
        }
    )
    constraint_support = dict.fromkeys(
        ("not_null", "unique", "primary_key", "check", "foreign_key", "custom"), ENFORCED
    )  # as dbt-duckdb: DuckDB checks every one of them on insert
    sql = StandardSQL('"', type_of_function="typeof")
    incremental_strategies = ("delete+insert", "append", "merge")  # dbt-duckdb's, its default first
    grants_unsupported = "DuckDB adapter: Grants for relations are not supported by DuckDB"  # dbt-duckdb's warning

    def __init__(self, target: Target) -> None:
        self.target = target
        self._con: duckdb.DuckDBPyConnection | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cursors: list[duckdb.DuckDBPyConnection] = []  # every thread's, for interrupt()
        self._cursors_lock = threading.Lock()
        self._relations: dict[tuple[str, str], dict[str, Relation]] | None = None
        self._schemas: set[tuple[str, str]] = set()  # (database, schema) known to exist, the cache aside

    # -- connection ---------------------------------------------------------
    def open(self) -> None:
        if self._con is not None:
            return
        creds = self.target.credentials
        path = str(creds.get("path", ":memory:"))
        if path != ":memory:" and not path.startswith(("md:", "motherduck:")):
            fsio.ensure_dir(Path(path).parent)
        config = {k: str(v) for k, v in (creds.get("config_options") or {}).items()}
        self._con = connect(path, config)
        try:
            self._setup(self._con, creds)
        except duckdb.Error as exc:
            self.close()
            origin = self.target.origin if self.target.origin != "embedded" else path
            raise ConnectionFailure(f"Could not set up DuckDB database {path}: {exc}", path=origin) from None

    def database_exists(self) -> bool:
        """An in-memory database, or a file that is there (opening creates the file and its folder)."""
        path = str(self.target.credentials.get("path", ":memory:"))
        if path == ":memory:":
            return True
        return not path.startswith(("md:", "motherduck:")) and os.path.isfile(path)

    def _setup(self, con: duckdb.DuckDBPyConnection, creds: dict[str, Any]) -> None:
        """Extensions, settings and attached databases of the profile."""
        for ext in creds.get("extensions") or []:
            name = ext if isinstance(ext, str) else ext.get("name")
            try:
                con.execute(f"LOAD {name}")
            except duckdb.Error:
                con.execute(f"INSTALL {name}")
                con.execute(f"LOAD {name}")
        for key, value in (creds.get("settings") or {}).items():
            con.execute(f"SET {key} = {sql_literal(value) if isinstance(value, str) else value}")
        for entry in creds.get("attach") or []:
            alias = f' AS "{entry["alias"]}"' if entry.get("alias") else ""
            options = []
            if entry.get("type"):
                options.append(f"TYPE {entry['type']}")
            if entry.get("read_only"):
                options.append("READ_ONLY")
            opts = f" ({', '.join(options)})" if options else ""
            con.execute(f"ATTACH IF NOT EXISTS {sql_literal(entry['path'])}{alias}{opts}")
        threads = os.environ.get("MODELKIT_DUCKDB_THREADS")
        if threads:
            con.execute(f"SET threads = {int(threads)}")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
            self._local = threading.local()
            with self._cursors_lock:
                self._cursors.clear()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            if self._con is None:
                self.open()
            assert self._con is not None
            cur = self._con.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def interrupt(self) -> None:
        with self._cursors_lock:
            cursors = list(self._cursors)
        for cur in cursors:
            try:
                cur.interrupt()
            except (duckdb.Error, RuntimeError):
                pass  # closed already

    def quote(self, identifier: str) -> str:
        return quote(identifier)

    # -- statements ----------------------------------------------------------
    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult:
        cur = self._cursor()
        try:
            cur.execute(sql)
            if fetch:
                description = cur.description or []
                rows = cur.fetchall()
                return QueryResult(
                    columns=[d[0] for d in description],
                    types=[str(d[1]) for d in description],
                    rows=rows,
                    rows_affected=len(rows),
                )
        except duckdb.Error as exc:
            raise DatabaseError(str(exc).strip()) from None
        except RuntimeError as exc:
            if "interrupted" in str(exc).lower():  # Ctrl-C while DuckDB ran on this (the main) thread
                raise KeyboardInterrupt from None
            raise
        return QueryResult()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One DuckDB transaction on this thread's connection; nested blocks join it.

        DuckDB makes DDL transactional and writes a commit to its WAL atomically, so
        whatever happens inside (an error, an interrupt, the process being killed)
        the database keeps either all of the block's changes or none of them.
        """
        local = self._local
        if getattr(local, "depth", 0):
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        cur = self._cursor()
        self.execute("BEGIN TRANSACTION")
        local.depth, local.undo = 1, []
        try:
            yield
        except BaseException:
            local.depth = 0
            self._rollback(cur)
            raise
        local.depth = 0
        try:
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            self._rollback(cur)
            raise DatabaseError(str(exc).strip()) from None
        local.undo = []

    def _rollback(self, cur: duckdb.DuckDBPyConnection) -> None:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        # forget what this transaction told the relation cache
        undo, self._local.undo = getattr(self._local, "undo", []), []
        with self._lock:
            relations = self._relations
            if relations is not None:
                for key, name, previous in reversed(undo):
                    bucket = relations.setdefault(key, {})
                    if previous is None:
                        bucket.pop(name, None)
                    else:
                        bucket[name] = previous

    def _transaction(self, statements: list[str]) -> None:
        with self.transaction():
            for sql in statements:
                self.execute(sql)

    # -- catalog -------------------------------------------------------------
    def _load_relations(self) -> dict[tuple[str, str], dict[str, Relation]]:
        if self._relations is None:
            self._relations = relations_by_schema(self.execute(RELATIONS_SQL, fetch=True).rows)
        return self._relations

    def _key(self, database: str | None, schema: str | None) -> tuple[str, str]:
        return ((database or self.target.database).lower(), (schema or self.target.schema).lower())

    def _remember(self, relation: Relation | None, key: tuple[str, str], identifier: str) -> None:
        with self._lock:
            bucket = self._load_relations().setdefault(key, {})
            if getattr(self._local, "depth", 0):
                self._local.undo.append((key, identifier.lower(), bucket.get(identifier.lower())))
            if relation is None:
                bucket.pop(identifier.lower(), None)
            else:
                bucket[identifier.lower()] = relation

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None:
        with self._lock:
            return self._load_relations().get(self._key(database, schema), {}).get(identifier.lower())

    def list_relations(self, database: str | None, schema: str, *, cached: bool = True) -> list[Relation]:
        if cached:
            with self._lock:
                return list(self._load_relations().get(self._key(database, schema), {}).values())
        db, name = (sql_literal(part) for part in self._key(database, schema))
        where = f"not internal and lower(database_name) = {db} and lower(schema_name) = {name}"
        rows = self.execute(
            f"select database_name, schema_name, table_name, 'table' from duckdb_tables() where {where} "
            f"union all select database_name, schema_name, view_name, 'view' from duckdb_views() where {where} "
            "order by 3",
            fetch=True,
        ).rows
        return [Relation(database_name, schema_name, name, kind) for database_name, schema_name, name, kind in rows]

    def list_schemas(self, database: str | None) -> list[str]:
        db = sql_literal((database or self.target.database).lower())
        rows = self.execute(
            f"select schema_name from information_schema.schemata where lower(catalog_name) = {db} order by 1",
            fetch=True,
        ).rows
        return [row[0] for row in rows]

    def invalidate_cache(self) -> None:
        with self._lock:
            self._relations = None
            self._schemas.clear()

    def get_columns(self, relation: Relation) -> list[ColumnInfo]:
        """The relation's columns in order; a name without database and schema is looked up as DuckDB resolves
        it: a temporary table of the connection first, then the target's schema."""
        if relation.database is None and relation.schema is None:
            temporary = self.execute(
                "select column_name, data_type from duckdb_columns() where database_name = 'temp' "
                f"and table_name = {sql_literal(relation.identifier)} order by column_index",
                fetch=True,
            )
            if temporary.rows:
                return [ColumnInfo(name, dtype) for name, dtype in temporary.rows]
        result = self.execute(
            "select column_name, data_type from duckdb_columns() "
            f"where database_name = {sql_literal(relation.database or self.target.database)} "
            f"and schema_name = {sql_literal(relation.schema or self.target.schema)} "
            f"and table_name = {sql_literal(relation.identifier)} order by column_index",
            fetch=True,
        )
        return [ColumnInfo(name, dtype) for name, dtype in result.rows]

    def get_catalog(self, schemas: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Every relation in these (database, schema) pairs with its columns, in order, from DuckDB's catalog.

        One dict per relation: database, schema, name, type ("BASE TABLE" or "VIEW"), comment,
        columns [(name, data_type, comment)], and row_count (exact, tables only; None for views).
        """
        if not schemas:
            return []
        pairs = sorted({self._key(db, schema) for db, schema in schemas})
        relations = catalog_entries(self.execute(catalog_sql(pairs), fetch=True).rows)
        tables = [key for key, entry in relations.items() if entry["type"] == "BASE TABLE"]
        counts: dict[tuple[str, str, str], int] = {}
        for start in range(0, len(tables), 500):
            chunk = tables[start : start + 500]
            for i, count in self.execute(row_count_sql(chunk), fetch=True).rows:
                counts[chunk[i]] = count
        for key, entry in relations.items():
            entry["row_count"] = counts.get(key)
        return list(relations.values())

    def relation_states(self, schemas: list[tuple[str | None, str]]) -> dict[tuple[str, str, str], str]:
        """A table's columns and estimated row count, a view's columns and SQL (DuckDB's catalog, no scan).

        The columns are read on a thread of their own while this one reads the tables' sizes and the views'
        SQL; the schemas found are known to exist (a run's create_schema then asks nothing)."""
        if not schemas:
            return {}
        pairs = sorted({self._key(db, schema) for db, schema in schemas})
        columns: list[Any] = []
        reading = Background(lambda: columns.extend(self.execute(columns_sql(pairs), fetch=True).rows), "catalog")
        try:
            kinds = self.execute(kinds_sql(pairs), fetch=True).rows
        finally:
            reading.wait()
        states = duckdb_catalog.relation_states(columns, kinds)
        with self._lock:
            self._schemas.update((db, schema) for db, schema, _ in states)
        return states

    def describe_query(self, sql: str) -> list[ColumnInfo]:
        result = self.execute(f"describe ({sql})", fetch=True)
        return [ColumnInfo(row[0], row[1]) for row in result.rows]

    # -- DDL primitives ------------------------------------------------------
    def create_schema(self, database: str | None, schema: str) -> None:
        key = self._key(database, schema)
        with self._lock:
            known = key in self._schemas or key in self._load_relations()
        if known:
            return
        db = quote(database or self.target.database)
        self.execute(f"create schema if not exists {db}.{quote(schema)}")
        with self._lock:
            self._load_relations().setdefault(key, {})

    def drop_schema(self, database: str | None, schema: str) -> None:
        db = quote(database or self.target.database)
        self.execute(f"drop schema if exists {db}.{quote(schema)} cascade")
        key = self._key(database, schema)
        with self._lock:
            self._schemas.discard(key)
            if self._relations is not None:
                self._relations.pop(key, None)

    def truncate_relation(self, relation: Relation) -> None:
        database, schema = relation.database or self.target.database, relation.schema or self.target.schema
        self.execute(f"truncate table {quote(database)}.{quote(schema)}.{quote(relation.identifier)}")

    def _drop_sql(self, relation: Relation) -> str:
        kind = "view" if relation.type == "view" else "table"
        return f"drop {kind} if exists {relation.render()}"

    def drop_relation(self, relation: Relation) -> None:
        if relation.database == "temp":  # staging tables: private to this connection, never cached
            self.execute(f"drop table if exists {quote(relation.identifier)}")
            return
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        if existing is None:
            return
        self.execute(self._drop_sql(existing))
        self._remember(None, self._key(relation.database, relation.schema), relation.identifier)

    def rename_relation(self, relation: Relation, new_identifier: str) -> None:
        existing = self.get_relation(relation.database, relation.schema, relation.identifier) or relation
        kind = "view" if existing.type == "view" else "table"
        self.execute(f"alter {kind} {existing.render()} rename to {quote(new_identifier)}")
        key = self._key(relation.database, relation.schema)
        self._remember(None, key, relation.identifier)
        self._remember(existing.replace_identifier(new_identifier), key, new_identifier)

    def replace_view(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        create = self.sql.with_header(sql_header, f"create or replace view {relation.render()} as (\n{sql}\n)")
        if existing is not None and existing.type != "view":
            self._transaction([self._drop_sql(existing), create])
        else:
            self.execute(create)  # one statement: DuckDB keeps the old view if it fails
        self._remember(relation.with_type("view"), self._key(relation.database, relation.schema), relation.identifier)
        return QueryResult(message="OK")

    def replace_table(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        """Build the new table and swap it in atomically.

        DuckDB's ``CREATE OR REPLACE TABLE ... AS`` runs as one transaction that
        builds the new table completely before it replaces the old catalog entry,
        so a failing query (or a killed process) leaves the previous table and its
        data as they were. It is the cheapest swap DuckDB offers (about half the
        cost of building under ``__dbt_tmp`` and renaming). A view of the same name
        is dropped in the same transaction.
        """
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        create = self.sql.with_header(sql_header, f"create or replace table {relation.render()} as (\n{sql}\n)")
        if existing is not None and existing.type == "view":
            self._transaction([self._drop_sql(existing), create])
        else:
            self.execute(create)
        self._remember(relation.with_type("table"), self._key(relation.database, relation.schema), relation.identifier)
        return QueryResult(message="OK")

    # -- SQL snippets --------------------------------------------------------
    def limit_sql(self, sql: str, limit: int) -> str:
        return f"select * from (\n{sql}\n) as __modelkit_preview limit {int(limit)}"

    def info(self) -> dict[str, Any]:
        return {"type": self.type, "path": self.target.credentials.get("path"), "duckdb": duckdb.__version__}
