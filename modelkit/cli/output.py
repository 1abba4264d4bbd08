"""Console output in dbt's conventions: one line per node, then a summary.

Colours are off under ``NO_COLOR``, with ``--no-use-colors`` or when stdout is
not a terminal; a progress bar shows on terminals for runs of many nodes.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from modelkit.core import secrets
from modelkit.core.manifest import NO_OP_TYPES
from modelkit.core.text import found_summary, pluralize

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest, Node
    from modelkit.core.results import NodeResult, RunResult

LINE_WIDTH = 80
PROGRESS_MIN_NODES = 20
STATUS_STYLE = {
    "OK": "green", "PASS": "green", "SUCCESS": "green", "INSERT": "green", "CREATE": "green",
    "WARN": "yellow", "SKIP": "yellow", "ERROR": "red", "FAIL": "red", "RUN": "",
}  # fmt: skip


def describe(node: Node) -> str:
    """dbt's node description, e.g. ``sql view model main.stg_orders``."""
    where = f"{node.schema}.{node.alias}"
    kind = node.resource_type
    if kind == "model":
        return f"{node.language} {node.materialized} model {where}"
    if kind == "seed":
        return f"seed file {where}"
    if kind == "snapshot":
        return f"snapshot {where}"
    if kind == "unit_test":
        return f"unit_test {getattr(node, 'model_name', '')}::{node.name}"
    if kind == "test":
        return f"test {node.name}"
    if kind == "operation":
        return f"hook: {getattr(node, 'hook_name', node.name)}"
    return f"{kind.replace('_', ' ')} {node.name}"  # "exposure dash", "saved query revenue"


def result_line(node: Node, result: NodeResult) -> tuple[str, str]:
    """(message, bracketed status) for a finished node."""
    seconds = f" in {result.execution_time:.2f}s"
    status = result.status
    if status == "skipped":
        if node.resource_type in ("model", "seed", "snapshot"):
            return f"SKIP relation {node.schema}.{node.alias}", "SKIP"
        if node.resource_type == "operation":  # a hook after a failed one: dbt's LogHookEndLine
            return f"SKIP {describe(node)}", f"SKIP{seconds}"
        return f"SKIP {node.resource_type} {node.name}", "SKIP"
    desc = describe(node)
    if status == "no-op":  # built from the same inputs before (--skip-unchanged): dbt's LogNodeNoOpResult
        return f"NO-OP {desc}", f"NO-OP{seconds}"
    if node.resource_type in ("test", "unit_test"):
        name = desc[len("test ") :] if node.resource_type == "test" else desc[len("unit_test ") :]
        if status == "pass":
            return f"PASS {name}", f"PASS{seconds}"
        if status in ("fail", "warn"):
            word = status.upper()
            return f"{word} {result.failures or 0} {name}", f"{word} {result.failures or 0}{seconds}"
        return f"ERROR {name}", f"ERROR{seconds}"
    if node.resource_type == "operation":
        return (f"ERROR {desc}", f"ERROR{seconds}") if status == "error" else (f"OK {desc}", f"OK{seconds}")
    if node.resource_type == "snapshot":  # dbt: "OK snapshotted main.snap"
        desc = desc[len("snapshot ") :]
    if status == "error":
        verb = {"seed": "loading", "snapshot": "snapshotting"}.get(node.resource_type, "creating")
        return f"ERROR {verb} {desc}", f"ERROR{seconds}"
    verb = {"seed": "loaded", "snapshot": "snapshotted"}.get(node.resource_type, "created")
    return f"OK {verb} {desc}", f"{result.message or 'OK'}{seconds}"


def dotted(index: int, total: int, message: str, status: str, width: int = LINE_WIDTH) -> tuple[str, str]:
    prefix = f"{index} of {total} {message} "
    return prefix.ljust(width, "."), f" [{status}]"


# What makes rich treat a stream that is not a TTY as a terminal.
FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream: not a terminal
        return False


class ConsoleReporter:
    """Prints dbt-style lines; safe to call from worker threads."""

    def __init__(self, use_colors: bool | None = None, quiet: bool = False, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self._no_color = bool(os.environ.get("NO_COLOR")) or use_colors is False
        self.quiet = quiet
        # Without colours (NO_COLOR, or not a terminal) a line is plain text: written directly, it costs
        # a tenth of going through rich, which counts on runs of thousands of nodes (and rich is not even
        # imported, which saves a tenth of the start-up).
        self._plain = self._no_color or not self.is_terminal
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self.width = LINE_WIDTH  # --printer-width
        self._secrets = secrets.values()  # masked in every line (read once: a run prints thousands of lines)
        self._second: tuple[int, str] = (-1, "")  # the last second a line was stamped in, and its stamp

    @functools.cached_property
    def console(self) -> Any:
        """rich's console on the stream: made when a coloured line or the progress bar first needs it."""
        # rich takes ~20 ms to import: only for a terminal that shows colours
        from rich.console import Console

        console = Console(file=self.stream, no_color=self._no_color, highlight=False, soft_wrap=True, emoji=False)
        if self._no_color:
            console.no_color = True
        return console

    @property
    def is_terminal(self) -> bool:
        """Whether the stream is a terminal, as rich decides it; rich is asked only when its console is
        made already, the stream is a TTY, or an environment variable rich reads may force it to be one."""
        made = "console" in self.__dict__
        if not made and not any(os.environ.get(name) for name in FORCING) and not _isatty(self.stream):
            return False
        return bool(self.console.is_terminal)

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, secrets.MASK)
        return text

    # -- plain lines ---------------------------------------------------------------
    def _stamp(self) -> str:
        """``HH:MM:SS  `` (local time), made once a second (a run prints thousands of lines)."""
        second = int(time.time())
        known = self._second
        if known[0] != second:  # (replaced whole: the workers' threads read it without a lock)
            known = self._second = (second, time.strftime("%H:%M:%S", time.localtime(second)) + "  ")
        return known[1]

    def line(self, text: str = "", style: str | None = None, always: bool = False) -> None:
        if self.quiet and not always:
            return
        if self._secrets:
            text = self._mask(text)
        if self._plain and self._progress is None:
            self._write(self._stamp() + text)
            return
        from rich.text import Text  # (lazy, as rich.console above)

        out = Text(self._stamp())
        out.append(text, style=style or "")
        with self._lock:
            target = self._progress.console if self._progress is not None else self.console
            target.print(out)

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()  # lines show as they happen, also when piped

    def log(self, message: str) -> None:
        self.line(message)

    def warn(self, message: str) -> None:
        self.line(message, style="yellow")

    def error(self, text: str) -> None:
        self.line(text, style="red", always=True)

    # -- node lines ----------------------------------------------------------------
    def _node_line(self, index: int, total: int, message: str, status: str) -> None:
        if self.quiet:
            return
        left, right = dotted(index, total, self._mask(message) if self._secrets else message, status, self.width)
        if self._plain and self._progress is None:
            self._write(self._stamp() + left + right)
            return
        from rich.text import Text  # (lazy, as rich.console above)

        word = status.split(" ", 1)[0]
        out = Text(self._stamp() + left)
        out.append(" [")
        out.append(status, style=STATUS_STYLE.get(word, "green"))
        out.append("]")
        with self._lock:
            target = self._progress.console if self._progress is not None else self.console
            target.print(out)

    def start(self, index: int, total: int, node: Node) -> None:
        if node.resource_type in NO_OP_TYPES:  # dbt's NO-OP nodes print only their result
            return
        self._node_line(index, total, f"START {describe(node)}", "RUN")

    def result(self, index: int, total: int, node: Node, result: NodeResult) -> None:
        message, status = result_line(node, result)
        self._node_line(index, total, message, status)
        if self._progress is not None:
            self._progress.advance(self._task)

    # -- progress ------------------------------------------------------------------
    def begin(self, total: int) -> None:
        if self.quiet or total < PROGRESS_MIN_NODES or not self.is_terminal:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("running"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=self.console, transient=True,
        )  # fmt: skip
        self._task = self._progress.add_task("nodes", total=total)
        self._progress.start()

    def end(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # -- headers and summary ---------------------------------------------------------
    def header(self, manifest: Manifest, adapter_info: dict[str, Any] | None = None) -> None:
        from modelkit import __version__

        self.line(f"Running with modelkit={__version__}")
        if adapter_info:
            self.line(f"Registered adapter: {adapter_info['type']}={adapter_info.get(adapter_info['type'], '')}")
        self.line("Found " + found_summary(manifest))

    def summary(self, run: RunResult, manifest: Manifest) -> None:
        self.line("")
        if run.command != "clone":  # dbt's clone prints no such line
            self.line(f"Finished running {finished_summary(run, manifest)} in {format_duration(run.elapsed_time)}.")
            self.line("")
        errors = [r for r in run.results if r.is_error]
        warns = [r for r in run.results if r.status == "warn"]
        if run.interrupted:
            self.error("Interrupted: the run was cancelled.")
        elif errors:
            self.line(
                f"Completed with {pluralize(len(errors), 'error')}, 0 partial successes, and {pluralize(len(warns), 'warning')}:",
                style="red",
                always=True,
            )
        elif warns:
            self.line(f"Completed with {pluralize(len(warns), 'warning')}:", style="yellow")
        else:
            self.line("Completed successfully", style="green")
        for result in errors + warns:
            node = manifest.run_node(result.unique_id)
            if node is None:
                continue
            kind = "Failure" if result.is_error else "Warning"
            self.line("", always=True)
            self.line(
                f"{kind} in {node.resource_type} {node.name} ({node.original_file_path})",
                style="red" if result.is_error else "yellow",
                always=True,
            )
            for text in (result.message or "").splitlines():
                self.line(f"  {text}", always=True)
            for text in test_failure_notes(node, result):
                self.line(text, always=True)
        counts = run.by_status()
        passed = counts.get("success", 0) + counts.get("pass", 0)
        error = counts.get("error", 0) + counts.get("fail", 0)
        self.line("")
        self.line(
            f"Done. PASS={passed} WARN={counts.get('warn', 0)} ERROR={error} SKIP={counts.get('skipped', 0)} "
            f"NO-OP={counts.get('no-op', 0)} TOTAL={len(run.results)}",
            always=True,
        )


def format_duration(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)} hours {int(minutes)} minutes and {secs:.2f} seconds ({seconds:.2f}s)"


def finished_summary(run: RunResult, manifest: Manifest) -> str:
    """dbt's ``Finished running ...`` counts, e.g. ``1 exposure, 2 data tests, 1 test, 1 view model``: by resource
    type (models by materialization), in the order of the type's name; one test is ``test``, several ``data tests``."""
    counts: dict[str, int] = {}
    for result in run.results:
        node = manifest.run_node(result.unique_id)
        if node is None:
            continue
        if node.resource_type == "model":
            key = f"{node.materialized} model"
        elif node.resource_type == "operation":
            key = "project hook"
        else:
            key = node.resource_type
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(_count(counts[k], k) for k in sorted(counts)) or "0 nodes"


def _count(count: int, kind: str) -> str:
    """One resource type's count as dbt words it (its resource type's plural: ``data_tests`` for tests)."""
    if kind == "test" and count != 1:
        return f"{count} data tests"
    return pluralize(count, kind.replace("_", " "))


def test_failure_notes(node: Node, result: NodeResult) -> list[str]:
    """After a failing or warning test's message: where its SQL is and where its failing rows are."""
    if node.resource_type not in ("test", "unit_test") or result.status not in ("fail", "warn"):
        return []
    notes = []
    if result.compiled_path:
        notes += ["", f"  compiled code at {result.compiled_path}"]
    if result.relation_name:
        query = f"select * from {result.relation_name}"
        notes += ["", "  See test failures:", "  " + "-" * len(query), f"  {query}", "  " + "-" * len(query)]
    return notes
