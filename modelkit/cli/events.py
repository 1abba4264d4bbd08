"""Structured events: every console line as a named dbt event, for ``--log-format json`` and the log file.

An event has dbt's shape: ``{"data": {...}, "info": {name, code, msg, level, invocation_id, ts, thread,
pid, category, extra}}``; node events carry ``data.node_info``. Names and codes are dbt-core's, so
orchestrators that read dbt's JSON log (dagster-dbt, astronomer-cosmos) read modelkit's.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from modelkit.cli.output import ConsoleReporter, describe, dotted, result_line
from modelkit.core.manifest import NO_OP_TYPES

if TYPE_CHECKING:
    from modelkit.core.manifest import Node
    from modelkit.core.results import NodeResult

# name: (code, level) as dbt-core 1.11 (dbt/events/types.py, dbt_common/events/types.py) names them
EVENTS: dict[str, tuple[str, str]] = {
    "MainReportVersion": ("A001", "info"),
    "MainReportArgs": ("A002", "debug"),
    "AdapterRegistered": ("E034", "info"),
    "FoundStats": ("W006", "info"),
    "ConcurrencyLine": ("Q027", "info"),
    "NoNodesForSelectionCriteria": ("M030", "warn"),
    "NothingToDo": ("Q035", "warn"),
    "NodeStart": ("Q024", "debug"),
    "NodeFinished": ("Q025", "debug"),
    "LogStartLine": ("Q011", "info"),
    "LogModelResult": ("Q012", "info"),
    "LogSnapshotResult": ("Q015", "info"),
    "LogSeedResult": ("Q016", "info"),
    "LogTestResult": ("Q007", "info"),
    "LogNodeResult": ("Q008", "info"),
    "LogNodeNoOpResult": ("Q019", "info"),
    "LogFreshnessResult": ("Q018", "info"),
    "LogHookStartLine": ("Q032", "info"),
    "LogHookEndLine": ("Q033", "info"),
    "SkippingDetails": ("Q034", "info"),
    "FinishedRunningStats": ("E047", "info"),
    "EndOfRunSummary": ("Z030", "info"),
    "RunResultFailure": ("Z022", "error"),
    "RunResultWarning": ("Z021", "warn"),
    "RunResultError": ("Z024", "error"),
    "RunResultWarningMessage": ("Z046", "warn"),
    "SQLCompiledPath": ("Z026", "info"),
    "CheckNodeTestFailure": ("Z027", "info"),
    "StatsLine": ("Z023", "info"),
    "CommandCompleted": ("Q039", "debug"),
    "MainEncounteredError": ("Z002", "error"),
    "JinjaLogInfo": ("I062", "info"),
    "JinjaLogWarning": ("I061", "warn"),
    "ListCmdOut": ("Z049", "info"),
    "DepsNoPackagesFound": ("M013", "info"),
    "CompiledNode": ("Q042", "info"),
    "ShowNode": ("Q041", "info"),
    "RunningOperationUncaughtError": ("Q036", "error"),
    "RunningOperationCaughtError": ("Q001", "error"),
    "Formatting": ("Z017", "info"),
    "Note": ("Z050", "info"),
    "PrintEvent": ("Z052", "info"),
}
LEVELS = {"debug": 10, "info": 20, "warn": 30, "error": 40, "none": 100}
RESULT_EVENTS = {"model": "LogModelResult", "seed": "LogSeedResult", "snapshot": "LogSnapshotResult",
                 "test": "LogTestResult", "unit_test": "LogTestResult", "operation": "LogHookEndLine"}  # fmt: skip


def _naive_utc(value: datetime.datetime | None) -> str:
    """dbt's node timestamps: ISO, UTC, without a zone suffix ('' when unknown).

    >>> at = datetime.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=datetime.timezone.utc)
    >>> _naive_utc(at), _naive_utc(at.astimezone(datetime.timezone(datetime.timedelta(hours=2)))), _naive_utc(None)
    ('2026-01-02T03:04:05.006000', '2026-01-02T03:04:05.006000', '')
    """
    if not value:
        return ""
    if value.tzinfo is not datetime.timezone.utc:  # (the reporter's own are: one per node event)
        value = value.astimezone(datetime.timezone.utc)
    return value.isoformat()[:-6]  # without "+00:00"


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class EventTimes:
    """Events' ``ts``: now, in UTC, ISO with microseconds and ``Z`` (``2026-01-02T03:04:05.006000Z``); the
    text of the second is made once (thousands of events share it).

    >>> import re
    >>> bool(re.fullmatch(r"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z", EventTimes().now()))
    True
    """

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")  # replaced whole: threads read it without a lock

    def now(self) -> str:
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        known = self._second
        if known[0] != second:
            known = self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{known[1]}.{micro:06d}Z"


def thread_label(name: str) -> str:
    """A thread's name in text log lines: its first 10 characters, padded (``Thread-1 (``), as dbt writes it."""
    return name[:10].ljust(10)


def node_info(
    node: Node,
    status: str,
    started: datetime.datetime | None,
    finished: datetime.datetime | None,
    fixed: tuple[Any, ...] | None = None,
) -> dict:
    """``node_info`` as dbt attaches it to node events (an exposure's or saved query's: no materialization, no
    relation). ``fixed``: the node's :func:`fixed_info`, when worked out already (its start's event)."""
    materialized, meta, checksum, name, path, relation, resource_type, unique_id = fixed or fixed_info(node)
    return {
        "materialized": materialized,
        "meta": meta,
        "node_checksum": checksum,
        "node_finished_at": _naive_utc(finished),
        "node_name": name,
        "node_path": path,
        "node_relation": relation,
        "node_started_at": _naive_utc(started),
        "node_status": status,
        "resource_type": resource_type,
        "unique_id": unique_id,
    }


def fixed_info(node: Node) -> tuple[Any, ...]:
    """What :func:`node_info` says of a node that does not change while it runs."""
    if node.resource_type in NO_OP_TYPES:
        materialized, alias = "", ""
    else:
        materialized = node.config.get("materialized", node.resource_type) if node.config else node.resource_type
        alias = node.alias or node.name
    relation = {
        "alias": alias,
        "database": node.database or "",
        "relation_name": node.relation_name or "",
        "schema": node.schema or "",
    }
    checksum = node.checksum if node.resource_type not in ("test", "unit_test") else ""
    return materialized, node.meta or {}, checksum, node.name, node.path, relation, node.resource_type, node.unique_id


class EventReporter(ConsoleReporter):
    """Console lines (text, debug or json format) and the debug log file, from one stream of events."""

    def __init__(
        self,
        *,
        use_colors: bool | None = None,
        quiet: bool = False,
        log_format: str = "default",
        log_level: str = "info",
        log_file: Any = None,
        printer_width: int = 80,
        invocation_id: str | None = None,
        stream: Any = None,
    ) -> None:
        self.log_format = "text" if log_format == "default" else log_format
        super().__init__(use_colors=False if self.log_format == "json" else use_colors, quiet=quiet, stream=stream)
        self.min_level = LEVELS[log_level]
        self.log_file = log_file  # the rotated log file (logsetup.EventLogFile), or None
        self.width = printer_width
        self.invocation_id = invocation_id or str(uuid.uuid4())
        self.started_at: dict[str, datetime.datetime] = {}
        self._fixed: dict[str, tuple[Any, ...]] = {}  # each running node's fixed_info, from its start
        self._times = EventTimes()
        self.success = True
        self.args: dict[str, str] = {}  # the command's settings, as dbt's MainReportArgs reports its flags

    # -- the sink ----------------------------------------------------------------------
    def emit(
        self,
        name: str,
        msg: str,
        data: dict[str, Any] | None = None,
        *,
        level: str | None = None,
        style: str | None = None,
        always: bool = False,
        node_line: tuple[int, int, str, str] | None = None,
    ) -> None:
        code, default_level = EVENTS[name]
        level = level or default_level
        event = {
            "data": data if data is not None else {"msg": msg},
            "info": {
                "category": "",
                "code": code,
                "extra": {},
                "invocation_id": self.invocation_id,
                "level": level,
                "msg": msg,
                "name": name,
                "pid": os.getpid(),
                "thread": threading.current_thread().name,  # a worker's name is dbt's (scheduler.worker_name)
                "ts": self._times.now(),
            },
        }
        if self.log_file is not None:
            self.log_file.log(LEVELS[level], event)
        if not self._shown(level, always):
            return
        if self.log_format == "json":
            self._write(json.dumps(event, default=str))
        elif self.log_format == "debug":
            stamp = datetime.datetime.now().strftime("%H:%M:%S.%f")
            self._write(f"{stamp} [{level:<5}] [{thread_label(event['info']['thread'])}]: {msg}")
        elif node_line is not None:
            ConsoleReporter._node_line(self, *node_line)
        else:
            ConsoleReporter.line(self, msg, style=style, always=True)

    def _shown(self, level: str, always: bool) -> bool:
        if self.quiet and not always and level != "error":
            return False
        return LEVELS[level] >= self.min_level or (always and self.min_level < LEVELS["none"])

    # -- plain lines -------------------------------------------------------------------
    def line(self, text: str = "", style: str | None = None, always: bool = False) -> None:
        self.emit("Note" if text else "Formatting", text, {"msg": text}, style=style, always=always)

    def log(self, message: str) -> None:
        self.emit("JinjaLogInfo", message, {"msg": message})

    def warn(self, message: str) -> None:
        """A template's ``exceptions.warn()``: the message as written, at warn level."""
        self.emit("JinjaLogWarning", message, {"msg": message}, level="warn", style="yellow")

    def error(self, text: str) -> None:
        self.emit("MainEncounteredError", text, {"exc": text}, style="red", always=True)

    def print_out(self, name: str, text: str, data: dict[str, Any] | None = None) -> None:
        """Command output (``ls``, ``compile``, ``show``): a bare line in text formats, an event in json."""
        if self.log_format == "json":
            self.emit(name, text, data if data is not None else {"msg": text}, always=True)
            return
        if self.log_file is not None:
            self.emit(name, text, data, level="debug")
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    # -- node lines --------------------------------------------------------------------
    def start(self, index: int, total: int, node: Node) -> None:
        started = _utc_now()
        self.started_at[node.unique_id] = started
        fixed = self._fixed[node.unique_id] = fixed_info(node)
        info = node_info(node, "started", started, None, fixed)
        self.emit("NodeStart", f"Began running node {node.unique_id}", {"node_info": info})
        if node.resource_type in NO_OP_TYPES:  # dbt's NO-OP nodes print only their result
            return
        message = f"START {describe(node)}"
        if node.resource_type == "operation":
            statement = getattr(node, "hook_name", node.name)
            data = {"statement": statement, "index": index, "total": total, "node_info": info}
            self.emit("LogHookStartLine", dotted(index, total, message, "RUN", self.width)[0] + " [RUN]", data,
                      node_line=(index, total, message, "RUN"))  # fmt: skip
            return
        data = {"description": describe(node), "index": index, "total": total, "node_info": info}
        self.emit("LogStartLine", dotted(index, total, message, "RUN", self.width)[0] + " [RUN]", data,
                  node_line=(index, total, message, "RUN"))  # fmt: skip

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None:
        finished = _utc_now()
        started = self.started_at.pop(node.unique_id, None)
        fixed = self._fixed.pop(node.unique_id, None) or fixed_info(node)
        if result.status == "skipped":  # dbt: started, and never finished
            started = finished
            self.emit("NodeStart", f"Began running node {node.unique_id}",
                      {"node_info": node_info(node, "started", started, None, fixed)})  # fmt: skip
        info = node_info(node, result.status, started, None if result.status == "skipped" else finished, fixed)
        message, status = result_line(node, result)
        text = "".join(dotted(index, total, message, status, self.width))
        line = (index, total, message, status)
        name, data, level = self._result_event(index, total, node, result, info)
        self.emit(name, text, data, level=level, node_line=line)
        run_result = {
            "adapter_response": result.adapter_response,
            "execution_time": result.execution_time,
            "message": result.message or "",  # a string field of dbt's event: "" when there is none
            "num_failures": result.failures or 0,
            "status": result.status,
            "thread": result.thread_id,
            "timing_info": result.timing,
        }
        self.emit("NodeFinished", f"Finished running node {node.unique_id}",
                  {"node_info": info, "run_result": run_result})  # fmt: skip
        if self._progress is not None:
            self._progress.advance(self._task)

    @staticmethod
    def _result_event(
        index: int, total: int, node: Node, result: NodeResult, info: dict[str, Any]
    ) -> tuple[str, dict[str, Any], str]:
        status = result.status
        level = "error" if result.is_error else ("warn" if status == "warn" else "info")
        common = {"index": index, "execution_time": result.execution_time, "node_info": info}
        if status == "skipped":
            data = {"index": index, "total": total, "node_name": node.name, "resource_type": node.resource_type,
                    "schema": node.schema or "", "node_info": info}  # fmt: skip
            return "SkippingDetails", data, "info"
        kind = node.resource_type
        if status == "no-op":
            return "LogNodeNoOpResult", {"description": describe(node), "execution_time": result.execution_time,
                                         "index": index, "node_info": info, "status": "", "total": total}, "info"  # fmt: skip
        name = RESULT_EVENTS.get(kind, "LogNodeResult")
        if kind in ("test", "unit_test"):
            attached = getattr(node, "attached_node", None) or ""
            data = {**common, "name": node.name, "status": status, "num_models": total,
                    "num_failures": result.failures or 0, "attached_node": attached}  # fmt: skip
        elif kind == "seed":
            data = {**common, "total": total, "status": "error" if status == "error" else "success",
                    "result_message": result.message or "", "schema": node.schema or "", "relation": node.alias}  # fmt: skip
        elif kind == "snapshot":
            data = {**common, "total": total, "description": f"{node.schema}.{node.alias}", "cfg": {},
                    "status": "error" if status == "error" else "success", "result_message": result.message or ""}  # fmt: skip
        elif kind == "operation":
            data = {**common, "total": total, "statement": getattr(node, "hook_name", node.name), "status": status}
        else:
            data = {**common, "total": total, "description": describe(node),
                    "status": "error" if status == "error" else (result.message or "OK")}  # fmt: skip
            if name == "LogNodeResult":
                data = {**common, "msg": describe(node)}
        return name, data, level

    # -- headers, summary, end ---------------------------------------------------------
    def header(self, manifest: Any, adapter_info: dict[str, Any] | None = None) -> None:
        from modelkit import __version__
        from modelkit.cli.output import found_summary

        self.emit(
            "MainReportVersion",
            f"Running with modelkit={__version__}",
            {"version": f"={__version__}", "log_version": 3},
        )
        if self.args:
            self.emit("MainReportArgs", f"running modelkit with arguments {self.args}", {"args": dict(self.args)})
        if adapter_info:
            name, version = adapter_info["type"], adapter_info.get(adapter_info["type"], "")
            self.emit("AdapterRegistered", f"Registered adapter: {name}={version}",
                      {"adapter_name": name, "adapter_version": f"={version}"})  # fmt: skip
        stats = found_summary(manifest)
        self.emit("FoundStats", "Found " + stats, {"stat_line": stats})

    def concurrency(self, threads: int, target_name: str, node_count: int) -> None:
        self.emit("ConcurrencyLine", f"Concurrency: {threads} threads (target='{target_name}')",
                  {"num_threads": threads, "target_name": target_name, "node_count": node_count})  # fmt: skip

    def no_match(self, term: str) -> None:
        self.emit("NoNodesForSelectionCriteria", f"The selection criterion '{term}' does not match any enabled nodes",
                  {"spec_raw": term}, style="yellow")  # fmt: skip

    def nothing_to_do(self) -> None:
        self.emit("NothingToDo", "Nothing to do. Try checking your model configs and model specification args", {})

    def summary(self, run: Any, manifest: Any) -> None:
        from modelkit.cli.output import finished_summary, format_duration, pluralize, test_failure_notes

        self.line("")
        if run.command != "clone":  # dbt's clone prints no such line
            stats = finished_summary(run, manifest)
            self.emit("FinishedRunningStats", f"Finished running {stats} in {format_duration(run.elapsed_time)}.",
                      {"stat_line": stats, "execution": f" in {format_duration(run.elapsed_time).split(' (')[0]}",
                       "execution_time": run.elapsed_time})  # fmt: skip
            self.line("")
        errors = [r for r in run.results if r.is_error]
        warns = [r for r in run.results if r.status == "warn"]
        summary = {"num_errors": len(errors), "num_warnings": len(warns), "num_partial_success": 0,
                   "keyboard_interrupt": run.interrupted}  # fmt: skip
        if run.interrupted:
            self.emit("EndOfRunSummary", "Interrupted: the run was cancelled.", summary, level="error", style="red")
        elif errors:
            text = f"Completed with {pluralize(len(errors), 'error')}, 0 partial successes, and {pluralize(len(warns), 'warning')}:"
            self.emit("EndOfRunSummary", text, summary, style="red", always=True)
        elif warns:
            self.emit("EndOfRunSummary", f"Completed with {pluralize(len(warns), 'warning')}:", summary, style="yellow")
        else:
            self.emit("EndOfRunSummary", "Completed successfully", summary, style="green")
        for result in errors + warns:
            node = manifest.run_node(result.unique_id)
            if node is None:
                continue
            failing = result.is_error
            self.line("", always=True)
            head = (
                f"{'Failure' if failing else 'Warning'} in {node.resource_type} {node.name} ({node.original_file_path})"
            )
            data = {"node_name": node.name, "resource_type": node.resource_type, "path": node.original_file_path}
            self.emit("RunResultFailure" if failing else "RunResultWarning", head, data,
                      style="red" if failing else "yellow", always=True)  # fmt: skip
            message = "\n".join(f"  {text}" for text in (result.message or "").splitlines())
            self.emit("RunResultError" if failing else "RunResultWarningMessage", message,
                      {"msg": result.message or ""}, always=True)  # fmt: skip
            for text in test_failure_notes(node, result):
                if text.startswith("  compiled code at "):
                    self.emit("SQLCompiledPath", text, {"path": text[len("  compiled code at ") :]}, always=True)
                else:
                    self.line(text, always=True)
        counts = run.by_status()
        stats_data = {
            "pass": counts.get("success", 0) + counts.get("pass", 0),
            "warn": counts.get("warn", 0),
            "error": counts.get("error", 0) + counts.get("fail", 0),
            "skip": counts.get("skipped", 0),
            "noop": counts.get("no-op", 0),
            "total": len(run.results),
        }
        self.line("")
        self.emit("StatsLine",
                  f"Done. PASS={stats_data['pass']} WARN={stats_data['warn']} ERROR={stats_data['error']} "
                  f"SKIP={stats_data['skip']} NO-OP={stats_data['noop']} TOTAL={stats_data['total']}",
                  {"stats": stats_data}, always=True)  # fmt: skip

    def completed(self, command: str, success: bool, elapsed: float) -> None:
        """dbt's last event: ``CommandCompleted``."""
        done = _utc_now()
        verb = "succeeded" if success else "failed"
        self.emit("CommandCompleted",
                  f"Command `modelkit {command}` {verb} at {done.strftime('%H:%M:%S.%f')} after {elapsed:.2f} seconds",
                  {"command": f"modelkit {command}", "success": success,
                   "completed_at": done.isoformat().replace("+00:00", "Z"), "elapsed": elapsed})  # fmt: skip
        self.close()

    def close(self) -> None:
        """Close the log file (the command is over)."""
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None
