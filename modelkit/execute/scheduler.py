"""Running a DAG of work on a thread pool, in dependency order.

A node whose work fails blocks its descendants, which are reported as
skipped; independent branches go on.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Mapping
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING

from modelkit.core.results import NodeResult

if TYPE_CHECKING:
    from concurrent.futures import Future


def run_dag(
    parents: Mapping[str, set[str]],
    work: Callable[[str], NodeResult],
    *,
    threads: int = 1,
    order: Callable[[str], object] = str,
    on_skip: Callable[[str, str], NodeResult],
    blocks: Callable[[NodeResult], bool] = lambda r: r.is_error,
    fail_fast: bool = False,
) -> list[NodeResult]:
    """Run ``work(uid)`` for every node once all its parents are done.

    ``on_skip(uid, cause)`` makes the result of a node skipped because an
    ancestor failed. Results come back in completion order.
    """
    sorter = TopologicalSorter({uid: set(ps) for uid, ps in parents.items()})
    sorter.prepare()
    if threads <= 1:
        return _run_inline(sorter, parents, work, order, on_skip, blocks, fail_fast)
    # concurrent.futures (with logging) takes ~10 ms to import: loaded only for runs on several threads
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    failed: set[str] = set()  # failed or skipped: their descendants are skipped
    results: list[NodeResult] = []
    pending: dict[Future[NodeResult], str] = {}
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(threads, 1), thread_name_prefix="Thread")
    ready: list[tuple[object, str]] = []  # heap by ``order``: at most ``threads`` nodes are in flight
    try:
        while sorter.is_active():
            for uid in sorter.get_ready():
                heapq.heappush(ready, (order(uid), uid))
            while ready and len(pending) < max(threads, 1):
                uid = heapq.heappop(ready)[1]
                blocked = [p for p in parents.get(uid, ()) if p in failed]
                if blocked or stop.is_set():
                    failed.add(uid)
                    results.append(on_skip(uid, blocked[0] if blocked else "fail-fast"))
                    sorter.done(uid)
                    continue
                pending[pool.submit(work, uid)] = uid
            if not pending:
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
    except BaseException:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


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
    failed: set[str] = set()
    results: list[NodeResult] = []
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
    return results
