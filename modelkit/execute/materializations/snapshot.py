"""Snapshots: type-2 slowly changing dimensions (parsed by :mod:`modelkit.parse.snapshots`).

A snapshot records each version of a row with ``dbt_valid_from`` /
``dbt_valid_to`` (names configurable with ``snapshot_meta_column_names``). The
``timestamp`` strategy sees a change when the row's ``updated_at`` moves
forward; ``check`` compares ``check_cols`` (a list, or ``all``). Rows gone from
the source are kept (``hard_deletes: ignore``), closed (``invalidate``) or
closed and followed by a deletion record (``new_record``). Each run is one
transaction: the table holds the history before the run or after it, nothing
in between.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import SNAPSHOT_META_COLUMNS, SnapshotSpec
from modelkit.core.config import as_list, snapshot_hard_deletes
from modelkit.core.errors import CompilationError
from modelkit.execute.materializations.base import Build, options_of, unit_of_work

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, QueryResult


def spec_of(config: dict[str, Any]) -> SnapshotSpec:
    names = {n: n for n in SNAPSHOT_META_COLUMNS}
    names.update({k: str(v) for k, v in (config.get("snapshot_meta_column_names") or {}).items() if v})
    current = config.get("dbt_valid_to_current")
    return SnapshotSpec(
        unique_key=tuple(as_list(config.get("unique_key"))),
        strategy=str(config.get("strategy")),
        updated_at=config.get("updated_at"),
        hard_deletes=snapshot_hard_deletes(config),
        valid_to_current=str(current) if current else None,
        names=names,
    )


def materialize_snapshot(build: Build) -> QueryResult:
    """Create the snapshot table, or record what changed since the last run; one transaction."""
    node, adapter = build.node, build.adapter
    relation = node.relation.with_type("table")
    spec = spec_of(node.config)
    existing = adapter.get_relation(relation.database, relation.schema, relation.identifier)
    if existing is not None and existing.type != "table":
        raise CompilationError(
            f"Snapshot target {relation.render()} is a {existing.type}, not a table. Drop it or rename the snapshot."
        )
    with unit_of_work(build, relation):
        if existing is None:
            return adapter.create_snapshot_table(
                relation, build.sql, spec, options_of(node), sql_header=build.sql_header
            )
        target_names = {c.name.lower() for c in adapter.get_columns(existing)}
        needed = [spec.names[k] for k in ("dbt_scd_id", "dbt_valid_from", "dbt_valid_to")]
        absent = [n for n in needed if n.lower() not in target_names]
        if absent:
            raise CompilationError(
                f"Snapshot target {existing.render()} is not a snapshot table: it has no column(s) "
                f"{', '.join(absent)}. Drop it or set snapshot_meta_column_names to match it."
            )
        if spec.strategy == "check":
            spec = _check_columns(adapter, node.config.get("check_cols"), build.sql, target_names, spec)
        staging = adapter.stage_snapshot(existing, build.sql, spec, sql_header=build.sql_header)
        internal = {"dbt_change_type", "dbt_unique_key"} | {
            f"dbt_unique_key_{i}" for i in range(1, len(spec.unique_key) + 1)
        }
        staged = [c for c in adapter.get_columns(staging) if c.name.lower() not in internal]
        adapter.add_columns(existing, [c for c in staged if c.name.lower() not in target_names])
        result = adapter.apply_snapshot(existing, staging, [c.name for c in staged], spec)
        adapter.drop_relation(staging)
        return result


def _check_columns(adapter: Adapter, check_cols: Any, sql: str, existing: set[str], spec: SnapshotSpec) -> SnapshotSpec:
    """The columns compared, and whether the query gained a column (then every row counts as changed)."""
    if check_cols == "all":
        query_columns = adapter.describe_query(sql)
    else:
        query_columns = adapter.describe_query(
            adapter.sql.select_from(sql, as_list(check_cols), alias="subq", quoted=False)
        )
    column_added = any(c.name.lower() not in existing for c in query_columns)
    compared = tuple(adapter.quote(c.name) for c in query_columns if c.name.lower() in existing)
    return replace(spec, check_cols=compared, column_added=column_added)
