"""Running a DAG of work on a thread pool, in dependency order.

A node whose work fails blocks its descendants, which are reported as
skipped; independent branches go on.
"""

from __future__ import annotations

import heapq
import itertools
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING

from modelkit.core.results import NodeResult

if TYPE_CHECKING:
    from concurrent.futures import Future


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
    is) that handing it to a worker thread would cost more; None hands it over.
    """
    sorter = TopologicalSorter({uid: set(ps) for uid, ps in parents.items()})
    sorter.prepare()
    if threads <= 1:
        with interrupt_on_sigint(on_interrupt), as_worker(1):
            return _run_inline(sorter, parents, work, order, on_skip, blocks, fail_fast)
    # concurrent.futures (with logging) takes ~10 ms to import: loaded only for runs on several threads
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    failed: set[str] = set()  # failed or skipped: their descendants are skipped
    results: list[NodeResult] = []
    pending: dict[Future[NodeResult], str] = {}
    stop = threading.Event()
    numbers = itertools.count(1)

    def name_worker() -> None:
        threading.current_thread().name = worker_name(next(numbers))

    pool = ThreadPoolExecutor(max_workers=max(threads, 1), initializer=name_worker)
    ready: list[tuple[object, str]] = []  # heap by ``order``: at most ``threads`` nodes are in flight
    waiting: list[tuple[object, str]] = []  # ready nodes for the worker threads, by ``order`` too
    try:
        while sorter.is_active():
            for uid in sorter.get_ready():
                heapq.heappush(ready, (order(uid), uid))
            done_here = False
            while ready:  # each ready node is offered once to ``here``; the others wait for a thread
                item = heapq.heappop(ready)
                uid = item[1]
                if here is not None and not stop.is_set() and not any(p in failed for p in parents.get(uid, ())):
                    with as_worker(1):
                        result = here(uid)
                    if result is not None:
                        results.append(result)
                        if blocks(result):
                            failed.add(uid)
                            if fail_fast:
                                stop.set()
                        sorter.done(uid)
                        done_here = True
                        continue
                heapq.heappush(waiting, item)
            while waiting and len(pending) < max(threads, 1):
                uid = heapq.heappop(waiting)[1]
                blocked = [p for p in parents.get(uid, ()) if p in failed]
                if blocked or stop.is_set():  # reported by a worker, as dbt's skipped nodes are
                    failed.add(uid)
                    pending[pool.submit(on_skip, uid, blocked[0] if blocked else "fail-fast")] = uid
                    continue
                pending[pool.submit(work, uid)] = uid
            if done_here or not pending:
                continue
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                uid = pending.pop(future)
                result = future.result()
                results.append(result)
                if blocks(result):
                    failed.add(uid)
                    if fail_fast:
                        stop.set()
                sorter.done(uid)
    except BaseException as exc:
        for future in pending:
            future.cancel()
        on_interrupt()
        pool.shutdown(wait=True, cancel_futures=True)
        exc.results = results  # type: ignore[attr-defined] # what finished before, for the caller's report
        raise
    pool.shutdown(wait=True)
    return results


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
