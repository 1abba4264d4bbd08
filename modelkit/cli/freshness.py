"""``modelkit source freshness`` on the console: dbt's lines around :func:`run_freshness`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelkit.cli.output import dotted, format_duration
from modelkit.core.manifest import SourceDefinition
from modelkit.core.text import pluralize
from modelkit.execute.freshness import FreshnessResult, FreshnessRun, run_freshness, selected_sources


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
            left, right = dotted(index, count, f"START freshness of {source.source_name}.{source.name}", "RUN")
            reporter.line(left + right)

        def finished(index: int, count: int, result: FreshnessResult) -> None:
            message, status = line_for(result)
            left, right = dotted(index, count, message, status)
            style = {"pass": None, "warn": "yellow"}.get(result.status, "red")
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
