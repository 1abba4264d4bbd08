"""DuckDB SQL for the stateful materializations: seeds, incremental models, snapshots, freshness.

Mixed into :class:`modelkit.adapters.duckdb.DuckDBAdapter`. Every method here is
meant to run inside ``adapter.transaction()`` (except ``describe_csv`` and
``max_loaded_at``, which only read), so a failure rolls all of it back.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from modelkit.adapters.base import ColumnInfo, QueryResult, RelationOptions, SnapshotSpec, TableSchema
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation, quote

if TYPE_CHECKING:
    from modelkit.project.profiles import Target

# Types the CSV sniffer may pick: what dbt's seed inference yields, plus BIGINT
# for integers that do not fit in 32 bits.
SEED_TYPE_CANDIDATES = ["BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "VARCHAR"]
SNAPSHOT_TIME = "now()::timestamp"  # dbt-duckdb's snapshot_get_time(): the transaction's start
SOURCE, DEST = "DBT_INTERNAL_SOURCE", "DBT_INTERNAL_DEST"


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _cols(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)


def _and(parts: Sequence[str]) -> str:
    return " and ".join(f"({p})" for p in parts)


class StatefulMixin:
    """Primitives over ``self.execute`` (provided by the adapter)."""

    target: Target

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...  # pragma: no cover - the adapter's

    def describe_query(self, sql: str) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None: ...

    def get_columns(self, relation: Relation) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def _remember(self, relation: Relation | None, key: tuple[str, str], identifier: str) -> None: ...

    def _key(self, database: str | None, schema: str | None) -> tuple[str, str]: ...

    def _drop_sql(self, relation: Relation) -> str: ...

    def _count(self, sql: str) -> int:
        rows = self.execute(sql, fetch=True).rows
        return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0

    # -- seeds -----------------------------------------------------------------
    @staticmethod
    def _csv_reader(path: Path, delimiter: str, types: Mapping[str, str], sample_all: bool, sniff: bool) -> str:
        options = [
            "header = true",
            f"delim = {sql_literal(delimiter)}",
            "quote = '\"'",
            "escape = '\"'",
            "strict_mode = true",
            "nullstr = ['', 'null', 'NULL']",
        ]
        if sniff:
            options.append(f"auto_type_candidates = {SEED_TYPE_CANDIDATES!r}")
        if sample_all:
            options.append("sample_size = -1")
        if types:
            options.append(
                "types = {" + ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in types.items()) + "}"
            )
        return f"read_csv({sql_literal(str(path))}, {', '.join(options)})"

    def describe_csv(
        self, path: Path, *, column_types: Mapping[str, str], delimiter: str, sample_all: bool = False
    ) -> list[ColumnInfo]:
        """The CSV's columns with the types a seed gets (``column_types`` override the sniffer)."""
        reader = self._csv_reader(path, delimiter, column_types, sample_all, sniff=True)
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
    def create_temp_table(self, relation: Relation, sql: str) -> Relation:
        stamp = datetime.datetime.now().strftime("%H%M%S%f")
        temp = Relation("temp", "main", f"{relation.identifier}__dbt_tmp{stamp}", type="table")
        self.execute(f"create or replace temp table {quote(temp.identifier)} as (\n{sql}\n)")
        return temp

    def insert_into(self, target: Relation, source: Relation, columns: Sequence[str]) -> QueryResult:
        cols = _cols(columns)
        self.execute(f"insert into {target.render()} ({cols})\n(select {cols} from {source.render()})")
        return QueryResult(message="OK")

    def delete_insert(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
    ) -> QueryResult:
        """dbt-duckdb's delete+insert: one key as ``(key) in (...)``, several through ``using``."""
        extra = "".join(f"\n  and {p}" for p in predicates)
        if len(unique_key) == 1:
            key = unique_key[0]
            self.execute(
                f"delete from {target.render()}\nwhere ({key}) in (select ({key}) from {source.render()}){extra}"
            )
        elif unique_key:
            on = " and ".join(f"{SOURCE}.{k} = DBT_INCREMENTAL_TARGET.{k}" for k in unique_key)
            self.execute(
                f"delete from {target.render()} as DBT_INCREMENTAL_TARGET\n"
                f"using {source.render()} as {SOURCE}\nwhere ({on}{extra})"
            )
        return self.insert_into(target, source, columns)

    def replace_table_with_schema(
        self, relation: Relation, schema: TableSchema, sql: str, options: RelationOptions | None = None
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
        statements.append(f"create table {relation.render()} (\n    " + ",\n    ".join(items) + "\n)")
        statements.append(f"insert into {relation.render()} ({names})\nselect {names} from (\n{sql}\n) as model_subq")
        with self.transaction():
            for statement in statements:
                self.execute(statement)
        self.invalidate_cache()
        return QueryResult(message="OK")

    def replace_window(
        self, target: Relation, source: Relation, columns: Sequence[str], column: str, start: str, end: str
    ) -> QueryResult:
        """A microbatch: delete the target's rows whose ``column`` is in ``[start, end)``, insert ``source``'s."""
        self.execute(
            f"delete from {target.render()}\nwhere {column} >= {sql_literal(start)} and {column} < {sql_literal(end)}"
        )
        return self.insert_into(target, source, columns)

    def merge(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        update_columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
    ) -> QueryResult:
        on = _and([f"{SOURCE}.{k} = {DEST}.{k}" for k in unique_key] + list(predicates)) if unique_key else "FALSE"
        sets = ", ".join(f"{quote(c)} = {SOURCE}.{quote(c)}" for c in update_columns)
        values = ", ".join(f"{SOURCE}.{quote(c)}" for c in columns)
        if _duckdb_version() >= (1, 4):
            matched = f"update set {sets}" if sets else "do nothing"
            self.execute(
                f"merge into {target.render()} as {DEST}\nusing {source.render()} as {SOURCE}\non {on}\n"
                f"when matched then {matched}\n"
                f"when not matched then insert ({_cols(columns)}) values ({values})"
            )
            return QueryResult(message="OK")
        if unique_key and sets:  # DuckDB before 1.4 has no MERGE: update, then insert the rest
            self.execute(
                f"update {target.render()} as {DEST} set {sets}\nfrom {source.render()} as {SOURCE}\nwhere {on}"
            )
        self.execute(
            f"insert into {target.render()} ({_cols(columns)})\nselect {values} from {source.render()} as {SOURCE}\n"
            f"where not exists (select 1 from {target.render()} as {DEST} where {on})"
        )
        return QueryResult(message="OK")

    def add_columns(self, relation: Relation, columns: Sequence[ColumnInfo]) -> None:
        for column in columns:
            self.execute(f"alter table {relation.render()} add column {quote(column.name)} {column.data_type}")

    def drop_columns(self, relation: Relation, names: Sequence[str]) -> None:
        for name in names:
            self.execute(f"alter table {relation.render()} drop column {quote(name)}")

    def alter_column_type(self, relation: Relation, name: str, data_type: str) -> None:
        self.execute(f"alter table {relation.render()} alter column {quote(name)} type {data_type}")

    # -- snapshots -----------------------------------------------------------
    def create_snapshot_table(
        self, relation: Relation, sql: str, spec: SnapshotSpec, options: RelationOptions | None = None
    ) -> QueryResult:
        n = spec.names
        updated_at = _updated_at(spec)
        deleted = f",\n  'False' as {quote(n['dbt_is_deleted'])}" if spec.hard_deletes == "new_record" else ""
        select = (
            f"select *,\n  {_scd_id(spec, updated_at)} as {quote(n['dbt_scd_id'])},\n"
            f"  {updated_at} as {quote(n['dbt_updated_at'])},\n  {updated_at} as {quote(n['dbt_valid_from'])},\n"
            f"  {_valid_to(spec, updated_at)} as {quote(n['dbt_valid_to'])}{deleted}\nfrom (\n{sql}\n) sbq"
        )
        self.execute(f"create table {relation.render()} as (\n{select}\n)")
        self._remember(relation.with_type("table"), self._key(relation.database, relation.schema), relation.identifier)
        return QueryResult(message="OK")

    def stage_snapshot(self, relation: Relation, sql: str, spec: SnapshotSpec) -> Relation:
        source_columns = [c.name for c in self.describe_query(sql)]
        target_columns = {c.name.lower() for c in self.get_columns(relation)}
        return self.create_temp_table(
            relation, snapshot_staging_sql(relation, sql, spec, source_columns, target_columns)
        )

    def apply_snapshot(
        self, relation: Relation, staging: Relation, columns: Sequence[str], spec: SnapshotSpec
    ) -> QueryResult:
        n = spec.names
        scd, valid_to = quote(n["dbt_scd_id"]), quote(n["dbt_valid_to"])
        current = _is_current(f"{DEST}.{valid_to}", spec)
        self.execute(
            f"update {relation.render()} as {DEST}\nset {valid_to} = {SOURCE}.{valid_to}\n"
            f"from {staging.render()} as {SOURCE}\nwhere {SOURCE}.{scd}::text = {DEST}.{scd}::text\n"
            f"  and {SOURCE}.dbt_change_type in ('update', 'delete')\n  and {current}"
        )
        cols = _cols(columns)
        self.execute(
            f"insert into {relation.render()} ({cols})\nselect {cols} from {staging.render()}\n"
            "where dbt_change_type = 'insert'"
        )
        return QueryResult(message="OK")

    # -- sources freshness ---------------------------------------------------
    def max_loaded_at(self, relation: Relation, loaded_at_field: str, filter: str | None) -> tuple[Any, Any]:
        where = f"\nwhere {filter}" if filter else ""
        rows = self.execute(
            f"select max({loaded_at_field}) as max_loaded_at, now() as snapshotted_at\nfrom {relation.render()}{where}",
            fetch=True,
        ).rows
        return rows[0][0], rows[0][1]


def _duckdb_version() -> tuple[int, ...]:
    return tuple(int(p) for p in duckdb.__version__.split(".")[:2] if p.isdigit())


def _updated_at(spec: SnapshotSpec) -> str:
    if spec.strategy == "timestamp":
        return str(spec.updated_at)
    return spec.updated_at or SNAPSHOT_TIME


def _hash(args: Sequence[str]) -> str:
    return "md5(" + " || '|' || ".join(f"coalesce(cast({a} as varchar), '')" for a in args) + ")"


def _scd_id(spec: SnapshotSpec, updated_at: str) -> str:
    return _hash([*spec.unique_key, updated_at])


def _valid_to(spec: SnapshotSpec, updated_at: str) -> str:
    """NULL of updated_at's type, or the configured ``dbt_valid_to_current``."""
    return f"coalesce(nullif({updated_at}, {updated_at}), {spec.valid_to_current or 'null'})"


def _is_current(column: str, spec: SnapshotSpec) -> str:
    if spec.valid_to_current:
        return f"({column} = {spec.valid_to_current} or {column} is null)"
    return f"{column} is null"


def _row_changed(spec: SnapshotSpec) -> str:
    if spec.strategy == "timestamp":
        return f"(snapshotted_data.{quote(spec.names['dbt_valid_from'])} < source_data.{spec.updated_at})"
    if spec.column_added:
        return "(TRUE)"
    checks = [
        f"snapshotted_data.{c} != source_data.{c} or ((snapshotted_data.{c} is null) and not (source_data.{c} is null))"
        f" or ((not snapshotted_data.{c} is null) and (source_data.{c} is null))"
        for c in spec.check_cols
    ]
    return "(" + (" or ".join(checks) or "FALSE") + ")"


def snapshot_staging_sql(
    relation: Relation, sql: str, spec: SnapshotSpec, source_columns: Sequence[str], target_columns: set[str]
) -> str:
    """dbt's snapshot staging query: one row per insert, update and delete to apply."""
    n = {k: quote(v) for k, v in spec.names.items()}
    keys = ", ".join(f"{k} as dbt_unique_key_{i}" for i, k in enumerate(spec.unique_key, 1))
    join = " and ".join(
        f"snapshotted_data.dbt_unique_key_{i} = source_data.dbt_unique_key_{i}"
        for i in range(1, len(spec.unique_key) + 1)
    )
    snap_null, src_null = "snapshotted_data.dbt_unique_key_1 is null", "source_data.dbt_unique_key_1 is null"
    updated_at = _updated_at(spec)
    changed = _row_changed(spec)
    new_record = spec.hard_deletes == "new_record"
    deletes = spec.hard_deletes in ("invalidate", "new_record")
    if new_record:
        changed = f"({changed} or snapshotted_data.{n['dbt_is_deleted']} = 'True')"
    latest_deleted = (
        f"not (snapshotted_data.{n['dbt_is_deleted']} = 'True' and "
        f"{_is_current('snapshotted_data.' + n['dbt_valid_to'], spec)})"
    )
    ctes = [
        f"snapshot_query as (\n{sql}\n)",
        f"snapshotted_data as (\n  select *, {keys} from {relation.render()}\n"
        f"  where {_is_current(n['dbt_valid_to'], spec)}\n)",
        f"insertions_source_data as (\n  select *, {keys},\n    {updated_at} as {n['dbt_updated_at']},\n"
        f"    {updated_at} as {n['dbt_valid_from']},\n    {_valid_to(spec, updated_at)} as {n['dbt_valid_to']},\n"
        f"    {_scd_id(spec, updated_at)} as {n['dbt_scd_id']}\n  from snapshot_query\n)",
        f"updates_source_data as (\n  select *, {keys},\n    {updated_at} as {n['dbt_updated_at']},\n"
        f"    {updated_at} as {n['dbt_valid_from']},\n    {updated_at} as {n['dbt_valid_to']}\n  from snapshot_query\n)",
    ]
    if deletes:
        ctes.append(f"deletes_source_data as (\n  select *, {keys} from snapshot_query\n)")
    ctes.append(
        "insertions as (\n  select 'insert' as dbt_change_type, source_data.*"
        + (f", 'False' as {n['dbt_is_deleted']}" if new_record else "")
        + f"\n  from insertions_source_data as source_data\n  left outer join snapshotted_data on {join}\n"
        f"  where {snap_null} or (not {snap_null} and {changed})\n)"
    )
    ctes.append(
        f"updates as (\n  select 'update' as dbt_change_type, source_data.*, snapshotted_data.{n['dbt_scd_id']}"
        + (f", snapshotted_data.{n['dbt_is_deleted']}" if new_record else "")
        + f"\n  from updates_source_data as source_data\n  join snapshotted_data on {join}\n  where {changed}\n)"
    )
    if deletes:
        ctes.append(
            "deletes as (\n  select 'delete' as dbt_change_type, source_data.*,\n"
            f"    {SNAPSHOT_TIME} as {n['dbt_valid_from']}, {SNAPSHOT_TIME} as {n['dbt_updated_at']},\n"
            f"    {SNAPSHOT_TIME} as {n['dbt_valid_to']}, snapshotted_data.{n['dbt_scd_id']}"
            + (f", snapshotted_data.{n['dbt_is_deleted']}" if new_record else "")
            + f"\n  from snapshotted_data\n  left join deletes_source_data as source_data on {join}\n"
            f"  where {src_null}" + (f" and {latest_deleted}" if new_record else "") + "\n)"
        )
    if new_record:
        picks = ", ".join(
            f"{'snapshotted_data' if c.lower() in target_columns else 'source_data'}.{quote(c)}" for c in source_columns
        )
        key_picks = ", ".join(
            f"snapshotted_data.dbt_unique_key_{i} as dbt_unique_key_{i}" for i in range(1, len(spec.unique_key) + 1)
        )
        new_scd = _hash([f"snapshotted_data.{n['dbt_scd_id']}", SNAPSHOT_TIME])
        ctes.append(
            f"deletion_records as (\n  select 'insert' as dbt_change_type, {picks}, {key_picks},\n"
            f"    {SNAPSHOT_TIME} as {n['dbt_valid_from']}, {SNAPSHOT_TIME} as {n['dbt_updated_at']},\n"
            f"    snapshotted_data.{n['dbt_valid_to']} as {n['dbt_valid_to']}, {new_scd} as {n['dbt_scd_id']},\n"
            f"    'True' as {n['dbt_is_deleted']}\n  from snapshotted_data\n"
            f"  left join deletes_source_data as source_data on {join}\n  where {src_null} and {latest_deleted}\n)"
        )
    parts = ["insertions", "updates"] + (["deletes"] if deletes else []) + (["deletion_records"] if new_record else [])
    return "with " + ",\n".join(ctes) + "\n" + "\nunion all\n".join(f"select * from {p}" for p in parts)
