"""``modelkit source freshness`` on the console: dbt's lines around :func:`run_freshness`."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from modelkit.cli.events import EventReporter
from modelkit.cli.output import dotted, format_duration
from modelkit.core.manifest import SourceDefinition
from modelkit.core.text import pluralize
from modelkit.execute.freshness import FreshnessResult, FreshnessRun, run_freshness, selected_sources


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _stamp(value: datetime.datetime | None) -> str:
    """dbt's node timestamps: ISO, UTC, without a zone suffix ('' when unknown)."""
    return value.replace(tzinfo=None).isoformat() if value is not None else ""


def source_info(
    source: SourceDefinition, status: str, started: datetime.datetime | None, finished: datetime.datetime | None
) -> dict[str, Any]:
    """``node_info`` of a source, as dbt attaches it to freshness events."""
    return {
        "materialized": "",
        "meta": dict(getattr(source, "meta", {}) or {}),
        "node_checksum": "",
        "node_finished_at": _stamp(finished),
        "node_name": f"{source.source_name}.{source.name}",
        "node_path": source.original_file_path,
        "node_relation": {
            "alias": source.name,
            "database": source.relation.database or "",
            "relation_name": source.relation_name,
            "schema": source.relation.schema or "",
        },
        "node_started_at": _stamp(started),
        "node_status": status,
        "resource_type": "source",
        "unique_id": source.unique_id,
    }


def line_for(result: FreshnessResult) -> tuple[str, str]:
    """(message, bracketed status) as dbt prints them."""
    name = f"{result.source.source_name}.{result.source.name}"
    seconds = f" in {result.execution_time:.2f}s"
    word = {"pass": "PASS", "warn": "WARN", "error": "ERROR STALE", "runtime error": "ERROR"}[result.status]
    return f"{word} freshness of {name}", f"{word}{seconds}"


def freshness_command(
    project: Any, reporter: Any, select: Sequence[str] | None, exclude: Sequence[str] | None, output: Any
) -> FreshnessRun:
    """The console side of ``modelkit source freshness``: dbt's lines, then ``Done.``."""
    with project.session("freshness") as session:
        context = session.execution()
        reporter.header(session.manifest, session.adapter.info())
        for term in session.unmatched(select):
            reporter.line(f"The selection criterion '{term}' does not match any enabled nodes", style="yellow")
        reporter.line("")
        total = len(selected_sources(context, select or (), exclude or ()))
        if not total:
            reporter.line("Nothing to do. Try checking your source configs (loaded_at_field and freshness)")
        else:
            reporter.line(f"Concurrency: 1 threads (target='{session.target.name}')")
            reporter.line("")

        def started(index: int, count: int, source: SourceDefinition) -> None:
            message = f"START freshness of {source.source_name}.{source.name}"
            left, right = dotted(index, count, message, "RUN")
            if isinstance(reporter, EventReporter):  # dbt's events, for --log-format json
                data = {"description": message[6:], "index": index, "total": count}
                data["node_info"] = source_info(source, "started", _utc_now(), None)
                reporter.emit("LogStartLine", left + right, data, node_line=(index, count, message, "RUN"))
            else:
                reporter.line(left + right)

        def finished(index: int, count: int, result: FreshnessResult) -> None:
            message, status = line_for(result)
            left, right = dotted(index, count, message, status)
            style = {"pass": None, "warn": "yellow"}.get(result.status, "red")
            if isinstance(reporter, EventReporter):
                source = result.source
                data = {
                    "status": result.status,
                    "source_name": source.source_name,
                    "table_name": source.name,
                    "index": index,
                    "total": count,
                    "execution_time": result.execution_time,
                    "node_info": source_info(source, result.status, None, _utc_now()),
                }
                level = {"pass": "info", "warn": "warn"}.get(result.status, "error")
                reporter.emit("LogFreshnessResult", left + right, data, level=level, style=style,
                              always=result.is_error, node_line=(index, count, message, status))  # fmt: skip
            else:
                reporter.line(left + right, style=style, always=result.is_error)

        run = run_freshness(context, select or (), exclude or (), output=output, on_start=started, on_result=finished)
        if total:
            reporter.line("")
            reporter.line(f"Finished running {pluralize(total, 'source')} in {format_duration(run.elapsed_time)}.")
        for result in run.results:
            if result.status == "runtime error":
                source = result.source
                reporter.line("", always=True)
                reporter.line(
                    f"Failure in source {source.source_name}.{source.name} ({source.original_file_path})",
                    style="red",
                    always=True,
                )
                reporter.line(f"  Runtime Error in source {source.name}: {result.error}", always=True)
        reporter.line("")
        reporter.line("Done.", always=True)
        return run
