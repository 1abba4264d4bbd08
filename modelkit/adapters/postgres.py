"""PostgreSQL through psycopg 3: ``type: postgres`` profiles, as dbt-postgres reads them.

Each thread has its own connection (opened on first use, autocommitting outside
``adapter.transaction()``). Relations are cached from ``pg_class`` and kept up to date by the
adapter's own DDL. A view or table is replaced as dbt-postgres replaces it: built as
``<name>__dbt_tmp``, then in one transaction the old relation is renamed ``<name>__dbt_backup`` and
the new one takes its name; after the commit the backup is dropped ``cascade``. A failed build
leaves the old relation untouched; the ``cascade`` also drops the views that selected from the old
relation (PostgreSQL binds a view to the relation, not its name), which a run that selects them
builds again afterwards, as with dbt-postgres.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from modelkit.adapters.base import ENFORCED, Capability, QueryResult, RelationOptions, TableSchema
from modelkit.adapters.postgres_catalog import RELATIONS_SQL, PostgresCatalog
from modelkit.adapters.postgres_connect import check_profile, connect
from modelkit.adapters.postgres_sql import PostgresSQL
from modelkit.adapters.postgres_stateful import MAX_IDENTIFIER, PostgresStateful, suffixed
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation, quote
from modelkit.project.profiles import Target

# format_type() names of the common types, so that describing a query needs no catalog lookup
_TYPE_NAMES = {
    16: "boolean",
    17: "bytea",
    20: "bigint",
    21: "smallint",
    23: "integer",
    25: "text",
    114: "json",
    700: "real",
    701: "double precision",
    1043: "character varying",
    1082: "date",
    1083: "time without time zone",
    1114: "timestamp without time zone",
    1184: "timestamp with time zone",
    1186: "interval",
    1700: "numeric",
    2950: "uuid",
    3802: "jsonb",
}


def _ddl_kind(relation: Relation) -> str:
    return "materialized view" if relation.type == "materialized_view" else (relation.type or "table")


class PostgresAdapter(PostgresCatalog, PostgresStateful):
    type = "postgres"
    quote_char = '"'
    capabilities = frozenset({Capability.BATCHED_TESTS, Capability.CATALOG_QUERY, Capability.SUBQUERY_ALIAS})
    constraint_support = dict.fromkeys(
        ("not_null", "unique", "primary_key", "check", "foreign_key", "custom"), ENFORCED
    )  # as dbt-postgres: PostgreSQL checks every one of them
    sql = PostgresSQL()
    incremental_strategies = ("delete+insert", "append", "merge")  # the default first (appends without a unique_key)

    def __init__(self, target: Target) -> None:
        self.target = target
        self.server_version = (0, 0)
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._connections_lock = threading.Lock()
        self._lock = threading.RLock()
        self._relations: dict[tuple[str, str], dict[str, Relation]] | None = None
        self._schemas: set[str] | None = None
        self._type_names: dict[tuple[int, int], str] = {}
        self._opened = False

    # -- connections -----------------------------------------------------------
    def open(self) -> None:
        """Connect once to check the profile (a ConnectionFailure names it); threads connect on first use."""
        if self._opened:
            return
        check_profile(self.target)
        connection = self._connection()
        version = connection.info.server_version
        self.server_version = (version // 10000, version % 10000)
        self._opened = True

    def _connection(self) -> psycopg.Connection[Any]:
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.closed:
            connection = connect(self.target)
            self._local.connection = connection
            self._local.depth = 0
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.close()
            except psycopg.Error:
                pass  # already gone
        self._local = threading.local()
        self._opened = False

    def interrupt(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.cancel()
            except psycopg.Error:
                pass  # closed already

    def quote(self, identifier: str) -> str:
        return quote(identifier)

    def info(self) -> dict[str, Any]:
        creds = self.target.credentials
        version = ".".join(str(p) for p in self.server_version)
        return {
            "type": self.type,
            "postgres": psycopg.__version__,
            "server": version,
            "host": creds.get("host"),
            "dbname": self.target.database,
        }

    # -- statements --------------------------------------------------------------
    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult:
        """Run ``sql`` (one statement or several separated by semicolons); ``fetch`` returns the last result."""
        return self._execute(sql, fetch)

    def _execute(self, sql: str, fetch: bool = False, body: str | None = None) -> QueryResult:
        """``execute``; an error's position is also given within ``body``, the model's SQL inside ``sql``."""
        connection = self._connection()
        try:
            with connection.cursor() as cur:
                cur.execute(sql.encode())  # bytes: sent as written, several statements allowed
                result = QueryResult(message=cur.statusmessage or "OK", rows_affected=_rowcount(cur))
                while True:
                    if fetch and cur.description is not None:
                        result.columns = [d.name for d in cur.description]
                        result.types = self._result_types(cur)
                        result.rows = cur.fetchall()
                        result.rows_affected = len(result.rows)
                    result.message = cur.statusmessage or result.message
                    if not cur.nextset():
                        break
                return result
        except psycopg.Error as exc:
            raise self._database_error(exc, sql, body) from None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one catalog query with parameters."""
        try:
            with self._connection().cursor() as cur:
                cur.execute(sql, params or None)  # type: ignore[arg-type]
                return cur.fetchall()
        except psycopg.Error as exc:
            raise self._database_error(exc, sql) from None

    def _database_error(self, exc: psycopg.Error, sql: str, body: str | None = None) -> DatabaseError:
        """The server's message with its position in the statement (``LINE n:`` and a caret, as psql shows
        it) and, when the statement wraps the model's SQL (``body``), the line and column in that SQL."""
        text = str(exc).strip() or type(exc).__name__
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return DatabaseError(f"{text} (the statement was cancelled)")
        where = _position_in(sql, body, getattr(exc.diag, "statement_position", None))
        return DatabaseError(text + (f"\n(at line {where[0]}, column {where[1]} of the model's SQL)" if where else ""))

    def _result_types(self, cur: psycopg.Cursor[Any]) -> list[str]:
        result = cur.pgresult
        if result is None:
            return []
        pairs = [(result.ftype(i), result.fmod(i)) for i in range(result.nfields)]
        return self._format_types(pairs)

    def _format_types(self, pairs: list[tuple[int, int]]) -> list[str]:
        """format_type(oid, typmod) for each pair: the common ones from a table, others asked once and cached."""
        unknown = [
            p for p in dict.fromkeys(pairs) if p not in self._type_names and not (p[1] < 0 and p[0] in _TYPE_NAMES)
        ]
        if unknown:
            rows = self._query(
                "select o, m, format_type(o, m) from unnest(%s::oid[], %s::int[]) as t(o, m)",
                ([o for o, _ in unknown], [m for _, m in unknown]),
            )
            with self._lock:
                for oid, mod, name in rows:
                    self._type_names[(int(oid), int(mod))] = name
        return [self._type_names.get(p) or _TYPE_NAMES.get(p[0], str(p[0])) for p in pairs]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One PostgreSQL transaction on this thread's connection; nested blocks join it.

        PostgreSQL's DDL is transactional: whatever happens inside (an error, a cancel, the
        process being killed) the database keeps either all of the block's changes or none.
        """
        local = self._local
        connection = self._connection()
        if getattr(local, "depth", 0):
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        self.execute("begin")
        local.depth, local.undo = 1, []
        try:
            yield
        except BaseException:
            local.depth = 0
            self._rollback(connection)
            raise
        local.depth = 0
        try:
            connection.execute(b"commit")
        except psycopg.Error as exc:
            self._rollback(connection)
            raise self._database_error(exc, "commit") from None
        local.undo = []

    def _rollback(self, connection: psycopg.Connection[Any]) -> None:
        try:
            connection.execute(b"rollback")
        except psycopg.Error:
            pass  # the connection is gone: the server rolled back
        undo, self._local.undo = getattr(self._local, "undo", []), []
        with self._lock:
            if self._relations is not None:
                for key, name, previous in reversed(undo):
                    bucket = self._relations.setdefault(key, {})
                    if previous is None:
                        bucket.pop(name, None)
                    else:
                        bucket[name] = previous

    # -- DDL ---------------------------------------------------------------------------
    def create_schema(self, database: str | None, schema: str) -> None:
        self._verify_database(database)
        self._load_relations()
        with self._lock:
            if self._schemas is not None and schema.lower() in self._schemas:
                return
            self.execute(f"create schema if not exists {quote(schema)}")
            if self._schemas is not None:
                self._schemas.add(schema.lower())
            self._load_relations().setdefault(self._key(database, schema), {})

    def drop_schema(self, database: str | None, schema: str) -> None:
        self._verify_database(database)
        self.execute(f"drop schema if exists {quote(schema)} cascade")
        with self._lock:
            if self._relations is not None:
                self._relations.pop(self._key(database, schema), None)
            if self._schemas is not None:
                self._schemas.discard(schema.lower())

    def truncate_relation(self, relation: Relation) -> None:
        self.execute(f"truncate table {self._full(relation).render()}")

    def _full(self, relation: Relation) -> Relation:
        return Relation(
            relation.database or self.target.database,
            relation.schema or self.target.schema,
            relation.identifier,
            relation.type,
        )

    def drop_relation(self, relation: Relation) -> None:
        """``drop <kind> if exists ... cascade``, as dbt-postgres drops (views that select from it go too)."""
        if relation.schema is None:  # a staging table: private to this connection, never cached
            self.execute(f"drop table if exists {quote(relation.identifier)}")
            return
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        if existing is None:
            return
        self.execute(f"drop {_ddl_kind(existing)} if exists {existing.render()} cascade")
        self._forget_dropped(existing)

    def _forget_dropped(self, relation: Relation) -> None:
        """A cascade may have dropped other relations too: the cache forgets the ones that are gone."""
        self._remember(None, self._key(relation.database, relation.schema), relation.identifier)
        with self._lock:
            cached = self._relations or {}
            views = [
                r for bucket in cached.values() for r in bucket.values() if r.type in ("view", "materialized_view")
            ]
        if not views:
            return
        alive = {
            (schema.lower(), name.lower())
            for schema, name, _ in self._query(RELATIONS_SQL + " and c.relkind in ('v', 'm')")
        }
        for view in views:
            if (str(view.schema).lower(), view.identifier.lower()) not in alive:
                self._remember(None, self._key(view.database, view.schema), view.identifier)

    def rename_relation(self, relation: Relation, new_identifier: str) -> None:
        existing = self.get_relation(relation.database, relation.schema, relation.identifier) or self._full(relation)
        self.execute(f"alter {_ddl_kind(existing)} {existing.render()} rename to {quote(new_identifier)}")
        key = self._key(relation.database, relation.schema)
        self._remember(None, key, relation.identifier)
        self._remember(existing.replace_identifier(new_identifier), key, new_identifier)

    def replace_view(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        def build(tmp: Relation) -> QueryResult:
            return self._execute(self.sql.with_header(sql_header, f"create view {tmp} as (\n{sql}\n)"), body=sql)

        return self._swap(relation.with_type("view"), build)

    def replace_table(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        def build(tmp: Relation) -> QueryResult:
            return self._execute(self.sql.with_header(sql_header, f"create table {tmp} as (\n{sql}\n)"), body=sql)

        return self._swap(relation.with_type("table"), build)

    def replace_table_with_schema(
        self,
        relation: Relation,
        schema: TableSchema,
        sql: str,
        options: RelationOptions | None = None,
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        """The table declared first (types and constraints, checked on every row), filled, then swapped in."""
        items = [" ".join([quote(name), data_type, *checks]) for name, data_type, checks in schema.columns]
        items += list(schema.constraints)
        names = ", ".join(quote(name) for name, _, _ in schema.columns)

        def build(tmp: Relation) -> QueryResult:
            self.execute(
                self.sql.with_header(sql_header, f"create table {tmp} (\n    " + ",\n    ".join(items) + "\n)")
            )
            return self._execute(
                f"insert into {tmp} ({names})\nselect {names} from (\n{sql}\n) as model_subq", body=sql
            )

        return self._swap(relation.with_type("table"), build)

    def _swap(self, relation: Relation, build: Callable[[Relation], QueryResult]) -> QueryResult:
        """dbt-postgres's view and table materializations: build aside, rename in one transaction, drop the old."""
        relation = self._full(relation)
        if len(relation.identifier.encode()) > MAX_IDENTIFIER:  # PostgreSQL would cut it silently
            raise DatabaseError(f"Relation name '{relation.identifier}' is longer than {MAX_IDENTIFIER} characters")
        key = self._key(relation.database, relation.schema)
        intermediate = suffixed(relation, "__dbt_tmp")
        backup = suffixed(relation, "__dbt_backup")
        for leftover in (intermediate, backup):  # left by a run that was killed mid-way
            self.drop_relation(leftover)
        existing = self.get_relation(relation.database, relation.schema, relation.identifier)
        with self.transaction():
            result = build(intermediate)
            self._remember(intermediate, key, intermediate.identifier)
            if existing is not None:
                self.rename_relation(existing, backup.identifier)
            self.rename_relation(intermediate, relation.identifier)
        if existing is not None:
            self.drop_relation(backup.with_type(existing.type))
        return result

    # -- SQL snippets ------------------------------------------------------------------
    def limit_sql(self, sql: str, limit: int) -> str:
        return f"select * from (\n{sql}\n) as __modelkit_preview limit {int(limit)}"


def _rowcount(cur: psycopg.Cursor[Any]) -> int | None:
    return cur.rowcount if cur.rowcount is not None and cur.rowcount >= 0 else None


def _position_in(statement: str, body: str | None, position: str | None) -> tuple[int, int] | None:
    """(line, column) within ``body`` of the server's 1-based character ``position`` in ``statement``."""
    if not body or not position or not position.isdigit():
        return None
    start = statement.find(body)
    offset = int(position) - 1 - start
    if start < 0 or not 0 <= offset < len(body):
        return None
    line_start = body.rfind("\n", 0, offset) + 1
    return body.count("\n", 0, offset) + 1, offset - line_start + 1
