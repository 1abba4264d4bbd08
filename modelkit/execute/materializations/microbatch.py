"""The ``microbatch`` incremental strategy: a time-series model built one ``batch_size`` window at a time.

Each window's SQL is the model rendered with its inputs (``ref`` / ``source`` of nodes that declare an
``event_time``) read for that window only. A first build (or ``--full-refresh``) runs from ``begin`` to
now; later runs rebuild the last ``lookback`` windows and the current one; ``--event-time-start`` /
``--event-time-end`` choose the windows explicitly. A window replaces the target's rows whose
``event_time`` falls in it, so re-running a window never duplicates rows. Every window of a run is one
unit of work with the others: the table is as before the run, or as after it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from modelkit.adapters.base import QueryResult
from modelkit.core.batches import Window, plan
from modelkit.core.errors import CompilationError
from modelkit.execute.materializations.base import Build, options_of, unit_of_work

if TYPE_CHECKING:
    from modelkit.core.relation import Relation


def batch_windows(build: Build, incremental: bool, now: dt.datetime | None = None) -> list[Window]:
    """The windows this run builds for ``build.node``."""
    node = build.node
    if not node.config.get("event_time"):
        raise _error(build, f"Microbatch model '{node.name}' needs an event_time config (its time column)")
    try:
        return plan(
            node.config,
            incremental=incremental,
            now=now or dt.datetime.now(dt.timezone.utc),
            event_time_start=build.event_time_start,
            event_time_end=build.event_time_end,
        )
    except ValueError as exc:
        raise _error(build, f"Microbatch model '{node.name}' {exc}") from None


def materialize_microbatch(build: Build, existing: Relation | None) -> QueryResult:
    """Build every window of this run; the target is replaced window by window, in one unit of work."""
    node, adapter = build.node, build.adapter
    if build.compile_window is None:
        raise _error(build, f"Microbatch model '{node.name}' cannot be compiled window by window here")
    relation = node.relation.with_type("table")
    incremental = existing is not None and existing.type == "table" and not build.full_refresh
    windows = batch_windows(build, incremental)
    column = str(node.config["event_time"])
    with unit_of_work(build, relation):
        for index, window in enumerate(windows):
            sql = build.compile_window(window)
            if index == 0 and not incremental:
                adapter.replace_table(relation, sql, options_of(node), sql_header=build.sql_header)
                continue
            staging = adapter.create_temp_table(relation, sql, sql_header=build.sql_header)
            columns = [c.name for c in adapter.get_columns(staging)]
            adapter.replace_window(relation, staging, columns, column, str(window[0]), str(window[1]))
            adapter.drop_relation(staging)
    count = len(windows)
    return QueryResult(message=f"SUCCESS {count} batch{'es' if count != 1 else ''}")


def _error(build: Build, message: str) -> CompilationError:
    node = build.node
    return CompilationError(message, node=f"{node.resource_type} {node.name}", path=node.original_file_path)
