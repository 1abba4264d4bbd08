"""Column lineage on worker processes, fed while the caller goes on (e.g. compiling the next model).

Workers are plain ``python -m modelkit.docs.lineage_worker`` processes: nothing depends on how the
calling program was started. Each reads the context, then batches of jobs, from its stdin (pickled)
until ``None``, and writes all its results (pickled) to its stdout at the end. A worker that fails
leaves its share to the calling process.
"""

from __future__ import annotations

import pickle
import queue
import subprocess
import sys
import threading
from typing import Any

from .lineage import Job, LineageContext, NodeLineage, analyse

BATCH = 25  # jobs per message to a worker


class _Worker:
    def __init__(self, ctx: LineageContext) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modelkit.docs.lineage_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.jobs: list[Job] = []
        self.inbox: queue.Queue[Job | None] = queue.Queue()
        self.broken = False
        self.thread = threading.Thread(target=self._feed, args=(ctx,), daemon=True)
        self.thread.start()

    def _send(self, item: Any) -> None:
        if self.broken:
            return
        try:
            assert self.proc.stdin is not None
            pickle.dump(item, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.broken = True

    def _feed(self, ctx: LineageContext) -> None:
        self._send(ctx)
        batch: list[Job] = []
        while True:
            job = self.inbox.get()
            if job is not None:
                batch.append(job)
            if batch and (job is None or len(batch) >= BATCH or self.inbox.empty()):
                self._send(batch)
                batch = []
            if job is None:
                break
        self._send(None)
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            self.broken = True

    def collect(self, ctx: LineageContext) -> dict[str, NodeLineage]:
        self.inbox.put(None)
        self.thread.join()
        assert self.proc.stdout is not None
        output = self.proc.stdout.read()
        self.proc.wait()
        if self.proc.returncode == 0 and not self.broken:
            try:
                return pickle.loads(output)
            except (pickle.UnpicklingError, EOFError):
                pass
        return {uid: analyse(ctx, sql, parents) for uid, sql, parents in self.jobs}


class LineagePool:
    """``submit`` never blocks; ``results`` waits for every job."""

    def __init__(self, ctx: LineageContext, workers: int) -> None:
        self.ctx = ctx
        self.workers = [_Worker(ctx) for _ in range(max(workers, 1))]
        self.count = 0

    def submit(self, job: Job) -> None:
        worker = self.workers[self.count % len(self.workers)]
        self.count += 1
        worker.jobs.append(job)
        worker.inbox.put(job)

    def results(self) -> dict[str, NodeLineage]:
        found: dict[str, NodeLineage] = {}
        for worker in self.workers:
            found.update(worker.collect(self.ctx))
        return found
