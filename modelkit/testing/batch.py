"""Data tests of the ``test`` command, run a few dozen at a time as one statement.

Each test's failing-rows query is wrapped by :func:`modelkit.testing.datatests.wrap_test_sql` into one
row ``(failures, should_warn, should_error)``; a batch is the ``union all`` of its
tests' wrapped queries, each branch tagged with the test's index. One statement per
batch costs far less than one per test, and the engine runs the branches in parallel.
Rows are mapped back by index and judged by :func:`testing.judge`, so a test's status
and message are the same as when it runs alone.

Batches are computed lazily: the first test of a batch that the scheduler runs
computes the whole batch (under the batch's lock) and the others find their verdict
ready, so progress stays visible. With several threads, consecutive tests belong to
different batches, so the first tests the threads pick start different batches.

Correctness never depends on batching: a test that fails to compile gets its own error
and is left out of the statement; if the statement fails (invalid SQL in one test, a
missing relation, types that don't unite), every test of the batch runs alone, exactly
as it would unbatched, so each error lands on its own test. A test whose row has an
unexpected shape (not exactly one row, a type the batch does not carry) also runs alone.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import Capability
from modelkit.adapters.sql import TEST_RESULT_COLUMNS
from modelkit.core.results import NodeResult, display_path, now
from modelkit.testing.datatests import Verdict, execute_data_test, judge, run_test_query, timing, wrap_test_sql

if TYPE_CHECKING:
    from modelkit.core.manifest import Node, TestNode
    from modelkit.execute.context import ExecutionContext
    from modelkit.execute.runner import Runner
    from modelkit.execute.runplan import RunPlan

BATCH_SIZE = 25  # tests per statement: 10/25/50 measure alike; hundreds make planning slow


class _Unexpected(Exception):
    """A batch row that can't be read back exactly: the test runs alone."""


def plan(uids: Sequence[str], size: int, threads: int) -> list[list[str]]:
    """Split ``uids`` (in the order they will run) into batches of at most ``size``.

    Each block of ``size * threads`` tests is dealt round-robin into ``threads`` batches,
    so the first tests the threads pick up belong to different batches that run side by side.
    """
    lanes = max(threads, 1)
    size = max(size, 1)
    batches: list[list[str]] = []
    for start in range(0, len(uids), size * lanes):
        block = list(uids[start : start + size * lanes])
        count = min(lanes, len(block))
        batches.extend(block[lane::count] for lane in range(count))
    return batches


@dataclass
class _Outcome:
    compiled_code: str | None = None
    compiled_path: str | None = None
    timing: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    verdict: Verdict | None = None
    error: BaseException | None = None


@dataclass
class _Batch:
    uids: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: dict[str, _Outcome] | None = None


class TestBatches:
    """The batches of one ``test`` run; :meth:`execute` fills one test's result."""

    __test__ = False  # not a pytest class

    def __init__(self, context: ExecutionContext, batches: Sequence[Sequence[str]]) -> None:
        self.context = context
        self.batches = [_Batch(list(uids)) for uids in batches]
        self._of = {uid: batch for batch in self.batches for uid in batch.uids}
        self._lock = threading.Lock()
        self.statements = 0  # batch statements the engine ran successfully

    @classmethod
    def for_run(
        cls,
        context: ExecutionContext,
        selected: Sequence[str],
        parents: Mapping[str, set[str]],
        order: Callable[[str], Any],
        *,
        threads: int,
        size: int | None = None,
    ) -> TestBatches | None:
        """Batches for the selected data tests that run at once (None: nothing to batch)."""
        size = BATCH_SIZE if size is None else size
        # batches carry each value with its type's name; an engine that cannot name it runs tests one by one;
        # with --store-failures each test keeps its own rows
        batched = Capability.BATCHED_TESTS in context.adapter.capabilities and not context.store_failures
        if size <= 1 or not batched:
            return None
        nodes = context.manifest.nodes
        uids = [
            uid
            for uid in sorted(selected, key=order)
            if uid in nodes
            and nodes[uid].resource_type == "test"
            and not nodes[uid].store_failures  # type: ignore[attr-defined]
            and not parents.get(uid)
        ]
        if len(uids) < 2:
            return None
        return cls(context, plan(uids, size, threads))

    def covers(self, uid: str) -> bool:
        return uid in self._of

    def execute(self, node: Node, result: NodeResult) -> None:
        """Fill ``result`` for ``node`` from its batch, computing the batch if no test of it has."""
        batch = self._of[node.unique_id]
        with batch.lock:
            if batch.outcomes is None:
                batch.outcomes = self._compute(batch)
            outcome = batch.outcomes[node.unique_id]
        result.compiled_code = outcome.compiled_code
        result.compiled_path = outcome.compiled_path
        result.timing.extend(outcome.timing)
        result.execution_time = outcome.seconds
        if outcome.error is not None:
            raise outcome.error
        assert outcome.verdict is not None
        result.status = outcome.verdict.status
        result.failures = outcome.verdict.failures  # type: ignore[assignment]
        result.message = outcome.verdict.message
        result.adapter_response = {"_message": "OK"}

    # -- computing a batch ------------------------------------------------------------------
    def _compute(self, batch: _Batch) -> dict[str, _Outcome]:
        context = self.context
        outcomes: dict[str, _Outcome] = {}
        ready: list[tuple[TestNode, str, str]] = []  # node, compiled sql, wrapped sql
        for uid in batch.uids:
            node: TestNode = context.manifest.nodes[uid]  # type: ignore[assignment]
            outcome = outcomes[uid] = _Outcome()
            started, t0 = time.perf_counter(), now()
            try:
                sql = context.compiler.compile(node)
                outcome.compiled_code = sql
                path = context.compiler.write(node, sql, context.project.target_dir)
                outcome.compiled_path = display_path(path, context.project.root)
                outcome.timing.append(timing("compile", t0, now()))
                ready.append((node, sql, wrap_test_sql(context.adapter.sql, sql, node.config)))
            except Exception as exc:  # noqa: BLE001 - reported on its own test, as when run alone
                outcome.error = exc
            outcome.seconds = time.perf_counter() - started
        ran = self._run_statement(ready) if len(ready) > 1 else None
        if ran is None:
            for node, sql, _ in ready:
                self._run_alone(node, sql, outcomes[node.unique_id])
            return outcomes
        rows, t_start, seconds = ran
        by_index: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            by_index.setdefault(row[0], []).append(row[1:])
        # The tests ran as one statement: each gets an even share of its time (and of its span
        # in the timing entries), so the run's per-test times still add up to the real time.
        share = seconds / len(ready)
        step = (now() - t_start) / len(ready)
        for index, (node, sql, _) in enumerate(ready):
            outcome = outcomes[node.unique_id]
            try:
                outcome.verdict = self._verdict(node, by_index.get(index, []))
            except _Unexpected:
                self._run_alone(node, sql, outcome)
                continue
            begin = t_start + step * index
            outcome.timing.append(timing("execute", begin, begin + step))
            outcome.seconds += share
        return outcomes

    def _run_statement(
        self, ready: list[tuple[TestNode, str, str]]
    ) -> tuple[list[tuple[Any, ...]], datetime.datetime, float] | None:
        """The batch's rows, when it started and how long it took; None when the statement fails."""
        builder = self.context.adapter.sql
        statement = builder.union_all(
            [builder.test_batch_branch(i, wrapped) for i, (_, _, wrapped) in enumerate(ready)]
        )
        t_start, started = now(), time.perf_counter()
        try:
            rows = self.context.adapter.execute(statement, fetch=True).rows
        except Exception:  # noqa: BLE001 - its tests then run alone and report their own errors
            return None
        seconds = time.perf_counter() - started
        with self._lock:
            self.statements += 1
        return rows, t_start, seconds

    def _verdict(self, node: TestNode, rows: list[tuple[Any, ...]]) -> Verdict:
        if len(rows) != 1:  # a fail_calc that is no aggregate: let the test's own query decide
            raise _Unexpected(f"{len(rows)} rows")
        row = rows[0]
        try:
            sql = self.context.adapter.sql
            values = [sql.decode_text(row[2 * i], row[2 * i + 1]) for i in range(len(TEST_RESULT_COLUMNS))]
        except (ValueError, ArithmeticError) as exc:  # text the engine printed unlike expected
            raise _Unexpected(str(exc)) from None
        return judge(node.config, *values)

    def _run_alone(self, node: TestNode, sql: str, outcome: _Outcome) -> None:
        """Run one test as unbatched: its own statement, its own error."""
        started, t0 = time.perf_counter(), now()
        try:
            outcome.verdict = run_test_query(self.context.adapter, node, sql)
            outcome.timing.append(timing("execute", t0, now()))
        except Exception as exc:  # noqa: BLE001 - reported on its own test, as when run alone
            outcome.error = exc
        outcome.seconds += time.perf_counter() - started


class DataTestExecutor:
    """Runs data tests (the runner's executor for ``test`` nodes), in batches when ``batch_size`` > 1."""

    def __init__(self, batch_size: int | None = None) -> None:
        self.batch_size = batch_size
        self.batches: TestBatches | None = None

    def prepare(self, context: ExecutionContext, plan: RunPlan) -> None:
        if self.batch_size is not None:
            self.batches = TestBatches.for_run(
                context, plan.selected, plan.parents, plan.order, threads=plan.threads, size=self.batch_size
            )

    def execute(self, runner: Runner, node: Node, result: NodeResult) -> None:
        batches = self.batches
        if batches is not None and batches.covers(node.unique_id):
            batches.execute(node, result)
        else:
            execute_data_test(runner, node, result)
