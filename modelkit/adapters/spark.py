"""Apache Spark: tables (Parquet, or the model's ``file_format``) and views in a Hive metastore.

Spark has no transactions, and a Parquet table has no ``CREATE OR REPLACE``. A table is therefore
built under a temporary name (``<name>__dbt_tmp<suffix>``, in the same schema), and only once it is
complete is the old relation dropped and the new one renamed into its place: a failing query leaves
the previous table as it was. Between the drop and the rename (two metastore operations, well under
a second) a reader finds neither relation. A process killed in that window leaves no table and a
complete temporary one; a process killed earlier leaves a temporary table. Whatever the cause, the
next run that looks at the schema drops every relation with the temporary suffix that it did not
create itself (two runs must therefore not build into the same schema at once), and rebuilds a
missing table in full.

``transaction()`` is not atomic here: it joins nested blocks and, when the outermost one ends, drops
every temporary table its thread created, whether the block succeeded or failed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from modelkit.adapters.base import NOT_ENFORCED, Capability, QueryResult, RelationOptions
from modelkit.adapters.spark_catalog import TEMP_MARK, SparkCatalog, spark_error
from modelkit.adapters.spark_connect import open_session
from modelkit.adapters.spark_sql import SparkSQL, columns_list, quote, relation_name, spark_literal, split_statements
from modelkit.adapters.spark_stateful import SparkStatefulMixin
from modelkit.core.errors import CompilationError, DatabaseError
from modelkit.core.relation import Relation
from modelkit.project.profiles import Target


class SparkAdapter(SparkCatalog, SparkStatefulMixin):
    type = "spark"
    quote_char = "`"
    capabilities = frozenset({Capability.BATCHED_TESTS, Capability.CATALOG_QUERY})
    constraint_support = dict.fromkeys(
        ("not_null", "unique", "primary_key", "check", "foreign_key", "custom"), NOT_ENFORCED
    )  # as dbt-spark: a data source table checks none of them
    sql = SparkSQL()
    incremental_strategies = ("append", "insert_overwrite", "merge", "delete+insert")  # dbt-spark's default first

    def __init__(self, target: Target) -> None:
        self.target = target
        self._spark: Any = None
        self._method = ""
        self._errors: tuple[type[BaseException], ...] = ()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._relations: dict[str, dict[str, Relation]] = {}  # schema (lower) -> name (lower) -> relation
        self._temps: set[str] = set()  # "schema.name" (lower) of temporary tables this adapter has not dropped

    # -- connection ---------------------------------------------------------
    def open(self) -> None:
        if self._spark is not None:
            return
        self._spark, self._method = open_session(self.target)
        from py4j.protocol import Py4JError  # loaded with pyspark, which the session has just imported
        from pyspark.errors import PySparkException  # likewise

        self._errors = (PySparkException, Py4JError)

    def close(self) -> None:
        # The session stays open for the rest of the process: the next adapter of the same profile reuses it.
        self._spark = None
        self._relations = {}
        self._local = threading.local()

    def _session(self) -> Any:
        if self._spark is None:
            self.open()
        return self._spark

    def interrupt(self) -> None:
        spark = self._spark
        if spark is None:
            return
        try:
            if self._method == "connect":
                spark.interruptAll()
            else:
                spark.sparkContext.cancelAllJobs()
        except Exception:  # noqa: BLE001 - the session may be gone already
            pass

    def quote(self, identifier: str) -> str:
        return quote(identifier)

    def info(self) -> dict[str, Any]:
        spark = self._session()
        return {
            "type": self.type,
            "method": self._method,
            "host": self.target.credentials.get("host"),
            "spark": spark.version,
        }

    # -- statements ----------------------------------------------------------
    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult:
        statements = split_statements(sql)
        spark = self._session()
        for index, statement in enumerate(statements):
            try:
                frame = spark.sql(statement)
                if fetch and index == len(statements) - 1:
                    rows = [tuple(row) for row in frame.collect()]
                    fields = frame.schema.fields
                    return QueryResult(
                        columns=[f.name for f in fields],
                        types=[f.dataType.simpleString() for f in fields],
                        rows=rows,
                        rows_affected=len(rows),
                    )
            except self._errors as exc:
                raise spark_error(exc) from None
        return QueryResult()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Not atomic (Spark has no transactions): the temporary tables of the block are dropped at its end."""
        local = self._local
        if getattr(local, "depth", 0):
            local.depth += 1
            try:
                yield
            finally:
                local.depth -= 1
            return
        local.depth, local.created = 1, []
        try:
            yield
        finally:
            local.depth = 0
            created, local.created = local.created, []
            for relation in created:
                self.drop_relation(relation)

    # -- names and temporary tables -----------------------------------------
    def temp_relation(self, relation: Relation) -> Relation:
        """A fresh temporary name next to ``relation``, dropped when this thread's unit of work ends."""
        schema = self._schema(relation.schema)
        temp = self._relation(schema, f"{relation.identifier}{TEMP_MARK}{uuid.uuid4().hex[:12]}", "table")
        with self._lock:
            self._temps.add(f"{schema}.{temp.identifier}".lower())
        created = getattr(self._local, "created", None)
        if created is not None and getattr(self._local, "depth", 0):
            created.append(temp)
        return temp

    def _is_own_temp(self, schema: str, name: str) -> bool:
        with self._lock:
            return f"{schema}.{name}".lower() in self._temps

    # -- DDL primitives ------------------------------------------------------
    def create_schema(self, database: str | None, schema: str) -> None:
        with self._lock:
            known = schema.lower() in self._relations
        if known:
            return
        self.execute(f"create schema if not exists {quote(schema)}")
        self._schema_relations(schema)

    def drop_schema(self, database: str | None, schema: str) -> None:
        self.execute(f"drop schema if exists {quote(schema)} cascade")
        with self._lock:
            self._relations.pop(schema.lower(), None)

    def _drop(self, relation: Relation) -> None:
        kind = "view" if relation.type == "view" else "table"
        self.execute(f"drop {kind} if exists {relation_name(relation)}")

    def drop_relation(self, relation: Relation) -> None:
        schema = self._schema(relation.schema)
        if self._is_own_temp(schema, relation.identifier):
            self._drop(self._relation(schema, relation.identifier, "table"))
            with self._lock:
                self._temps.discard(f"{schema}.{relation.identifier}".lower())
            self._remember(None, schema, relation.identifier)
            return
        existing = self.get_relation(None, schema, relation.identifier)
        if existing is None:
            return
        self._drop(existing)
        self._remember(None, schema, relation.identifier)

    def truncate_relation(self, relation: Relation) -> None:
        self.execute(f"truncate table {relation_name(relation)}")

    def rename_relation(self, relation: Relation, new_identifier: str) -> None:
        schema = self._schema(relation.schema)
        existing = self.get_relation(None, schema, relation.identifier) or relation
        kind = "view" if existing.type == "view" else "table"
        target = self._relation(schema, new_identifier, existing.type)
        self.execute(f"alter {kind} {relation_name(existing)} rename to {relation_name(target)}")
        self._remember(None, schema, relation.identifier)
        self._remember(target, schema, new_identifier)

    def swap(self, relation: Relation, candidate: Relation) -> None:
        """Put the complete ``candidate`` in the place of ``relation``: drop the old one, rename the new.

        A reader between the two statements finds no relation of that name.
        """
        schema = self._schema(relation.schema)
        kind = "view" if candidate.type == "view" else "table"
        existing = self.get_relation(None, schema, relation.identifier)
        if existing is not None:
            self._drop(existing)
            self._remember(None, schema, relation.identifier)
        final = self._relation(schema, relation.identifier, kind)
        try:
            self.execute(f"alter {kind} {relation_name(candidate)} rename to {relation_name(final)}")
        except DatabaseError as exc:
            previous = " (the previous one was dropped)" if existing is not None else ""
            raise DatabaseError(
                f"Could not rename the new {kind} {relation_name(candidate)} to {relation_name(final)}"
                f"{previous}; the next run builds it again.\n{exc.message}"
            ) from None
        with self._lock:
            self._temps.discard(f"{schema}.{candidate.identifier}".lower())
        self._remember(final, schema, relation.identifier)

    def replace_view(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        schema = self._schema(relation.schema)
        existing = self.get_relation(None, schema, relation.identifier)
        view = self._relation(schema, relation.identifier, "view")
        docs = self._view_docs(sql, options)
        if existing is None or existing.type == "view":
            self.execute(
                self.sql.with_header(sql_header, f"create or replace view {relation_name(view)}{docs} as\n{sql}")
            )
            self._remember(view, schema, relation.identifier)
            return QueryResult(message="OK")
        with self.transaction():  # a table stands in the way: the view is made first, then swapped in
            candidate = self.temp_relation(relation).with_type("view")
            self.execute(self.sql.with_header(sql_header, f"create view {relation_name(candidate)}{docs} as\n{sql}"))
            self.swap(relation, candidate)
        return QueryResult(message="OK")

    def _view_docs(self, sql: str, options: RelationOptions | None) -> str:
        """The column list with its comments: a view's column comments can only be set in its definition."""
        if options is None or not options.column_descriptions:
            return ""
        wanted = {k.lower(): v for k, v in options.column_descriptions.items()}
        parts = []
        for column in self.describe_query(sql):
            described = wanted.get(column.name.lower())
            parts.append(quote(column.name) + (f" comment {spark_literal(described)}" if described else ""))
        return " (" + ", ".join(parts) + ")"

    def table_clauses(self, options: RelationOptions | None, *, staging: bool = False) -> str:
        """``using``, ``options``, ``partitioned by``, ``clustered by`` and ``tblproperties``."""
        config = options.config if options is not None else {}
        if config.get("location_root"):
            raise CompilationError("location_root (external tables) is not supported by the spark adapter")
        file_format = str(config.get("file_format") or "parquet")
        if not file_format.replace("_", "").isalnum() or file_format.lower() == "hive":
            raise CompilationError(f"Unsupported file_format for a Spark table: {file_format!r}")
        clauses = [f"using {file_format}"]
        if staging:
            return clauses[0]
        if config.get("options"):
            clauses.append(
                "options ("
                + ", ".join(f"{quote(str(k))} {spark_literal(str(v))}" for k, v in config["options"].items())
                + ")"
            )
        partition_by = _names(config.get("partition_by"))
        if partition_by:
            clauses.append(f"partitioned by ({columns_list(partition_by)})")
        clustered_by = _names(config.get("clustered_by"))
        if clustered_by:
            buckets = config.get("buckets")
            if not buckets:
                raise CompilationError("clustered_by needs buckets (the number of buckets)")
            sorted_by = _names(config.get("sorted_by"))
            sort = f" sorted by ({columns_list(sorted_by)})" if sorted_by else ""
            clauses.append(f"clustered by ({columns_list(clustered_by)}){sort} into {int(buckets)} buckets")
        if config.get("tblproperties"):
            props = ", ".join(
                f"{spark_literal(str(k))} = {spark_literal(str(v))}" for k, v in config["tblproperties"].items()
            )
            clauses.append(f"tblproperties ({props})")
        return "\n".join(clauses)

    # -- persist_docs ----------------------------------------------------------
    def comment_on_relation(self, relation: Relation, comment: str) -> None:
        kind = "view" if relation.type == "view" else "table"
        self.execute(self.sql.comment_on_relation(kind, relation_name(relation), comment))

    def comment_on_columns(self, relation: Relation, comments: Sequence[tuple[str, bool, str]]) -> None:
        """Each column's comment, one ``alter table`` each (names always in backticks: Spark's column names
        match in any case). A view's are part of its definition (:meth:`replace_view` writes them): Spark
        alters no column of a view."""
        if relation.type == "view" or not comments:
            return
        name = relation_name(relation)
        self.execute("\n".join(self.sql.comment_on_column(name, quote(c), text) for c, _, text in comments))

    def replace_table(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        """Build the table under a temporary name, then swap it in (see the module's notes)."""
        clauses = self.table_clauses(options)
        with self.transaction():
            candidate = self.temp_relation(relation)
            self.execute(
                self.sql.with_header(sql_header, f"create table {relation_name(candidate)}\n{clauses}\nas\n{sql}")
            )
            self.swap(relation, candidate)
        return QueryResult(message="OK")

    # -- SQL snippets --------------------------------------------------------
    def limit_sql(self, sql: str, limit: int) -> str:
        return f"select * from (\n{sql}\n) as __modelkit_preview limit {int(limit)}"


def _names(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]
