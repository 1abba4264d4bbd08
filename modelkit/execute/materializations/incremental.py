"""Incremental models: build once, then add or change only what the new rows say.

The flow is dbt's: with no table yet, on ``--full-refresh`` (unless the
model's ``full_refresh`` config is false) or when a view stands in the way, the
whole table is built and swapped in. Otherwise the model's SQL (rendered with
``is_incremental()`` true) fills a temporary table, ``on_schema_change`` is
applied, and the strategy (``append``, ``delete+insert``, ``merge``, or another
the engine lists in ``incremental_strategies``, such as ``insert_overwrite``)
writes the rows; without one configured, the engine's default (its first). Every step runs inside one transaction with the in-transaction hooks:
a failure or an interrupted process leaves the table exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelkit.core.config import as_list
from modelkit.core.errors import CompilationError
from modelkit.execute.materializations.base import Build, options_of, unit_of_work
from modelkit.execute.materializations.microbatch import materialize_microbatch

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, ColumnInfo, QueryResult
    from modelkit.core.relation import Relation

ON_SCHEMA_CHANGE = ("ignore", "fail", "append_new_columns", "sync_all_columns", "full_refresh")


def node_error(build: Build, message: str) -> CompilationError:
    """A Compilation Error headed with the node, as dbt prints them."""
    node = build.node
    return CompilationError(message, node=f"{node.resource_type} {node.name}", path=node.original_file_path)


def strategy_macro(strategy: str) -> str:
    """The macro that writes a strategy's SQL, as dbt names it (``get_incremental_delete_insert_sql``)."""
    return f"get_incremental_{strategy.replace('+', '_')}_sql"


def strategy_of(build: Build) -> str:
    """The model's strategy: a built-in one of the engine, or one a project or package macro implements."""
    builtin = build.adapter.incremental_strategies
    strategy = str(build.node.config.get("incremental_strategy") or builtin[0]).lower()
    custom = build.macros is not None and build.macros.exists(strategy_macro(strategy))
    if strategy not in builtin and not custom:
        expected = sorted({*builtin, "microbatch"})
        raise node_error(
            build,
            f"Invalid incremental strategy provided: {strategy}\n"
            f"Expected one of: {', '.join(repr(s) for s in expected)}, "
            f"or a macro named {strategy_macro(strategy)}",
        )
    return strategy


def on_schema_change_of(build: Build) -> str:
    value = str(build.node.config.get("on_schema_change") or "ignore")
    if value not in ON_SCHEMA_CHANGE:
        if build.log is not None:
            build.log(f"Invalid value for on_schema_change ({value}) specified. Setting default value of ignore.")
        return "ignore"
    return value


def materialize_incremental(build: Build) -> QueryResult:
    node, adapter = build.node, build.adapter
    relation = node.relation.with_type("table")
    existing = adapter.get_relation(relation.database, relation.schema, relation.identifier)
    if str(node.config.get("incremental_strategy") or "").lower() == "microbatch":
        return materialize_microbatch(build, existing)  # batched from its first build on, as in dbt
    if existing is None or existing.type != "table" or build.full_refresh:
        with unit_of_work(build, relation):  # as dbt: a (re)build never consults the strategy
            return adapter.replace_table(relation, build.sql, options_of(node), sql_header=build.sql_header)
    strategy = strategy_of(build)
    on_schema_change = on_schema_change_of(build)
    unique_key = as_list(node.config.get("unique_key"))
    predicates = as_list(node.config.get("incremental_predicates"))
    with unit_of_work(build, relation):
        staging = adapter.create_temp_table(relation, build.sql, sql_header=build.sql_header)
        source_columns = adapter.get_columns(staging)
        target_columns = adapter.get_columns(existing)
        if on_schema_change == "full_refresh" and _names(source_columns) != _names(target_columns):
            adapter.drop_relation(staging)
            return adapter.replace_table(relation, build.sql, options_of(node), sql_header=build.sql_header)
        try:
            columns = process_schema_changes(adapter, on_schema_change, existing, source_columns, target_columns)
        except CompilationError as exc:
            raise node_error(build, exc.message) from None
        if build.macros is not None and build.macros.exists(strategy_macro(strategy)):
            result = _custom_strategy(build, strategy, existing, staging, columns, predicates)
        elif strategy == "append":
            result = adapter.insert_into(existing, staging, columns)
        elif strategy == "delete+insert":
            result = adapter.delete_insert(existing, staging, columns, unique_key, predicates)
        elif strategy == "insert_overwrite":
            result = adapter.insert_overwrite(existing, staging, columns, as_list(node.config.get("partition_by")))
        else:
            result = adapter.merge(
                existing,
                staging,
                columns,
                update_columns(node.config, columns),
                unique_key,
                predicates,
                sql_header=build.sql_header,
            )
        adapter.drop_relation(staging)
        return result


def _custom_strategy(
    build: Build, strategy: str, target: Relation, staging: Relation, columns: Sequence[str], predicates: list[str]
) -> QueryResult:
    """A strategy written as a macro: it gets dbt's ``arg_dict`` and returns the SQL to run."""
    assert build.macros is not None
    wanted = {c.lower() for c in columns}
    arg_dict = {
        "target_relation": target,
        "temp_relation": staging,
        "unique_key": build.node.config.get("unique_key"),
        "dest_columns": [c for c in build.adapter.get_columns(staging) if c.name.lower() in wanted],
        "incremental_predicates": predicates or None,
    }
    sql = str(build.macros.call(strategy_macro(strategy), arg_dict) or "")
    if not sql.strip():
        raise node_error(build, f"Macro {strategy_macro(strategy)} returned no SQL")
    return build.adapter.execute(sql)


def update_columns(config: dict[str, Any], columns: Sequence[str]) -> list[str]:
    """Columns a merge updates: ``merge_update_columns``, else all but ``merge_exclude_columns``."""
    chosen = as_list(config.get("merge_update_columns"))
    if chosen:
        wanted = {c.lower() for c in chosen}
        return [c for c in columns if c.lower() in wanted]
    excluded = {c.lower() for c in as_list(config.get("merge_exclude_columns"))}
    return [c for c in columns if c.lower() not in excluded]


def _names(columns: Sequence[ColumnInfo]) -> list[str]:
    return [c.name.lower() for c in columns]


def _describe(columns: Sequence[ColumnInfo]) -> str:
    return "[" + ", ".join(f"{c.name} ({c.data_type})" for c in columns) + "]"


def process_schema_changes(
    adapter: Adapter,
    on_schema_change: str,
    target: Relation,
    source_columns: Sequence[ColumnInfo],
    target_columns: Sequence[ColumnInfo],
) -> list[str]:
    """Apply ``on_schema_change``; return the columns the strategy writes.

    ``ignore`` writes the target's columns (new source columns are dropped);
    the other modes write the source's columns once the target is reconciled.
    """
    if on_schema_change in ("ignore", "full_refresh"):
        return [c.name for c in target_columns]
    target_by_name = {c.name.lower(): c for c in target_columns}
    source_names = {c.name.lower() for c in source_columns}
    added = [c for c in source_columns if c.name.lower() not in target_by_name]
    removed = [c for c in target_columns if c.name.lower() not in source_names]
    retyped = [
        c
        for c in source_columns
        if c.name.lower() in target_by_name and c.data_type.upper() != target_by_name[c.name.lower()].data_type.upper()
    ]
    if added or removed or retyped:
        if on_schema_change == "fail":
            raise CompilationError(
                "The source and target schemas on this incremental model are out of sync!\n"
                "They can be reconciled in several ways:\n"
                "  - set the `on_schema_change` config to either append_new_columns or sync_all_columns, "
                "depending on your situation.\n"
                "  - Re-run the incremental model with `full_refresh: True` to update the target schema.\n"
                "  - update the schema manually and re-run the process.\n\n"
                "Additional troubleshooting context:\n"
                f"   Source columns not in target: {_describe(added)}\n"
                f"   Target columns not in source: {_describe(removed)}\n"
                f"   New column types: {_describe(retyped)}"
            )
        adapter.add_columns(target, added)
        if on_schema_change == "sync_all_columns":
            adapter.drop_columns(target, [c.name for c in removed])
            for column in retyped:
                adapter.alter_column_type(target, column.name, column.data_type)
    return [c.name for c in source_columns]
