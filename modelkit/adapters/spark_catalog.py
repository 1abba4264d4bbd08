"""Spark: what the metastore holds, read through SQL (``show tables``, ``describe table``).

Mixed into :class:`modelkit.adapters.spark.SparkAdapter`. A schema's relations are listed once and
cached; listing a schema also drops the temporary tables an interrupted run left in it (those this
adapter did not create; see the notes of :mod:`modelkit.adapters.spark`).
"""

from __future__ import annotations

import threading
from typing import Any

from modelkit.adapters.base import ColumnInfo, QueryResult
from modelkit.adapters.spark_sql import quote, relation_name
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation
from modelkit.project.profiles import Target

TEMP_MARK = "__dbt_tmp"  # in the name of every table modelkit builds before swapping it in, or stages rows in
SCHEMA_MISSING = ("SCHEMA_NOT_FOUND", "NoSuchNamespace", "NoSuchDatabase", "Database not found")
RELATION_MISSING = ("TABLE_OR_VIEW_NOT_FOUND", "Table or view not found", "NoSuchTable")


def spark_error(exc: BaseException) -> DatabaseError:
    """The engine's message without the JVM stack trace pyspark appends to it."""
    text = str(exc).strip() or type(exc).__name__
    for marker in ("\n\nJVM stacktrace:", "\nJVM stacktrace:"):
        text = text.split(marker, 1)[0]
    return DatabaseError(text.strip())


class SparkCatalog:
    """Relations, schemas and columns over the adapter's statements."""

    target: Target
    _lock: threading.Lock
    _relations: dict[str, dict[str, Relation]]
    _errors: tuple[type[BaseException], ...]

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...  # pragma: no cover - the adapter's

    def _session(self) -> Any: ...  # pragma: no cover - the adapter's

    def _is_own_temp(self, schema: str, name: str) -> bool: ...  # pragma: no cover - the adapter's

    def _drop(self, relation: Relation) -> None: ...  # pragma: no cover - the adapter's

    def _schema(self, schema: str | None) -> str:
        return schema or self.target.schema

    def _relation(self, schema: str, name: str, kind: str | None) -> Relation:
        return Relation(self.target.database, schema, name, kind, quote_char="`")

    def _list(self, schema: str) -> dict[str, Relation] | None:
        """The schema's relations, None when it does not exist."""
        try:
            tables = self.execute(f"show tables in {quote(schema)}", fetch=True).rows
            views = self.execute(f"show views in {quote(schema)}", fetch=True).rows
        except DatabaseError as exc:
            if any(marker in exc.message for marker in SCHEMA_MISSING):
                return None
            raise
        view_names = {str(name).lower() for _, name, temporary in views if not temporary}
        found = {}
        for _, name, temporary in tables:
            if temporary:
                continue
            kind = "view" if str(name).lower() in view_names else "table"
            found[str(name).lower()] = self._relation(schema, str(name), kind)
        return found

    def _schema_relations(self, schema: str) -> dict[str, Relation]:
        key = schema.lower()
        with self._lock:
            cached = self._relations.get(key)
        if cached is not None:
            return cached
        found = self._list(schema)
        if found is None:  # not remembered: create_schema makes it when it is not known
            return {}
        for name, relation in list(found.items()):
            if TEMP_MARK in name and not self._is_own_temp(schema, name):  # left behind by an earlier run
                self._drop(relation)
                del found[name]
        with self._lock:
            return self._relations.setdefault(key, found)

    def _remember(self, relation: Relation | None, schema: str, identifier: str) -> None:
        relations = self._schema_relations(schema)
        with self._lock:
            if relation is None:
                relations.pop(identifier.lower(), None)
            else:
                relations[identifier.lower()] = relation

    def invalidate_cache(self) -> None:
        with self._lock:
            self._relations = {}

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None:
        return self._schema_relations(self._schema(schema)).get(identifier.lower())

    def list_relations(self, database: str | None, schema: str, *, cached: bool = True) -> list[Relation]:
        if cached:
            return list(self._schema_relations(schema).values())
        return sorted((self._list(schema) or {}).values(), key=lambda r: r.identifier)

    def list_schemas(self, database: str | None) -> list[str]:
        return sorted(str(row[0]) for row in self.execute("show schemas", fetch=True).rows)

    def get_columns(self, relation: Relation) -> list[ColumnInfo]:
        return [ColumnInfo(name, dtype) for name, dtype, _ in self._describe(relation)]

    def _describe(self, relation: Relation) -> list[tuple[str, str, str | None]]:
        """(name, type, comment) of each column, partition columns last, as ``describe table`` lists them."""
        try:
            rows = self.execute(f"describe table {relation_name(relation)}", fetch=True).rows
        except DatabaseError as exc:
            if any(marker in exc.message for marker in RELATION_MISSING + SCHEMA_MISSING):
                return []
            raise
        columns = []
        for name, dtype, comment in rows:
            if not name or str(name).startswith("#"):
                break
            columns.append((str(name), str(dtype), comment or None))
        return columns

    def describe_query(self, sql: str) -> list[ColumnInfo]:
        try:
            fields = self._session().sql(sql).schema.fields
        except self._errors as exc:
            raise spark_error(exc) from None
        return [ColumnInfo(f.name, f.dataType.simpleString()) for f in fields]

    def get_catalog(self, schemas: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Each relation of the schemas with its columns and comments (``describe table extended`` each)."""
        entries = []
        for schema in sorted({schema for _, schema in schemas}, key=str.lower):
            for relation in self.list_relations(None, schema, cached=False):
                if TEMP_MARK in relation.identifier:
                    continue
                try:
                    rows = self.execute(f"describe table extended {relation_name(relation)}", fetch=True).rows
                except DatabaseError:
                    continue  # dropped in the meantime
                columns, details, in_columns = [], {}, True
                for name, dtype, comment in rows:
                    if in_columns and (not name or str(name).startswith("#")):
                        in_columns = False
                    if in_columns:
                        columns.append((str(name), str(dtype), comment or None))
                    elif name:
                        details.setdefault(str(name), dtype)
                kind = "VIEW" if str(details.get("Type", "")).upper() == "VIEW" else "BASE TABLE"
                entries.append(
                    {
                        "database": self.target.database,
                        "schema": relation.schema,
                        "name": relation.identifier,
                        "type": kind,
                        "comment": details.get("Comment") or None,
                        "columns": columns,
                        "row_count": None,
                    }
                )
        return entries
