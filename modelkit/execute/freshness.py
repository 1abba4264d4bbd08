"""``modelkit source freshness``: how long ago each source table was last loaded.

A table is checked when it has a ``loaded_at_field`` and a ``freshness`` with
``warn_after`` and/or ``error_after`` (``{count, period}``, period one of
minute, hour, day), set on the source, the table or under ``config:``; a
table's ``freshness: null`` turns the check off. Naive timestamps are taken as
UTC. Results go to ``target/sources.json`` in dbt's shape.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.core.errors import ModelkitError
from modelkit.core.results import now

if TYPE_CHECKING:
    from modelkit.api.session import Session
    from modelkit.core.manifest import SourceDefinition

SOURCES_SCHEMA = "https://schemas.getdbt.com/dbt/sources/v3.json"
PERIODS = {"minute": 60, "hour": 3600, "day": 86400}


def merge_freshness(base: Any, update: Any) -> dict[str, Any] | None:
    """dbt's rule: a table's freshness refines its source's, one level deep; null switches it off."""
    if update is None:
        return None
    if not isinstance(base, Mapping):
        return dict(update) if isinstance(update, Mapping) else None
    if not isinstance(update, Mapping):
        return dict(base)
    merged = dict(base)
    for key, value in update.items():
        if key in ("warn_after", "error_after") and isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


def _threshold(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping) and value.get("count") is not None and value.get("period") in PERIODS:
        return {"count": int(value["count"]), "period": str(value["period"])}
    return {"count": None, "period": None}


def criteria(freshness: Mapping[str, Any] | None) -> dict[str, Any]:
    freshness = freshness or {}
    return {
        "warn_after": _threshold(freshness.get("warn_after")),
        "error_after": _threshold(freshness.get("error_after")),
        "filter": freshness.get("filter"),
    }


def _seconds(threshold: Mapping[str, Any]) -> float | None:
    if threshold.get("count") is None:
        return None
    return float(threshold["count"]) * PERIODS[threshold["period"]]


def has_freshness(source: SourceDefinition) -> bool:
    crit = criteria(source.freshness)
    return bool(source.loaded_at_field) and (
        crit["warn_after"]["count"] is not None or crit["error_after"]["count"] is not None
    )


def status_for(age: float | None, crit: Mapping[str, Any]) -> str:
    """``pass``, ``warn`` or ``error`` for a table last loaded ``age`` seconds ago (None: never)."""
    error_after, warn_after = _seconds(crit["error_after"]), _seconds(crit["warn_after"])
    if error_after is not None and (age is None or age > error_after):
        return "error"
    if warn_after is not None and (age is None or age > warn_after):
        return "warn"
    return "pass"


def _utc(value: Any) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    raise ModelkitError(f"loaded_at_field must be a timestamp or a date, got {type(value).__name__} {value!r}")


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class FreshnessResult:
    source: SourceDefinition
    status: str  # pass | warn | error | runtime error
    max_loaded_at: datetime.datetime | None = None
    snapshotted_at: datetime.datetime | None = None
    age: float | None = None
    criteria: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    execution_time: float = 0.0
    timing: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return self.status in ("error", "runtime error")

    def to_dict(self) -> dict[str, Any]:
        if self.status == "runtime error":
            return {"unique_id": self.source.unique_id, "error": self.error, "status": self.status}
        return {
            "unique_id": self.source.unique_id,
            "max_loaded_at": _iso(self.max_loaded_at),
            "snapshotted_at": _iso(self.snapshotted_at),
            "max_loaded_at_time_ago_in_s": self.age,
            "status": self.status,
            "criteria": self.criteria,
            "adapter_response": {"_message": "SELECT 1", "code": "SELECT", "rows_affected": 1},
            "timing": self.timing,
            "thread_id": "Thread-1",
            "execution_time": round(self.execution_time, 6),
        }


@dataclass
class FreshnessRun:
    results: list[FreshnessResult] = field(default_factory=list)
    elapsed_time: float = 0.0
    started_at: datetime.datetime = field(default_factory=now)

    @property
    def success(self) -> bool:
        return not any(r.is_error for r in self.results)


def check(session: Session, source: SourceDefinition) -> FreshnessResult:
    crit = criteria(source.freshness)
    started, t0 = time.perf_counter(), now()
    result = FreshnessResult(source, "pass", criteria=crit)
    try:
        latest, snapshotted = session.adapter.max_loaded_at(
            source.relation, str(source.loaded_at_field), crit["filter"]
        )
        result.max_loaded_at = _utc(latest)
        result.snapshotted_at = _utc(snapshotted) or now()
        if result.max_loaded_at is not None:
            result.age = (result.snapshotted_at - result.max_loaded_at).total_seconds()
        result.status = status_for(result.age, crit)
    except ModelkitError as exc:
        result.status, result.error = "runtime error", exc.message
    t1 = now()
    result.timing = [
        {"name": "compile", "started_at": _iso(t0), "completed_at": _iso(t0)},
        {"name": "execute", "started_at": _iso(t0), "completed_at": _iso(t1)},
    ]
    result.execution_time = time.perf_counter() - started
    return result


def selected_sources(session: Session, select: Sequence[str], exclude: Sequence[str]) -> list[SourceDefinition]:
    sources = session.manifest.sources
    if select:
        chosen = session.select(select, exclude)
    else:  # every source (the default selection of other commands is nodes only)
        chosen = set(sources) - (session.select(exclude) if exclude else set())
    return [sources[uid] for uid in sorted(chosen) if uid in sources and has_freshness(sources[uid])]


def line_for(result: FreshnessResult) -> tuple[str, str]:
    """(message, bracketed status) as dbt prints them."""
    name = f"{result.source.source_name}.{result.source.name}"
    seconds = f" in {result.execution_time:.2f}s"
    word = {"pass": "PASS", "warn": "WARN", "error": "ERROR STALE", "runtime error": "ERROR"}[result.status]
    return f"{word} freshness of {name}", f"{word}{seconds}"


def sources_json(run: FreshnessRun, session: Session) -> dict[str, Any]:
    from modelkit.artifacts.writer import results_artifact

    return results_artifact(run, session.project.name, session.invocation.invocation_id, SOURCES_SCHEMA)


def run_freshness(
    session: Session,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    output: str | Path | None = None,
    on_start: Any = None,
    on_result: Any = None,
) -> FreshnessRun:
    """Check each selected source table; write ``sources.json`` (or ``output``)."""
    from modelkit.artifacts.writer import write_json

    run = FreshnessRun()
    started = time.perf_counter()
    sources = selected_sources(session, select, exclude)
    for index, source in enumerate(sources, start=1):
        if on_start is not None:
            on_start(index, len(sources), source)
        result = check(session, source)
        run.results.append(result)
        if on_result is not None:
            on_result(index, len(sources), result)
    run.elapsed_time = time.perf_counter() - started
    path = Path(output) if output else session.project.target_dir / "sources.json"
    if not path.is_absolute():
        path = session.project.root / path if output is None else Path.cwd() / path
    write_json(path, sources_json(run, session))
    return run


def freshness_command(
    project: Any, reporter: Any, select: Sequence[str] | None, exclude: Sequence[str] | None, output: Any
) -> FreshnessRun:
    """The console side of ``modelkit source freshness``: dbt's lines, then ``Done.``."""
    from modelkit.cli.output import dotted, format_duration, pluralize

    with project.session("freshness") as session:
        reporter.header(session.manifest, session.adapter.info())
        for term in session.unmatched(select):
            reporter.line(f"The selection criterion '{term}' does not match any enabled nodes", style="yellow")
        reporter.line("")
        total = len(selected_sources(session, select or (), exclude or ()))
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

        run = run_freshness(session, select or (), exclude or (), output=output, on_start=started, on_result=finished)
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
