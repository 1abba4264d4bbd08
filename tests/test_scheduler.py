"""The DAG scheduler: dependency order, skipping below failures, nodes answered by ``here`` without their work,
and worker threads that take the ready nodes themselves."""

from __future__ import annotations

import threading

import pytest

from modelkit.core.results import NodeResult
from modelkit.execute.scheduler import run_dag

# a -> b -> c, a -> d, e (alone)
PARENTS: dict[str, set[str]] = {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"a"}, "e": set()}

CASES = [
    # (id, threads, nodes done here, failing nodes, expected status by node)
    ("pool_nothing_here", 4, set(), set(), dict.fromkeys("abcde", "success")),
    ("pool_some_here", 4, {"b", "e"}, set(), dict.fromkeys("abcde", "success")),
    ("pool_all_here", 3, set("abcde"), set(), dict.fromkeys("abcde", "success")),
    ("pool_failure_skips_below_even_here", 4, {"b", "c", "d"}, {"a"}, {"a": "error", "b": "skipped", "c": "skipped", "d": "skipped", "e": "success"}),  # noqa: E501
    ("pool_failure_here_skips_below", 4, {"b"}, {"b"}, {"a": "success", "b": "error", "c": "skipped", "d": "success", "e": "success"}),  # noqa: E501
    ("inline_ignores_here", 1, {"b"}, {"a"}, {"a": "error", "b": "skipped", "c": "skipped", "d": "skipped", "e": "success"}),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("case", "threads", "here_nodes", "failing", "expected"), CASES, ids=[c[0] for c in CASES])
def test_run_dag(case: str, threads: int, here_nodes: set[str], failing: set[str], expected: dict[str, str]) -> None:
    finished: list[str] = []
    how: dict[str, str] = {}
    lock = threading.Lock()
    main = threading.get_ident()

    def result(uid: str, by: str) -> NodeResult:
        for parent in PARENTS[uid]:
            assert parent in finished, f"{uid} ran before its parent {parent}"
        with lock:
            finished.append(uid)
            how[uid] = by
        if threads > 1:
            assert threading.get_ident() != main  # every node on a worker, none in the calling thread
        return NodeResult(uid, "error" if uid in failing else "success")

    def here(uid: str) -> NodeResult | None:
        return result(uid, "here") if uid in here_nodes else None

    def skip(uid: str, cause: str) -> NodeResult:
        return NodeResult(uid, "skipped", message=cause)

    results = run_dag(PARENTS, lambda uid: result(uid, "work"), threads=threads, on_skip=skip, here=here)
    assert {r.unique_id: r.status for r in results} == expected
    assert len(results) == len(PARENTS)
    if threads > 1:  # what ``here`` answers for has no work done; the rest has
        ran_here = {uid for uid in here_nodes if expected[uid] != "skipped"}
        assert {uid for uid, w in how.items() if w == "here"} == ran_here
        assert all(w == "work" for uid, w in how.items() if uid not in ran_here)


def test_workers_start_as_ready_nodes_need_them_and_take_them_in_order() -> None:
    """A chain needs one worker whatever the threads; ready nodes are taken first in ``order``."""
    names: set[str] = set()
    started: list[str] = []
    lock = threading.Lock()
    together = threading.Barrier(2, timeout=10)  # the first two taken run at the same time

    def work(uid: str) -> NodeResult:
        with lock:
            names.add(threading.current_thread().name)
            started.append(uid)
        if uid in ("x", "z"):
            together.wait()
        return NodeResult(uid, "success")

    def skip(uid: str, cause: str) -> NodeResult:
        return NodeResult(uid, "skipped")

    run_dag({"a": set(), "b": {"a"}, "c": {"b"}}, work, threads=4, on_skip=skip)
    assert names == {"Thread-1 (worker)"} and started == ["a", "b", "c"]
    names.clear()
    started.clear()
    fan = {"root": set(), **{name: {"root"} for name in ("x", "y", "z")}}
    rank = {"root": 0, "z": 1, "x": 2, "y": 3}
    results = run_dag(fan, work, threads=2, order=rank.__getitem__, on_skip=skip)
    assert all(r.status == "success" for r in results), results
    assert started[0] == "root" and set(started[1:3]) == {"x", "z"} and started[3] == "y"
    assert names == {"Thread-1 (worker)", "Thread-2 (worker)"}


@pytest.mark.parametrize("threads", [1, 3])
def test_a_failure_with_fail_fast_skips_what_had_not_started(threads: int) -> None:
    chain = {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"c"}}
    results = run_dag(
        chain,
        lambda uid: NodeResult(uid, "error" if uid == "b" else "success"),
        threads=threads,
        on_skip=lambda uid, cause: NodeResult(uid, "skipped", message=cause),
        fail_fast=True,
    )
    assert [(r.unique_id, r.status) for r in results] == [
        ("a", "success"), ("b", "error"), ("c", "skipped"), ("d", "skipped")
    ]  # fmt: skip


def test_an_exception_in_a_worker_is_raised_with_what_finished_before() -> None:
    interrupted: list[bool] = []

    def work(uid: str) -> NodeResult:
        if uid == "c":
            raise KeyboardInterrupt
        return NodeResult(uid, "success")

    with pytest.raises(KeyboardInterrupt) as caught:
        run_dag(
            PARENTS,
            work,
            threads=2,
            on_skip=lambda uid, cause: NodeResult(uid, "skipped"),
            on_interrupt=lambda: interrupted.append(True),
            order={"a": 0, "e": 1, "b": 2, "d": 3, "c": 4}.__getitem__,
        )
    assert interrupted == [True]
    finished = {r.unique_id for r in caught.value.results}  # type: ignore[attr-defined]
    assert {"a", "b"} <= finished and "c" not in finished


def test_nodes_answered_here_take_one_worker_and_work_still_spreads() -> None:
    """With ``here``: a wide graph it answers entirely runs on one worker thread (threads doing quick
    Python work side by side only wait for the GIL); once a node needs its work, the other ready nodes
    go to other workers, which run at the same time."""
    wide = {"root": set(), **{f"n{i}": {"root"} for i in range(40)}}
    names: set[str] = set()
    lock = threading.Lock()

    def here(uid: str) -> NodeResult | None:
        with lock:
            names.add(threading.current_thread().name)
        return NodeResult(uid, "success") if uid not in ("n1", "n2") else None

    together = threading.Barrier(2, timeout=10)  # n1 and n2 need their work: they run side by side

    def work(uid: str) -> NodeResult:
        together.wait()
        return NodeResult(uid, "success")

    def skip(uid: str, cause: str) -> NodeResult:
        return NodeResult(uid, "skipped")

    results = run_dag(
        {k: v for k, v in wide.items() if k not in ("n1", "n2")}, work, threads=4, on_skip=skip, here=here
    )
    assert len(results) == 39 and names == {"Thread-1 (worker)"}
    results = run_dag(wide, work, threads=4, on_skip=skip, here=here)
    assert len(results) == 41 and all(r.status == "success" for r in results)
