"""Static analysis overlapped with compiling: SQL goes to a worker process as it is compiled.

Compiled SQL arrives in any order (the runner's threads, or the analysis compiling it itself). A node
is *begun* (:meth:`StaticAnalysis.begin`) once all the nodes it reads are begun, so what reaches the
worker is in dependency order: the worker checks each query against the columns of the ones before
it, recording each query's columns as it goes (and those this process settled itself, sent along).
Nodes nobody compiles (ephemeral models, what the selection reads) are compiled here when their turn
comes. :meth:`Pipeline.finish` then ends every node in order; anything the worker did not return is
checked here, so a worker that fails only costs time.

Small analyses, and machines without an idle core (one core, or all of them busy), skip the worker:
everything happens in :meth:`finish`, which costs less CPU in all.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Collection
from typing import Any

from modelkit.analysis.findings import QueryCheck
from modelkit.analysis.static import AnalysisReport, StaticAnalysis, Step
from modelkit.core.manifest import Node

WORKER_THRESHOLD = 200  # fewer nodes than this: a worker process costs more than it saves


def use_worker(count: int) -> bool:
    """Many nodes, and a core to spare: a worker only helps when it does not take the compiler's core."""
    cores = os.cpu_count() or 1
    if count < WORKER_THRESHOLD or cores < 2:
        return False
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average here (Windows): assume the cores are free
        return True
    return load <= cores - 1


class Worker:
    """``python -m modelkit.analysis.worker``: messages in on stdin, results out on stdout (pickles)."""

    def __init__(self, on_result: Callable[[str, Any], None]) -> None:
        self.on_result = on_result
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelkit.analysis.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a worker that fails only leaves its jobs to this process
        )
        self.alive = True
        self.thread = threading.Thread(target=self._read, name="modelkit-analysis", daemon=True)
        self.thread.start()

    def send(self, message: Any) -> None:
        if not self.alive:
            return
        try:
            assert self.proc.stdin is not None
            pickle.dump(message, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except (OSError, ValueError, pickle.PicklingError):
            self.alive = False

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            try:
                uid, result = pickle.load(stream)
            except (EOFError, OSError, pickle.UnpicklingError, ValueError):
                return
            self.on_result(uid, result)

    def close(self) -> None:
        self.send(None)
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        self.thread.join()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Pipeline:
    """Feed it compiled SQL (:meth:`compiled`, from any thread); :meth:`finish` returns the report."""

    def __init__(
        self,
        analysis: StaticAnalysis,
        order: list[str],
        report_for: Collection[str],
        sql_of: Callable[[Node], str | None],
        *,
        produced: Collection[str] = (),
        later: Collection[str] = (),
        worker: bool | None = None,
    ) -> None:
        self.analysis = analysis
        self.order = order
        self.report_for = set(report_for)
        self.sql_of = sql_of
        self.produced = set(produced)  # nodes someone else compiles and hands over
        self.later = set(later)  # nodes compiled only in finish (by the caller's thread)
        manifest = analysis.manifest
        self.modes = analysis.modes(order)
        members = set(order)
        self.waiting_on = {uid: {p for p in manifest.nodes[uid].depends_on_nodes if p in members} for uid in order}
        self.children: dict[str, list[str]] = {}
        for uid, parents in self.waiting_on.items():
            for parent in parents:
                self.children.setdefault(parent, []).append(uid)
        self.sql: dict[str, str | None] = {}
        self.steps: dict[str, Step] = {}
        self.results: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.worker: Worker | None = None
        self.overlap = worker if worker is not None else use_worker(len(order))
        self._queued: list[Any] = []  # settled nodes, sent when the first job starts the worker
        if self.overlap:
            for uid in order:
                if not self.waiting_on[uid] and uid not in self.produced:
                    self._begin(uid)

    def _result(self, uid: str, result: Any) -> None:
        with self._lock:
            self.results[uid] = result

    def compiled(self, uid: str, sql: str) -> None:
        """Compiled SQL of a node (ignored when the node is not analysed)."""
        if uid not in self.waiting_on:
            return
        with self._lock:
            self.sql[uid] = sql
            if self.overlap and not self.waiting_on[uid] and uid not in self.steps:
                self._begin(uid)

    def _sql_of(self, node: Node) -> str | None:
        uid = node.unique_id
        if uid in self.sql:
            return self.sql[uid]
        return self.sql_of(node)

    def _send(self, message: Any) -> None:
        """To the worker, started by the first job (a run that finds everything in the cache needs none)."""
        if self.worker is None:
            if message[0] != "job":
                self._queued.append(message)
                return
            self.worker = Worker(self._result)
            self.worker.send(("relations", self.analysis.relations))
            self.analysis.report.workers = 1
            for queued in self._queued:
                self.worker.send(queued)
            self._queued.clear()
        self.worker.send(message)

    def _begin(self, uid: str) -> None:
        """Begin a node whose parents are all begun; then the children it was the last wait of."""
        ready = [uid]
        while ready:
            current = ready.pop()
            if current in self.steps:
                continue
            if (current in self.produced or current in self.later) and current not in self.sql:
                continue  # its SQL comes later: begun then
            node = self.analysis.manifest.nodes[current]
            step = self.analysis.begin(node, self.modes[current], current in self.report_for, self._sql_of)
            self.steps[current] = step
            if step.job is not None:
                self._send(("job", step.job))
            else:
                self._send(("settle", current, self.analysis.report.shapes.get(current)))
            for child in self.children.get(current, []):
                waits = self.waiting_on[child]
                waits.discard(current)
                if not waits:
                    ready.append(child)

    def abort(self) -> None:
        """Stop the worker without a report (the command failed)."""
        if self.worker is not None:
            self.worker.proc.kill()
            self.worker.close()
            self.worker = None

    def finish(self) -> AnalysisReport:
        """End every node in dependency order (begun and checked here where nobody did)."""
        analysis = self.analysis
        if self.overlap:
            with self._lock:
                self.produced.clear()  # what was never handed over (it did not compile): begun now
                self.later.clear()
                for uid in self.order:
                    if uid not in self.steps and not self.waiting_on[uid]:
                        self._begin(uid)
            if self.worker is not None:
                self.worker.close()
        for uid in self.order:
            step = self.steps.get(uid)
            if step is None:
                node = analysis.manifest.nodes[uid]
                step = analysis.begin(node, self.modes[uid], uid in self.report_for, self._sql_of)
            if step.job is not None:
                result = self.results.get(uid)
                if isinstance(result, QueryCheck):
                    analysis.checked(step, result)
                elif isinstance(result, tuple):  # the worker's analysis failed: (message, traceback)
                    step.failure = result
                else:
                    analysis.check_here(step)
            analysis.end(step)
        return analysis.close()
