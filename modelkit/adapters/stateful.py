"""The SQL of the stateful materializations that engines of the common dialect share.

Incremental strategies over a staging table, ``on_schema_change`` column changes, snapshots (dbt's
staging query of inserts, updates and deletes, then one update and one insert) and source freshness.
An engine's stateful mixin inherits :class:`StandardStateful` and adds what differs: seeds, staging
tables, the contracted table's declaration, and whether it has a ``MERGE`` statement. Every method
here runs inside ``adapter.transaction()`` (except ``max_loaded_at``, which only reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import ColumnInfo, QueryResult, RelationOptions, SnapshotSpec
from modelkit.core.relation import Relation, quote

if TYPE_CHECKING:
    from modelkit.project.profiles import Target

SNAPSHOT_TIME = "now()::timestamp"  # dbt's snapshot_get_time() on DuckDB and PostgreSQL: the transaction's start
SOURCE, DEST = "DBT_INTERNAL_SOURCE", "DBT_INTERNAL_DEST"


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def column_list(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)


def conjunction(parts: Sequence[str]) -> str:
    return " and ".join(f"({p})" for p in parts)


class StandardStateful:
    """Primitives over ``self.execute`` (provided by the adapter)."""

    target: Target

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...  # pragma: no cover - the adapter's

    def describe_query(self, sql: str) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def get_columns(self, relation: Relation) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def create_temp_table(self, relation: Relation, sql: str) -> Relation: ...  # pragma: no cover - the engine's

    def _remember(self, relation: Relation | None, key: tuple[str, str], identifier: str) -> None: ...

    def _key(self, database: str | None, schema: str | None) -> tuple[str, str]: ...

    def merge_statement(self) -> bool:
        """Whether the engine runs ``MERGE`` (else a merge is an update and an insert)."""
        return True

    def _count(self, sql: str) -> int:
        rows = self.execute(sql, fetch=True).rows
        return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0

    # -- incremental models --------------------------------------------------
    def insert_into(self, target: Relation, source: Relation, columns: Sequence[str]) -> QueryResult:
        cols = column_list(columns)
        return self.execute(f"insert into {target.render()} ({cols})\n(select {cols} from {source.render()})")

    def delete_insert(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
    ) -> QueryResult:
        """dbt's delete+insert: one key as ``(key) in (...)``, several through ``using``."""
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
        on = (
            conjunction([f"{SOURCE}.{k} = {DEST}.{k}" for k in unique_key] + list(predicates))
            if unique_key
            else "FALSE"
        )
        sets = ", ".join(f"{quote(c)} = {SOURCE}.{quote(c)}" for c in update_columns)
        values = ", ".join(f"{SOURCE}.{quote(c)}" for c in columns)
        if self.merge_statement():
            matched = f"update set {sets}" if sets else "do nothing"
            return self.execute(
                f"merge into {target.render()} as {DEST}\nusing {source.render()} as {SOURCE}\non {on}\n"
                f"when matched then {matched}\n"
                f"when not matched then insert ({column_list(columns)}) values ({values})"
            )
        if unique_key and sets:  # no MERGE statement: update, then insert the rest
            self.execute(
                f"update {target.render()} as {DEST} set {sets}\nfrom {source.render()} as {SOURCE}\nwhere {on}"
            )
        return self.execute(
            f"insert into {target.render()} ({column_list(columns)})\nselect {values} from {source.render()} as {SOURCE}\n"
            f"where not exists (select 1 from {target.render()} as {DEST} where {on})"
        )

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
        result = self.execute(f"create table {relation.render()} as (\n{select}\n)")
        self._remember(relation.with_type("table"), self._key(relation.database, relation.schema), relation.identifier)
        return result

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
        cols = column_list(columns)
        return self.execute(
            f"insert into {relation.render()} ({cols})\nselect {cols} from {staging.render()}\n"
            "where dbt_change_type = 'insert'"
        )

    # -- sources freshness ---------------------------------------------------
    def max_loaded_at(self, relation: Relation, loaded_at_field: str, filter: str | None) -> tuple[Any, Any]:
        where = f"\nwhere {filter}" if filter else ""
        rows = self.execute(
            f"select max({loaded_at_field}) as max_loaded_at, now() as snapshotted_at\nfrom {relation.render()}{where}",
            fetch=True,
        ).rows
        return rows[0][0], rows[0][1]


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
