"""Snapshot SQL in the common dialect: the meta columns dbt's snapshot materialization computes, the first
build's query and the staging query of later runs (shared by the engines whose stateful mixin inherits
``StandardStateful``, and by engines that differ only in the words of :class:`SnapshotDialect`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelkit.core.relation import quote

if TYPE_CHECKING:
    from modelkit.adapters.base import SnapshotSpec
    from modelkit.core.relation import Relation


def _render(relation: Relation) -> str:
    return relation.render()


@dataclass(frozen=True)
class SnapshotDialect:
    """What the snapshot SQL words differently per engine."""

    now: str = "now()::timestamp"  # dbt's snapshot_get_time(): on DuckDB and PostgreSQL, the transaction's start
    text_type: str = "varchar"  # what the hashed arguments are cast to
    quote_char: str = '"'
    name: Callable[[Relation], str] = _render  # a relation's name in SQL

    def quote(self, identifier: str) -> str:
        return quote(identifier, self.quote_char)


COMMON = SnapshotDialect()


def updated_at_sql(spec: SnapshotSpec, dialect: SnapshotDialect = COMMON) -> str:
    if spec.strategy == "timestamp":
        return str(spec.updated_at)
    return spec.updated_at or dialect.now


def hash_sql(args: Sequence[str], dialect: SnapshotDialect = COMMON) -> str:
    """dbt's snapshot_hash_arguments: md5 of the arguments as text, joined by ``|``.

    >>> hash_sql(["id", "ts"], SnapshotDialect(text_type="string"))
    "md5(coalesce(cast(id as string), '') || '|' || coalesce(cast(ts as string), ''))"
    """
    return "md5(" + " || '|' || ".join(f"coalesce(cast({a} as {dialect.text_type}), '')" for a in args) + ")"


def scd_id_sql(spec: SnapshotSpec, updated_at: str, dialect: SnapshotDialect = COMMON) -> str:
    return hash_sql([*spec.unique_key, updated_at], dialect)


def valid_to_sql(spec: SnapshotSpec, updated_at: str) -> str:
    """NULL of updated_at's type, or the configured ``dbt_valid_to_current``."""
    return f"coalesce(nullif({updated_at}, {updated_at}), {spec.valid_to_current or 'null'})"


def is_current_sql(column: str, spec: SnapshotSpec) -> str:
    if spec.valid_to_current:
        return f"({column} = {spec.valid_to_current} or {column} is null)"
    return f"{column} is null"


def snapshot_first_build_sql(sql: str, spec: SnapshotSpec, dialect: SnapshotDialect = COMMON) -> str:
    """Every row of the snapshot's query with its meta columns (the first run)."""
    n = {k: dialect.quote(v) for k, v in spec.names.items()}
    updated_at = updated_at_sql(spec, dialect)
    deleted = f",\n  'False' as {n['dbt_is_deleted']}" if spec.hard_deletes == "new_record" else ""
    return (
        f"select *,\n  {scd_id_sql(spec, updated_at, dialect)} as {n['dbt_scd_id']},\n"
        f"  {updated_at} as {n['dbt_updated_at']},\n  {updated_at} as {n['dbt_valid_from']},\n"
        f"  {valid_to_sql(spec, updated_at)} as {n['dbt_valid_to']}{deleted}\nfrom (\n{sql}\n) sbq"
    )


def _row_changed(spec: SnapshotSpec, dialect: SnapshotDialect) -> str:
    if spec.strategy == "timestamp":
        return f"(snapshotted_data.{dialect.quote(spec.names['dbt_valid_from'])} < source_data.{spec.updated_at})"
    if spec.column_added:
        return "(TRUE)"
    checks = [
        f"snapshotted_data.{c} != source_data.{c} or ((snapshotted_data.{c} is null) and not (source_data.{c} is null))"
        f" or ((not snapshotted_data.{c} is null) and (source_data.{c} is null))"
        for c in spec.check_cols
    ]
    return "(" + (" or ".join(checks) or "FALSE") + ")"


def snapshot_staging_sql(
    relation: Relation,
    sql: str,
    spec: SnapshotSpec,
    source_columns: Sequence[str],
    target_columns: set[str],
    dialect: SnapshotDialect = COMMON,
) -> str:
    """dbt's snapshot staging query: one row per insert, update and delete to apply."""
    n = {k: dialect.quote(v) for k, v in spec.names.items()}
    keys = ", ".join(f"{k} as dbt_unique_key_{i}" for i, k in enumerate(spec.unique_key, 1))
    join = " and ".join(
        f"snapshotted_data.dbt_unique_key_{i} = source_data.dbt_unique_key_{i}"
        for i in range(1, len(spec.unique_key) + 1)
    )
    snap_null, src_null = "snapshotted_data.dbt_unique_key_1 is null", "source_data.dbt_unique_key_1 is null"
    updated_at = updated_at_sql(spec, dialect)
    changed = _row_changed(spec, dialect)
    now = dialect.now
    new_record = spec.hard_deletes == "new_record"
    deletes = spec.hard_deletes in ("invalidate", "new_record")
    if new_record:
        changed = f"({changed} or snapshotted_data.{n['dbt_is_deleted']} = 'True')"
    latest_deleted = (
        f"not (snapshotted_data.{n['dbt_is_deleted']} = 'True' and "
        f"{is_current_sql('snapshotted_data.' + n['dbt_valid_to'], spec)})"
    )
    ctes = [
        f"snapshot_query as (\n{sql}\n)",
        f"snapshotted_data as (\n  select *, {keys} from {dialect.name(relation)}\n"
        f"  where {is_current_sql(n['dbt_valid_to'], spec)}\n)",
        f"insertions_source_data as (\n  select *, {keys},\n    {updated_at} as {n['dbt_updated_at']},\n"
        f"    {updated_at} as {n['dbt_valid_from']},\n    {valid_to_sql(spec, updated_at)} as {n['dbt_valid_to']},\n"
        f"    {scd_id_sql(spec, updated_at, dialect)} as {n['dbt_scd_id']}\n  from snapshot_query\n)",
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
            f"    {now} as {n['dbt_valid_from']}, {now} as {n['dbt_updated_at']},\n"
            f"    {now} as {n['dbt_valid_to']}, snapshotted_data.{n['dbt_scd_id']}"
            + (f", snapshotted_data.{n['dbt_is_deleted']}" if new_record else "")
            + f"\n  from snapshotted_data\n  left join deletes_source_data as source_data on {join}\n"
            f"  where {src_null}" + (f" and {latest_deleted}" if new_record else "") + "\n)"
        )
    if new_record:
        picks = ", ".join(
            f"{'snapshotted_data' if c.lower() in target_columns else 'source_data'}.{dialect.quote(c)}"
            for c in source_columns
        )
        key_picks = ", ".join(
            f"snapshotted_data.dbt_unique_key_{i} as dbt_unique_key_{i}" for i in range(1, len(spec.unique_key) + 1)
        )
        new_scd = hash_sql([f"snapshotted_data.{n['dbt_scd_id']}", now], dialect)
        ctes.append(
            f"deletion_records as (\n  select 'insert' as dbt_change_type, {picks}, {key_picks},\n"
            f"    {now} as {n['dbt_valid_from']}, {now} as {n['dbt_updated_at']},\n"
            f"    snapshotted_data.{n['dbt_valid_to']} as {n['dbt_valid_to']}, {new_scd} as {n['dbt_scd_id']},\n"
            f"    'True' as {n['dbt_is_deleted']}\n  from snapshotted_data\n"
            f"  left join deletes_source_data as source_data on {join}\n  where {src_null} and {latest_deleted}\n)"
        )
    parts = ["insertions", "updates"] + (["deletes"] if deletes else []) + (["deletion_records"] if new_record else [])
    return "with " + ",\n".join(ctes) + "\n" + "\nunion all\n".join(f"select * from {p}" for p in parts)
