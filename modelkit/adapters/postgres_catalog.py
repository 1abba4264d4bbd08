"""PostgreSQL's catalog: the relation cache (from pg_class), columns, schemas and the docs catalog.

Mixed into :class:`modelkit.adapters.postgres.PostgresAdapter`, which provides the connection and
the statements. PostgreSQL reaches one database per connection: relations of another database are
never found, and DDL naming one is an error (dbt-postgres's verify_database).
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from modelkit.adapters.base import ColumnInfo
from modelkit.adapters.sql import strip_semicolon
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation, quote
from modelkit.project.profiles import Target

# pg_class.relkind -> the relation's type (tables include partitioned and foreign tables)
KINDS = {"r": "table", "p": "table", "f": "table", "v": "view", "m": "materialized_view"}
RELATIONS_SQL = (
    "select n.nspname, c.relname, c.relkind from pg_catalog.pg_class c "
    "join pg_catalog.pg_namespace n on n.oid = c.relnamespace "
    "where c.relkind in ('r', 'p', 'f', 'v', 'm') and c.relpersistence in ('p', 'u') "
    "and n.nspname <> 'information_schema' and left(n.nspname, 3) <> 'pg_'"
)


class PostgresCatalog:
    """What the adapter knows of the database's relations, kept current by its own DDL."""

    target: Target
    _lock: threading.RLock
    _local: threading.local
    _relations: dict[tuple[str, str], dict[str, Relation]] | None
    _schemas: set[str] | None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...  # pragma: no cover

    def _connection(self) -> psycopg.Connection[Any]: ...  # pragma: no cover - the adapter's

    def _result_types(self, cur: psycopg.Cursor[Any]) -> list[str]: ...  # pragma: no cover - the adapter's

    def _database_error(self, exc: psycopg.Error, sql: str, body: str | None = None) -> DatabaseError: ...

    def _load_relations(self) -> dict[tuple[str, str], dict[str, Relation]]:
        with self._lock:
            if self._relations is None:
                database = self.target.database
                found: dict[tuple[str, str], dict[str, Relation]] = {}
                for schema, name, kind in self._query(RELATIONS_SQL):
                    relation = Relation(database, schema, name, KINDS[kind])
                    found.setdefault((database.lower(), schema.lower()), {})[name.lower()] = relation
                self._schemas = {row[0].lower() for row in self._query("select nspname from pg_catalog.pg_namespace")}
                self._relations = found
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

    def invalidate_cache(self) -> None:
        with self._lock:
            self._relations = None
            self._schemas = None

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None:
        with self._lock:
            return self._load_relations().get(self._key(database, schema), {}).get(identifier.lower())

    def list_relations(self, database: str | None, schema: str, *, cached: bool = True) -> list[Relation]:
        if cached:
            with self._lock:
                return list(self._load_relations().get(self._key(database, schema), {}).values())
        db = database or self.target.database
        if db.lower() != self.target.database.lower():
            return []
        rows = self._query(RELATIONS_SQL + " and n.nspname = %s order by c.relname", (schema,))
        return [Relation(db, found_schema, name, KINDS[kind]) for found_schema, name, kind in rows]

    def list_schemas(self, database: str | None) -> list[str]:
        self._verify_database(database)
        return [row[0] for row in self._query("select nspname from pg_catalog.pg_namespace order by 1")]

    def _verify_database(self, database: str | None) -> None:
        """PostgreSQL reaches one database per connection (dbt-postgres's verify_database)."""
        expected = self.target.database
        if database and database.strip('"').lower() != expected.lower():
            raise DatabaseError(f"Cross-db references not allowed in postgres ({database} vs {expected})")

    def get_columns(self, relation: Relation) -> list[ColumnInfo]:
        """The relation's columns in order, with format_type()'s names (``character varying(20)``)."""
        if relation.schema is None:  # a temporary table: found through the session's search path
            name = quote(relation.identifier)
        else:
            name = f"{quote(relation.schema)}.{quote(relation.identifier)}"
        rows = self._query(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute a "
            "where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped order by a.attnum",
            (name,),
        )
        return [ColumnInfo(column, data_type) for column, data_type in rows]

    def describe_query(self, sql: str) -> list[ColumnInfo]:
        """The query's columns, planned but not run (dbt-postgres's get_column_schema_from_query)."""
        connection = self._connection()
        statement = f"select * from (\n{strip_semicolon(sql)}\n) as __modelkit_sbq where false limit 0"
        try:
            with connection.cursor() as cur:
                cur.execute(statement.encode())
                names = [d.name for d in cur.description or []]
                types = self._result_types(cur)
        except psycopg.Error as exc:
            raise self._database_error(exc, statement) from None
        return [ColumnInfo(name, data_type) for name, data_type in zip(names, types)]

    def get_catalog(self, schemas: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Every relation of these schemas with its columns, from pg_catalog as dbt-postgres's catalog query.

        One dict per relation: database, schema, name, type ("BASE TABLE", "VIEW" or "MATERIALIZED
        VIEW"), comment, owner, columns [(name, data_type, comment)]; no row counts (as dbt-postgres).
        """
        wanted = sorted({schema.lower() for database, schema in schemas if self._in_database(database)})
        if not wanted:
            return []
        rows = self._query(
            "select sch.nspname, tbl.relname, case tbl.relkind when 'v' then 'VIEW' "
            "when 'm' then 'MATERIALIZED VIEW' else 'BASE TABLE' end, tbl_desc.description, col.attname, "
            "pg_catalog.format_type(col.atttypid, col.atttypmod), col_desc.description, "
            "pg_get_userbyid(tbl.relowner) "
            "from pg_catalog.pg_namespace sch "
            "join pg_catalog.pg_class tbl on tbl.relnamespace = sch.oid "
            "join pg_catalog.pg_attribute col on col.attrelid = tbl.oid "
            "left outer join pg_catalog.pg_description tbl_desc on tbl_desc.objoid = tbl.oid "
            "and tbl_desc.objsubid = 0 "
            "left outer join pg_catalog.pg_description col_desc on col_desc.objoid = tbl.oid "
            "and col_desc.objsubid = col.attnum "
            "where lower(sch.nspname) = any(%s) and not pg_is_other_temp_schema(sch.oid) "
            "and tbl.relpersistence in ('p', 'u') and tbl.relkind in ('r', 'v', 'f', 'p', 'm') "
            "and col.attnum > 0 and not col.attisdropped "
            "order by sch.nspname, tbl.relname, col.attnum",
            (wanted,),
        )
        database = self.target.database
        relations: dict[tuple[str, str], dict[str, Any]] = {}
        for schema, name, kind, comment, column, data_type, column_comment, owner in rows:
            entry = relations.setdefault(
                (schema, name),
                {
                    "database": database,
                    "schema": schema,
                    "name": name,
                    "type": kind,
                    "comment": comment,
                    "owner": owner,
                    "columns": [],
                    "row_count": None,
                },
            )
            entry["columns"].append((column, data_type, column_comment))
        return list(relations.values())

    def _in_database(self, database: str | None) -> bool:
        return database is None or database.lower() == self.target.database.lower()
