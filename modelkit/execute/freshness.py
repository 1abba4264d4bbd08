"""``modelkit source freshness``: how long ago each source table was last loaded.

A table is checked when it has a ``loaded_at_field`` and a ``freshness`` with
``warn_after`` and/or ``error_after`` (``{count, period}``, period one of
minute, hour, day), set on the source, the table or under ``config:``; a
table's ``freshness: null`` turns the check off. Naive timestamps are taken as
UTC. Results go to ``target/sources.json`` in dbt's shape.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.artifacts.writer import results_artifact, write_json
from modelkit.core.errors import ModelkitError
from modelkit.core.results import now
from modelkit.execute.scheduler import as_worker

if TYPE_CHECKING:
    from modelkit.core.manifest import SourceDefinition
    from modelkit.execute.context import ExecutionContext

SOURCES_SCHEMA = "https://schemas.getdbt.com/dbt/sources/v3.json"
PERIODS = {"minute": 60, "hour": 3600, "day": 86400}


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
    thread_id: str = "Thread-1 (worker)"

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
            "thread_id": self.thread_id,
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


def check(context: ExecutionContext, source: SourceDefinition) -> FreshnessResult:
    crit = criteria(source.freshness)
    started, t0 = time.perf_counter(), now()
    result = FreshnessResult(source, "pass", criteria=crit, thread_id=threading.current_thread().name)
    try:
        latest, snapshotted = context.adapter.max_loaded_at(
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


def selected_sources(
    context: ExecutionContext, select: Sequence[str], exclude: Sequence[str]
) -> list[SourceDefinition]:
    sources = context.manifest.sources
    if select:
        chosen = context.select(select, exclude)
    else:  # every source (the default selection of other commands is nodes only)
        chosen = set(sources) - (context.select(exclude) if exclude else set())
    return [sources[uid] for uid in sorted(chosen) if uid in sources and has_freshness(sources[uid])]


def sources_json(run: FreshnessRun, context: ExecutionContext) -> dict[str, Any]:
    return results_artifact(run, context.project.name, context.invocation.invocation_id, SOURCES_SCHEMA)


def run_freshness(
    context: ExecutionContext,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    output: str | Path | None = None,
    on_start: Any = None,
    on_result: Any = None,
) -> FreshnessRun:
    """Check each selected source table; write ``sources.json`` (or ``output``)."""
    run = FreshnessRun()
    started = time.perf_counter()
    sources = selected_sources(context, select, exclude)
    with as_worker(1):  # one source after the other, on the thread dbt would name its first worker
        for index, source in enumerate(sources, start=1):
            if on_start is not None:
                on_start(index, len(sources), source)
            result = check(context, source)
            run.results.append(result)
            if on_result is not None:
                on_result(index, len(sources), result)
    run.elapsed_time = time.perf_counter() - started
    path = Path(output) if output else context.project.target_dir / "sources.json"
    if not path.is_absolute():
        path = context.project.root / path if output is None else Path.cwd() / path
    write_json(path, sources_json(run, context))
    return run
