"""Running a DAG of work on worker threads, in dependency order.

A node whose work fails blocks its descendants, which are reported as
skipped; independent branches go on.
"""

from __future__ import annotations

import heapq
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from graphlib import TopologicalSorter

from modelkit.core.results import NodeResult


def worker_name(index: int) -> str:
    """How dbt's worker threads are named (a ``multiprocessing.dummy`` pool): ``Thread-1 (worker)``, ..."""
    return f"Thread-{index} (worker)"


@contextmanager
def as_worker(index: int = 1) -> Iterator[None]:
    """Run the block on this thread under the name of worker ``index``: dbt runs every node on a pool
    worker, even with one thread, and its logs and run_results.json name the worker."""
    thread = threading.current_thread()
    previous, thread.name = thread.name, worker_name(index)
    try:
        yield
    finally:
        thread.name = previous


def run_dag(
    parents: Mapping[str, set[str]],
    work: Callable[[str], NodeResult],
    *,
    threads: int = 1,
    order: Callable[[str], object] = str,
    on_skip: Callable[[str, str], NodeResult],
    blocks: Callable[[NodeResult], bool] = lambda r: r.is_error,
    fail_fast: bool = False,
    on_interrupt: Callable[[], None] = lambda: None,
    here: Callable[[str], NodeResult | None] | None = None,
) -> list[NodeResult]:
    """Run ``work(uid)`` for every node once all its parents are done.

    ``on_skip(uid, cause)`` makes the result of a node skipped because an
    ancestor failed. Results come back in completion order. On Ctrl-C (or any
    error here), ``on_interrupt()`` cancels the work under way, whose threads
    are then waited for, so that nothing is left running behind the caller.
    ``here(uid)``: the node's result when it takes so little (a node left as it
    is) that it needs no ``work``; None runs ``work``. It is asked on the thread
    that takes the node from the ready ones, which nothing is handed over to.
    """
    sorter = TopologicalSorter({uid: set(ps) for uid, ps in parents.items()})
    sorter.prepare()
    if threads <= 1:
        with interrupt_on_sigint(on_interrupt), as_worker(1):
            return _run_inline(sorter, parents, work, order, on_skip, blocks, fail_fast)
    return _Workers(sorter, parents, work, order, on_skip, blocks, fail_fast, here, threads).run(on_interrupt)


class _Workers:
    """Up to ``threads`` worker threads that take the ready nodes themselves, first in ``order``: a worker
    that finishes a node marks it done, adds the nodes that became ready and goes on with the first of
    them. No scheduler thread stands between two nodes (handing each node over, and each result back,
    would cost two switches between threads per node, each waiting for the GIL). Workers start as ready
    nodes need them, named as dbt names its own; the calling thread waits for the end."""

    def __init__(
        self,
        sorter: TopologicalSorter[str],
        parents: Mapping[str, set[str]],
        work: Callable[[str], NodeResult],
        order: Callable[[str], object],
        on_skip: Callable[[str, str], NodeResult],
        blocks: Callable[[NodeResult], bool],
        fail_fast: bool,
        here: Callable[[str], NodeResult | None] | None,
        threads: int,
    ) -> None:
        self.sorter, self.parents, self.order = sorter, parents, order
        self.work, self.on_skip, self.blocks, self.here = work, on_skip, blocks, here
        self.fail_fast = fail_fast
        self.limit = threads
        lock = threading.Lock()
        self.wakeup = threading.Condition(lock)  # idle workers wait here for ready nodes
        self.over = threading.Condition(lock)  # the calling thread waits here for the end
        self.ready: list[tuple[object, str]] = []  # heap by ``order``
        self.failed: set[str] = set()  # failed or skipped: their descendants are skipped
        self.results: list[NodeResult] = []
        self.stop = False  # fail-fast: what starts from now on is skipped
        self.abort = False  # interrupted, or a worker raised: start nothing more
        self.error: BaseException | None = None
        self.idle = 0  # workers waiting, not yet woken
        self.workers: list[threading.Thread] = []

    def run(self, on_interrupt: Callable[[], None]) -> list[NodeResult]:
        try:
            with self.over:
                self._add_ready(taking=0)
                while self.sorter.is_active() and self.error is None:
                    self.over.wait()
                if self.error is not None:
                    raise self.error
        except BaseException as exc:
            with self.over:
                finished = list(self.results)
                self.abort = True
                self.wakeup.notify_all()
            on_interrupt()
            self._join()
            exc.results = finished  # type: ignore[attr-defined] # what finished before, for the caller's report
            raise
        self._join()
        return self.results

    def _join(self) -> None:
        for thread in list(self.workers):
            thread.join()

    def _add_ready(self, taking: int) -> None:
        """(Under the lock.) Add the nodes that became ready; wake or start workers for them, but for
        ``taking`` of them that the calling worker goes on with.

        With ``here``, most ready nodes may take no ``work`` at all: one worker goes through them, and
        wakes the others (:meth:`_spread`) only when it takes a node that needs ``work`` (several threads
        doing quick Python work at once would only wait for each other's GIL)."""
        for uid in self.sorter.get_ready():
            heapq.heappush(self.ready, (self.order(uid), uid))
        if self.here is None:
            self._spread(taking)
        elif not self.workers and self.ready:  # the start: one worker
            self._spread(len(self.ready) - 1)

    def _spread(self, taking: int) -> None:
        """(Under the lock.) Wake or start workers for the ready nodes but ``taking`` of them."""
        extra = len(self.ready) - taking
        woken = min(extra, self.idle)
        if woken > 0:
            self.wakeup.notify(woken)
            self.idle -= woken
        for _ in range(min(extra - woken, self.limit - len(self.workers))):
            thread = threading.Thread(target=self._loop, name=worker_name(len(self.workers) + 1), daemon=True)
            self.workers.append(thread)
            thread.start()

    def _take(self) -> tuple[str, str | None] | None:
        """(Under the lock.) The first ready node, and why it is skipped (None: it runs); waits while none
        is ready. None: nothing is left to take."""
        while not self.ready and not self.abort and self.sorter.is_active():
            self.idle += 1
            self.wakeup.wait()
        if self.abort or not self.ready:
            return None
        uid = heapq.heappop(self.ready)[1]
        blocked = [p for p in self.parents.get(uid, ()) if p in self.failed]
        cause = blocked[0] if blocked else ("fail-fast" if self.stop else None)
        if cause is not None:  # reported by a worker, as dbt's skipped nodes are
            self.failed.add(uid)
        return uid, cause

    def _loop(self) -> None:
        with self.wakeup:
            taken = self._take()
        while taken is not None:
            uid, cause = taken
            try:
                if cause is not None:
                    result = self.on_skip(uid, cause)
                else:
                    result = self.here(uid) if self.here is not None else None
                    if result is None:
                        if self.here is not None:  # it takes a while: the other ready nodes go to other workers
                            with self.wakeup:
                                self._spread(0)
                        result = self.work(uid)
            except BaseException as exc:  # noqa: BLE001 - raised in the calling thread
                with self.wakeup:
                    if self.error is None:
                        self.error = exc
                    self.abort = True
                    self.wakeup.notify_all()
                    self.over.notify_all()
                return
            with self.wakeup:
                self.results.append(result)
                if self.blocks(result):
                    self.failed.add(uid)
                    if self.fail_fast:
                        self.stop = True
                self.sorter.done(uid)
                if not self.sorter.is_active():
                    self.idle = 0
                    self.wakeup.notify_all()
                    self.over.notify_all()
                    return
                self._add_ready(taking=1)
                taken = self._take()


@contextmanager
def interrupt_on_sigint(on_interrupt: Callable[[], None]) -> Iterator[None]:
    """Call ``on_interrupt`` as soon as Ctrl-C arrives, even while this thread waits inside the engine.

    Python runs its SIGINT handler only between bytecodes, so a statement running on the main thread
    would otherwise go on until it ends. The signal's number also goes to a wakeup socket, which a
    watcher thread reads: it cancels the statement, and the KeyboardInterrupt follows.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            try:
                data = reader.recv(64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data:
                on_interrupt()

    watcher = threading.Thread(target=watch, name="modelkit-sigint", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        writer.close()
        reader.shutdown(socket.SHUT_RDWR)
        watcher.join(timeout=5)
        reader.close()


def _run_inline(
    sorter: TopologicalSorter[str],
    parents: Mapping[str, set[str]],
    work: Callable[[str], NodeResult],
    order: Callable[[str], object],
    on_skip: Callable[[str, str], NodeResult],
    blocks: Callable[[NodeResult], bool],
    fail_fast: bool,
) -> list[NodeResult]:
    """One thread: the same order and skipping rules, without a pool to hand each node to."""
    results: list[NodeResult] = []
    try:
        _inline_loop(sorter, parents, work, order, on_skip, blocks, fail_fast, results)
    except BaseException as exc:
        exc.results = results  # type: ignore[attr-defined] # what finished before, for the caller's report
        raise
    return results


def _inline_loop(
    sorter: TopologicalSorter[str],
    parents: Mapping[str, set[str]],
    work: Callable[[str], NodeResult],
    order: Callable[[str], object],
    on_skip: Callable[[str, str], NodeResult],
    blocks: Callable[[NodeResult], bool],
    fail_fast: bool,
    results: list[NodeResult],
) -> None:
    failed: set[str] = set()
    ready: list[tuple[object, str]] = []
    stop = False
    while sorter.is_active():
        for uid in sorter.get_ready():
            heapq.heappush(ready, (order(uid), uid))
        while ready:
            uid = heapq.heappop(ready)[1]
            blocked = [p for p in parents.get(uid, ()) if p in failed]
            if blocked or stop:
                failed.add(uid)
                results.append(on_skip(uid, blocked[0] if blocked else "fail-fast"))
            else:
                result = work(uid)
                results.append(result)
                if blocks(result):
                    failed.add(uid)
                    stop = fail_fast
            sorter.done(uid)
            if not stop:
                break  # newly ready nodes may come first in ``order``
