"""The DAG scheduler: dependency order, skipping below failures, and nodes done in the scheduler's thread."""

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
    where: dict[str, str] = {}
    lock = threading.Lock()
    main = threading.get_ident()

    def result(uid: str) -> NodeResult:
        for parent in PARENTS[uid]:
            assert parent in finished, f"{uid} ran before its parent {parent}"
        with lock:
            finished.append(uid)
            where[uid] = "here" if threading.get_ident() == main else "worker"
        return NodeResult(uid, "error" if uid in failing else "success")

    def here(uid: str) -> NodeResult | None:
        return result(uid) if uid in here_nodes else None

    def skip(uid: str, cause: str) -> NodeResult:
        return NodeResult(uid, "skipped", message=cause)

    results = run_dag(PARENTS, result, threads=threads, on_skip=skip, here=here)
    assert {r.unique_id: r.status for r in results} == expected
    assert len(results) == len(PARENTS)
    if threads > 1:  # what ``here`` answers for is done in the scheduler's thread, the rest on workers
        ran_here = {uid for uid in here_nodes if expected[uid] != "skipped"}
        assert {uid for uid, w in where.items() if w == "here"} == ran_here
        assert all(w == "worker" for uid, w in where.items() if uid not in ran_here)
