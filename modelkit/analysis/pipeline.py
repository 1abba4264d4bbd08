"""Static analysis overlapped with compiling: SQL goes to a worker process as it is compiled.

Compiled SQL arrives in any order (the runner's threads, or the analysis compiling it itself). A node
is *begun* (:meth:`StaticAnalysis.begin`) once all the nodes it reads are begun, so what reaches the
worker is in dependency order: the worker checks each query against the columns of the ones before
it, recording each query's columns as it goes (and those this process settled itself, sent along).
Nodes nobody compiles (ephemeral models, what the selection reads) are compiled here when their turn
comes. The worker is kept a few jobs ahead (:data:`WORKER_QUEUE`); in :meth:`Pipeline.finish` this
process checks the jobs the worker has not been given, each once the nodes it reads are checked, and
sends their columns along: the two share the work. Every node is then ended in order (its findings
reported in dependency order whoever checked it); a worker that fails only costs time (what it did
not return is checked here).

Small analyses, and machines without an idle core (one core, or all of them busy), skip the worker:
everything happens in :meth:`finish`, which costs less CPU in all.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Collection
from typing import Any

from modelkit.analysis.findings import QueryCheck
from modelkit.analysis.static import AnalysisReport, StaticAnalysis, Step
from modelkit.core.manifest import Node

WORKER_THRESHOLD = 200  # fewer nodes than this: a worker process costs more than it saves
WORKER_QUEUE = 8  # jobs the worker holds at once: enough to keep it busy, few enough to leave work here
WORKER_MODULE = "modelkit.analysis.worker"
SCAN = 64  # how far into the waiting jobs this process looks for one whose inputs are all checked


def use_worker(count: int, busy: int = 0) -> bool:
    """Many nodes, and a core to spare: a worker only helps when it does not take the compiler's core
    (``busy``: the cores this command keeps busy besides its own thread, e.g. opening its connection)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    if count < WORKER_THRESHOLD or cores - busy < 2:
        return False
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average here (Windows): assume the cores are free
        return True
    others = running_others()
    if others is None:
        return load <= cores - 1 - busy
    # the one-minute average counts what ran before this command (often the command before it): a core
    # is spare when the machine is not saturated on average and no other process is running right now
    return load < cores and others <= cores - 2 - busy


def running_others() -> int | None:
    """Threads running or runnable right now in other processes than this one (Linux's /proc), else None."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            running = int(fh.read().split()[3].split("/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/stat", encoding="ascii", errors="replace") as fh:
                own += fh.read().rpartition(")")[2].split()[0] == "R"
    except (OSError, ValueError, IndexError):
        return None
    return max(running - max(own, 1), 0)


def spawn(dialect: str | None = None) -> subprocess.Popen[bytes]:
    """A worker process, importing what it needs until its first message comes (with ``dialect``, what
    reading SQL in it needs as well)."""
    return subprocess.Popen(
        [sys.executable, "-m", WORKER_MODULE, *([dialect] if dialect is not None else [])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # a worker that fails only leaves its jobs to this process
    )


class EarlyWorker:
    """A worker process started before the command knows whether it will need one (before the project
    is parsed), so that it is ready when the first job comes; :meth:`close` stops it when it was not taken.

    Started only when a core is spare (see :func:`use_worker`; ``busy`` as there)."""

    def __init__(self, dialect: str, busy: int = 0) -> None:
        spare = use_worker(WORKER_THRESHOLD, busy)
        self.proc: subprocess.Popen[bytes] | None = spawn(dialect) if spare else None

    def take(self) -> subprocess.Popen[bytes] | None:
        proc, self.proc = self.proc, None
        return proc

    def close(self) -> None:
        proc = self.take()
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()


class Worker:
    """``python -m modelkit.analysis.worker``: messages in on stdin, results out on stdout (pickles).

    Messages are written by a thread of their own, so that no caller waits on a full pipe (the thread
    reading the results sends jobs too)."""

    def __init__(
        self,
        on_result: Callable[[str, Any], None],
        on_gone: Callable[[], None],
        proc: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.on_result = on_result
        self.on_gone = on_gone
        self.proc = proc if proc is not None else spawn()
        self.alive = True
        self.outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read, name="modelkit-analysis", daemon=True)
        self.writer = threading.Thread(target=self._write, name="modelkit-analysis-in", daemon=True)
        self.reader.start()
        self.writer.start()

    def send(self, message: Any) -> None:
        if self.alive:
            self.outbox.put(message)

    def _write(self) -> None:
        stream = self.proc.stdin
        assert stream is not None
        while True:
            message = self.outbox.get()
            try:
                pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
                stream.flush()
                if message is None:
                    stream.close()
                    return
            except (OSError, ValueError, pickle.PicklingError):
                self._lost()
                return

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while True:
                try:
                    uid, result = pickle.load(stream)
                except (EOFError, OSError, pickle.UnpicklingError, ValueError):
                    return
                self.on_result(uid, result)
        finally:
            self._lost()

    def _lost(self) -> None:
        if self.alive:
            self.alive = False
            self.on_gone()

    def close(self) -> None:
        self.outbox.put(None)  # the writer closes stdin after it; the worker then ends
        self.writer.join()
        self.reader.join()
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
        early: EarlyWorker | None = None,
    ) -> None:
        self.analysis = analysis
        self.early = early  # a worker process already started, used by the first job
        self.order = order
        self.report_for = set(report_for)
        self.sql_of = sql_of
        self.produced = set(produced)  # nodes someone else compiles and hands over
        self.later = set(later)  # nodes compiled only in finish (by the caller's thread)
        manifest = analysis.manifest
        self.modes = analysis.modes(order)
        members = set(order)
        self.parents = {
            uid: frozenset(p for p in manifest.nodes[uid].depends_on_nodes if p in members) for uid in order
        }
        self.waiting_on = {uid: set(parents) for uid, parents in self.parents.items()}  # parents not begun yet
        self.children: dict[str, list[str]] = {}
        for uid, parents in self.parents.items():
            for parent in parents:
                self.children.setdefault(parent, []).append(uid)
        self.sql: dict[str, str | None] = {}
        self.steps: dict[str, Step] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.worker: Worker | None = None
        self.worker_gone = False
        ready = early is not None and early.proc is not None
        if worker is None:  # a worker started early was started on a spare core, and is paid for
            worker = ready or use_worker(len(order))
        self.overlap = worker
        # a few nodes and a worker that has sqlglot loaded already: it checks them all, and this process
        # does not import sqlglot (about as long as checking them takes)
        self.solo = ready and len(order) < WORKER_THRESHOLD
        self._queued: list[Any] = []  # settled nodes, sent when the first job starts the worker
        self.waiting: deque[str] = deque()  # jobs neither sent to the worker nor taken here, in begin order
        self.sent: dict[str, int] = {}  # jobs at the worker without a result yet, by their position in order
        self.arrived: dict[str, Any] = {}  # the worker's results, not yet recorded here
        self.known: set[str] = set()  # nodes whose columns the worker has (its own job, or sent along)
        self.done: set[str] = set()  # nodes whose columns are settled here
        self.position = {uid: i for i, uid in enumerate(order)}
        if self.overlap:
            with self._lock:
                for uid in order:
                    if not self.waiting_on[uid] and uid not in self.produced:
                        self._begin(uid)

    def _result(self, uid: str, result: Any) -> None:
        with self._changed:
            self.sent.pop(uid, None)
            self.arrived[uid] = result
            self._pump()
            self._changed.notify_all()

    def _gone(self) -> None:
        with self._changed:
            self.worker_gone = True
            self._changed.notify_all()

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
            self.worker = Worker(self._result, self._gone, self.early.take() if self.early is not None else None)
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
                self.waiting.append(current)
                self._pump()
            else:  # settled as it began (cached, off, not compiled)
                self.done.add(current)
                self.known.add(current)
                self._send(("settle", current, self.analysis.report.shapes.get(current)))
            for child in self.children.get(current, []):
                waits = self.waiting_on[child]
                waits.discard(current)
                if not waits:
                    ready.append(child)

    def _pump(self) -> None:
        """Keep the worker WORKER_QUEUE jobs ahead, each sent once the worker knows what it reads."""
        if self.worker_gone:
            return
        while len(self.sent) < WORKER_QUEUE and self.waiting:
            uid = self.waiting[0]
            if not self.parents[uid] <= self.known:
                return  # it reads a node being checked here: its columns are sent along first
            self.waiting.popleft()
            self.sent[uid] = self.position[uid]
            self.known.add(uid)
            step = self.steps[uid]
            assert step.job is not None
            self._send(("job", step.job))

    def _record(self) -> None:
        """The worker's results, recorded (under the lock)."""
        arrived, self.arrived = self.arrived, {}
        for uid, result in arrived.items():
            step = self.steps[uid]
            if isinstance(result, QueryCheck):
                self.analysis.checked(step, result)
            elif isinstance(result, tuple):  # the worker's analysis failed: (message, traceback)
                step.failure = result
            self.analysis.report.on_worker += 1
            self.analysis.settle(step)
            self.done.add(uid)
        if self.worker_gone and self.sent:  # what it had not returned is checked here, first
            lost = sorted(self.sent, key=self.sent.__getitem__, reverse=True)
            self.sent.clear()
            self.waiting.extendleft(lost)

    def _take(self) -> str | None:
        """A waiting job whose inputs are all settled here (under the lock)."""
        if self.solo and not self.worker_gone:
            return None
        for index, uid in enumerate(self.waiting):
            if index >= SCAN:
                return None
            if self.parents[uid] <= self.done:
                del self.waiting[index]
                return uid
        return None

    def _share(self) -> None:
        """Check jobs here alongside the worker until every job is checked."""
        while True:
            with self._changed:
                self._record()
                uid = self._take()
                if uid is None:
                    if not self.sent and not self.waiting:
                        return
                    if not self.sent and self.worker_gone:  # nothing will arrive: a job waits on nothing
                        uid = self.waiting.popleft()
                    else:
                        self._changed.wait(timeout=1.0)
                        continue
            step = self.steps[uid]
            self.analysis.check_here(step)
            with self._changed:
                self.analysis.settle(step)
                self.done.add(uid)
                self.known.add(uid)
                self._send(("settle", uid, self.analysis.report.shapes.get(uid)))
                self._pump()

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
            self._share()
            if self.worker is not None:
                self.worker.close()
        for uid in self.order:
            step = self.steps.get(uid)
            if step is None:
                node = analysis.manifest.nodes[uid]
                step = analysis.begin(node, self.modes[uid], uid in self.report_for, self._sql_of)
                if step.job is not None:
                    analysis.check_here(step)
            elif step.job is not None and uid not in self.done:
                analysis.check_here(step)
            analysis.end(step)
        return analysis.close()
