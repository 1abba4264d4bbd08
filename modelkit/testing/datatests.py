"""Running data tests: each test's failing-rows query, counted and judged by its config.

The work is split so that tests can be batched: :func:`wrap_test_sql`
turns a test's query into one row ``(failures, should_warn, should_error)``,
and :func:`judge` turns that row into the test's status. ``modelkit test`` runs
several wrapped queries as one statement (``union all`` with a test index, see
:mod:`modelkit.testing.batch`) without changing either function.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modelkit.core.errors import CompilationError
from modelkit.core.results import NodeResult, now

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.adapters.sql import StandardSQL
    from modelkit.core.manifest import Node, TestNode
    from modelkit.execute.runner import Runner


@dataclass(frozen=True)
class Verdict:
    status: str  # pass | warn | fail
    failures: int | float
    message: str | None


def timing(name: str, start: datetime.datetime, end: datetime.datetime) -> dict[str, Any]:
    return {
        "name": name,
        "started_at": start.isoformat().replace("+00:00", "Z"),
        "completed_at": end.isoformat().replace("+00:00", "Z"),
    }


def limit_of(config: Mapping[str, Any]) -> int | None:
    """The test's ``limit`` config as a whole number (None: no limit)."""
    limit = config.get("limit")
    if limit is None or limit == "":
        return None
    try:
        return int(limit)
    except (TypeError, ValueError):
        raise CompilationError(f"`limit` must be a whole number, got {limit!r}") from None


def wrap_test_sql(sql: StandardSQL, main_sql: str, config: Mapping[str, Any], *, apply_limit: bool = True) -> str:
    """dbt's test wrapper, in the engine's SQL: one row with the failure count and the warn/error checks."""
    return sql.test_wrapper(
        main_sql,
        config.get("fail_calc") or "count(*)",
        config.get("warn_if") or "!= 0",
        config.get("error_if") or "!= 0",
        limit_of(config) if apply_limit else None,
    )


def store_failures(adapter: Adapter, node: TestNode, main_sql: str) -> str:
    """Keep the failing rows in the audit relation; returns the query reading them back."""
    relation = node.relation
    body = adapter.sql.limited(main_sql, limit_of(node.config))
    adapter.create_schema(relation.database, relation.schema)
    if relation.type == "view":
        adapter.replace_view(relation, body)
    else:
        adapter.replace_table(relation, body)
    return adapter.sql.select_relation(str(relation.quoted_with(adapter.quote_char)))


def run_test_query(adapter: Adapter, node: TestNode, main_sql: str, store: bool = False) -> Verdict:
    """Run a test; ``store`` (``--store-failures``) keeps the failing rows of every test, as its config would."""
    stored = node.store_failures or (store and node.config.get("store_failures_as") != "ephemeral")
    sql = store_failures(adapter, node, main_sql) if stored else main_sql
    rows = adapter.execute(wrap_test_sql(adapter.sql, sql, node.config, apply_limit=not stored), fetch=True).rows
    failures, should_warn, should_error = rows[0] if rows else (0, False, False)
    return judge(node.config, failures, should_warn, should_error)


def _plural_results(count: int | float) -> str:
    return f"{count} result" if count == 1 else f"{count} results"


def judge(config: Mapping[str, Any], failures: Any, should_warn: Any, should_error: Any) -> Verdict:
    """The status of a test from its wrapped query's row (dbt's rules)."""
    if isinstance(failures, Decimal) and failures.is_finite():  # e.g. a fail_calc summing a decimal column
        failures = int(failures) if failures == failures.to_integral_value() else float(failures)
    count: int | float = failures if isinstance(failures, (int, float)) else 0
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    severity = str(config.get("severity") or "ERROR").upper()
    if severity == "ERROR" and should_error:
        return Verdict("fail", count, f"Got {_plural_results(count)}, configured to fail if {config.get('error_if')}")
    if should_warn:
        return Verdict("warn", count, f"Got {_plural_results(count)}, configured to warn if {config.get('warn_if')}")
    return Verdict("pass", 0, None)


def execute_data_test(runner: Runner, node: Node, result: NodeResult) -> None:
    """Compile a data test, run it and fill ``result`` (status pass / warn / fail)."""
    t0 = now()
    sql = runner.compile(node, result)
    t1 = now()
    result.timing.append(timing("compile", t0, t1))
    context = runner.context
    verdict = run_test_query(context.adapter, node, sql, context.store_failures)  # type: ignore[arg-type]
    result.status = verdict.status
    result.failures = verdict.failures  # type: ignore[assignment]
    result.message = verdict.message
    result.adapter_response = {"_message": "OK"}
    result.timing.append(timing("execute", t1, now()))
