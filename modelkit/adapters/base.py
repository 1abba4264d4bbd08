"""What every engine provides: a few primitives the materializations are built from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from modelkit.adapters.sql import StandardSQL
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation


class Capability(Enum):
    """Optional engine features, declared by each adapter in ``capabilities`` (never probed)."""

    BATCHED_TESTS = "batched_tests"  # ``sql.test_batch_branch``: many data tests in one statement
    CATALOG_QUERY = "catalog_query"  # ``get_catalog``: every relation's columns of some schemas in one query
    MERGE_INTO = "merge_into"  # ``merge`` is one MERGE statement (else the engine emulates it, e.g. by a rewrite)
    RELATION_STATE = "relation_state"  # ``relation_states``: what each relation looks like, in one query
    SUBQUERY_ALIAS = "subquery_alias"  # a subquery in FROM needs an alias (``--empty`` reads refs through one)
    OFFLINE_INFO = "offline_info"  # ``info`` answers before ``open``: the header needs no connection
    # ``open`` may run on a thread of its own while the command goes on: the threads that then use the
    # connection share what it opened (a thread-bound connection would be opened twice); done when
    # ``database_exists`` (opening then creates nothing, whatever the command does next)
    EARLY_OPEN = "early_open"


class CsvReadError(DatabaseError):
    """A seed's values do not fit the column types read from the file (``line``: the file's line, if known).

    Types inferred from a sample of the rows may be retried with every row read (``sample_all``).
    """


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


SNAPSHOT_META_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_is_deleted")


@dataclass(frozen=True)
class SnapshotSpec:
    """What a snapshot compares and records, independent of the engine's SQL.

    ``unique_key`` and ``updated_at`` are SQL expressions over the snapshot's
    query (usually column names); ``check_cols`` are quoted column names;
    ``names`` maps dbt's meta column names to the ones the table uses.
    """

    unique_key: tuple[str, ...]
    strategy: str  # "timestamp" | "check"
    updated_at: str | None = None
    check_cols: tuple[str, ...] = ()
    column_added: bool = False
    hard_deletes: str = "ignore"  # "ignore" | "invalidate" | "new_record"
    valid_to_current: str | None = None
    names: Mapping[str, str] = field(default_factory=lambda: {n: n for n in SNAPSHOT_META_COLUMNS})


@dataclass(frozen=True)
class RelationOptions:
    """What a node asks of the relation built for it beyond its SQL.

    ``config`` is the node's config: each engine reads the keys it knows (a file format, partitioning).
    ``description`` and ``column_descriptions`` are set only when the node's ``persist_docs`` asks for
    them. Comments are written after the relation is built, through :meth:`Adapter.comment_on_relation`
    and :meth:`Adapter.comment_on_columns`; these are for what an engine can only write as it creates
    the relation (Spark: a view's column comments).
    """

    config: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    column_descriptions: Mapping[str, str] = field(default_factory=dict)


# How an engine treats each kind of contract constraint (dbt's ConstraintSupport).
ENFORCED, NOT_ENFORCED, NOT_SUPPORTED = "enforced", "not_enforced", "not_supported"


@dataclass(frozen=True)
class TableSchema:
    """A contracted table's declaration: (name, type, column constraints as DDL) and table constraints."""

    columns: tuple[tuple[str, str, tuple[str, ...]], ...]
    constraints: tuple[str, ...] = ()


class Adapter(Protocol):
    """The engine interface. Each thread gets its own cursor inside the adapter.

    Everything a caller may use is listed here; features only some engines have are declared in
    ``capabilities`` and their methods raise ``NotImplementedError`` elsewhere.
    """

    type: str
    quote_char: str
    capabilities: frozenset[Capability]
    constraint_support: Mapping[str, str]  # constraint type -> ENFORCED / NOT_ENFORCED / NOT_SUPPORTED
    sql: StandardSQL  # the SQL snippets tests, contracts and unit tests need, in this engine's dialect
    # the built-in incremental strategies this engine runs, its default first ("microbatch" is always run)
    incremental_strategies: tuple[str, ...]
    grants_unsupported: str | None  # the warning, once per command, when a node with `grants` is built

    def open(self) -> None: ...

    def info(self) -> dict[str, Any]:
        """What the console header shows about the connection (``type``, engine version, ...)."""
        ...

    def close(self) -> None: ...

    def interrupt(self) -> None:
        """Cancel the statements running on other threads (after Ctrl-C); they fail and roll back."""
        ...

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...

    def quote(self, identifier: str) -> str: ...

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None: ...

    def list_relations(self, database: str | None, schema: str, *, cached: bool = True) -> list[Relation]:
        """The tables and views of a schema; ``cached=False`` asks the database rather than the cache."""
        ...

    def list_schemas(self, database: str | None) -> list[str]:
        """The schemas of a database (the target's when ``None``)."""
        ...

    def get_columns(self, relation: Relation) -> list[ColumnInfo]: ...

    def describe_query(self, sql: str) -> list[ColumnInfo]:
        """The columns ``sql`` would return, without running it."""
        ...

    def get_catalog(self, schemas: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Every relation of ``schemas`` with its columns (``Capability.CATALOG_QUERY``)."""
        ...

    def relation_states(self, schemas: list[tuple[str | None, str]]) -> dict[tuple[str, str, str], str]:
        """(database, schema, name), lowercased -> a text that changes when the relation is replaced, altered
        or its rows change, for every relation of ``schemas``, from the engine's metadata
        (``Capability.RELATION_STATE``)."""
        ...

    def database_exists(self) -> bool:
        """Whether the database is there already, so that opening it creates nothing (``Capability.EARLY_OPEN``)."""
        ...

    def create_schema(self, database: str | None, schema: str) -> None: ...

    def drop_schema(self, database: str | None, schema: str) -> None:
        """Drop a schema and everything in it, if it exists."""
        ...

    def drop_relation(self, relation: Relation) -> None: ...

    def truncate_relation(self, relation: Relation) -> None:
        """Delete every row of a table."""
        ...

    def rename_relation(self, relation: Relation, new_identifier: str) -> None: ...

    def replace_view(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        """Create or replace a view; on failure the previous relation stays.

        ``sql_header`` (a model's ``sql_header`` config) runs just before the DDL, in the same batch; so it
        does for every primitive that takes one.
        """
        ...

    def replace_table(
        self, relation: Relation, sql: str, options: RelationOptions | None = None, *, sql_header: str | None = None
    ) -> QueryResult:
        """Build a table and swap it in atomically; on failure the previous relation stays."""
        ...

    def replace_table_with_schema(
        self,
        relation: Relation,
        schema: TableSchema,
        sql: str,
        options: RelationOptions | None = None,
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        """As :meth:`replace_table`, the table declared first (columns, types, constraints), then filled."""
        ...

    def comment_on_relation(self, relation: Relation, comment: str) -> None:
        """Set the comment of a table or a view (``relation.type`` says which): persist_docs ``relation``."""
        ...

    def comment_on_columns(self, relation: Relation, comments: Sequence[tuple[str, bool, str]]) -> None:
        """Set column comments, each ``(name, quoted, comment)``, in one batch: persist_docs ``columns``."""
        ...

    def describe_csv(
        self, path: Path, *, column_types: Mapping[str, str], delimiter: str, sample_all: bool = False
    ) -> list[ColumnInfo]:
        """The CSV's columns with the types a seed gets (``column_types`` override the inference)."""
        ...

    def load_csv(
        self,
        relation: Relation,
        path: Path,
        *,
        column_types: Mapping[str, str],
        delimiter: str,
        quote_columns: bool,
        full_refresh: bool = False,
        options: RelationOptions | None = None,
    ) -> QueryResult:
        """Load a CSV file natively; an existing table is emptied and refilled unless ``full_refresh``."""
        ...

    # -- units of work: everything a stateful materialization changes ---------
    def transaction(self) -> AbstractContextManager[None]:
        """All statements of this thread inside the block commit together or not at all.

        Nested blocks join the outermost one; an error anywhere rolls everything back.
        """
        ...

    def create_temp_table(self, relation: Relation, sql: str, *, sql_header: str | None = None) -> Relation:
        """A session-private staging table named after ``relation`` holding ``sql``'s rows."""
        ...

    def insert_into(self, target: Relation, source: Relation, columns: Sequence[str]) -> QueryResult: ...

    def delete_insert(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
    ) -> QueryResult:
        """Delete target rows whose key is in ``source``, then insert ``source``'s rows."""
        ...

    def replace_window(
        self, target: Relation, source: Relation, columns: Sequence[str], column: str, start: str, end: str
    ) -> QueryResult:
        """A microbatch: delete the target's rows whose ``column`` is in ``[start, end)``, insert ``source``'s."""
        ...

    def merge(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        update_columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        """Update matching rows (``update_columns``) and insert the others (``columns``)."""
        ...

    def insert_overwrite(
        self, target: Relation, source: Relation, columns: Sequence[str], partition_by: Sequence[str]
    ) -> QueryResult:
        """Replace the partitions of ``target`` that ``source`` has rows for (all rows when not partitioned).

        Only engines listing ``insert_overwrite`` in ``incremental_strategies``.
        """
        ...

    def add_columns(self, relation: Relation, columns: Sequence[ColumnInfo]) -> None: ...

    def drop_columns(self, relation: Relation, names: Sequence[str]) -> None: ...

    def alter_column_type(self, relation: Relation, name: str, data_type: str) -> None: ...

    def create_snapshot_table(
        self,
        relation: Relation,
        sql: str,
        spec: SnapshotSpec,
        options: RelationOptions | None = None,
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        """First snapshot run: every row of ``sql`` with its meta columns."""
        ...

    def stage_snapshot(
        self, relation: Relation, sql: str, spec: SnapshotSpec, *, sql_header: str | None = None
    ) -> Relation:
        """A staging table of the changes between ``sql`` and the snapshot table."""
        ...

    def apply_snapshot(
        self, relation: Relation, staging: Relation, columns: Sequence[str], spec: SnapshotSpec
    ) -> QueryResult:
        """Close changed/deleted rows and insert the new versions from ``staging``."""
        ...

    def max_loaded_at(self, relation: Relation, loaded_at_field: str, filter: str | None) -> tuple[Any, Any]:
        """``(max(loaded_at_field), now)`` for source freshness."""
        ...

    def limit_sql(self, sql: str, limit: int) -> str: ...


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
