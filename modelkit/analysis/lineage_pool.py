"""Column lineage on worker processes, fed while the caller goes on (e.g. compiling the next model).

Jobs wait in one queue. Each worker process takes a batch, analyses it and sends the results back
before it gets the next batch; when the caller has nothing else to do (``results``), it takes jobs
from the same queue itself. So a machine with N cores runs the caller and N-1 workers while the
caller compiles, then N at once.

Workers are plain ``python -m modelkit.analysis.lineage_worker`` processes fed through pipes (pickles):
nothing depends on how the calling program was started. A worker that fails leaves its batch, and
the rest of the queue, to the others and to the caller.
"""

from __future__ import annotations

import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import Any

from modelkit.analysis.lineage import PARALLEL_THRESHOLD, Job, LineageContext, NodeLineage, analyse, default_workers

BATCH = 20  # jobs per message to a worker
_STOP = None


class _Worker:
    def __init__(self, pool: LineagePool) -> None:
        self.pool = pool
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelkit.analysis.lineage_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _send(self, item: Any) -> None:
        assert self.proc.stdin is not None
        pickle.dump(item, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()

    def _run(self) -> None:
        jobs = self.pool.jobs
        try:
            self._send(self.pool.ctx)
        except OSError:
            return self._close()  # no worker: the others and the caller take the jobs
        while True:
            first = jobs.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < BATCH:
                try:
                    job = jobs.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    jobs.put(_STOP)
                    break
                batch.append(job)
            try:
                self._send(batch)
                assert self.proc.stdout is not None
                done = pickle.load(self.proc.stdout)
            except (OSError, EOFError, pickle.UnpicklingError):
                done = {uid: analyse(self.pool.ctx, sql, parents) for uid, sql, parents in batch}
                self.pool.add(done)
                return self._close()
            self.pool.add(done)
        try:
            self._send(_STOP)
        except OSError:
            pass
        self._close()

    def _close(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class LineagePool:
    """``submit`` never blocks; ``results`` helps with what is left, then waits for every job."""

    def __init__(self, ctx: LineageContext, workers: int) -> None:
        self.ctx = ctx
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.found: dict[str, NodeLineage] = {}
        self._lock = threading.Lock()
        self.workers = [_Worker(self) for _ in range(max(workers, 0))]

    def add(self, done: dict[str, NodeLineage]) -> None:
        with self._lock:
            self.found.update(done)

    def submit(self, job: Job) -> None:
        self.jobs.put(job)

    def cancel(self) -> None:
        """Stop the workers without waiting for the jobs (the caller failed)."""
        while True:
            try:
                self.jobs.get_nowait()
            except queue.Empty:
                break
        for _ in self.workers:
            self.jobs.put(_STOP)
        for worker in self.workers:
            worker.proc.kill()
            worker.thread.join(timeout=10)

    def results(self) -> dict[str, NodeLineage]:
        for _ in self.workers:
            self.jobs.put(_STOP)
        while True:  # the caller works too, until only the stops are left
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:
                self.jobs.put(_STOP)
                break
            uid, sql, parents = job
            self.add({uid: analyse(self.ctx, sql, parents)})
        for worker in self.workers:
            worker.thread.join()
        while True:  # jobs a failing worker put back, if any
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP:
                self.add({job[0]: analyse(self.ctx, job[1], job[2])})
        return self.found


def analyse_many(
    ctx: LineageContext, queries: Iterable[Job], workers: int | None = None, threshold: int = PARALLEL_THRESHOLD
) -> dict[str, NodeLineage]:
    """Lineage of many (unique_id, compiled SQL, parents) queries, on several processes when there are many."""
    jobs = list(queries)
    workers = default_workers() if workers is None else workers
    if workers < 2 or len(jobs) < max(threshold, 2):
        return {uid: analyse(ctx, sql, parents) for uid, sql, parents in jobs}
    pool = LineagePool(ctx, workers - 1)  # this process is the last worker
    for job in jobs:
        pool.submit(job)
    return pool.results()
