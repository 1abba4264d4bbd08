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
from modelkit.core.results import NodeResult, display_path, now

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
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


def _limit(config: Mapping[str, Any]) -> str:
    limit = config.get("limit")
    if limit is None or limit == "":
        return ""
    try:
        return f"\n      limit {int(limit)}"
    except (TypeError, ValueError):
        raise CompilationError(f"`limit` must be a whole number, got {limit!r}") from None


def wrap_test_sql(main_sql: str, config: Mapping[str, Any], *, apply_limit: bool = True) -> str:
    """dbt's test wrapper: one row with the failure count and the warn/error checks."""
    fail_calc = config.get("fail_calc") or "count(*)"
    warn_if = config.get("warn_if") or "!= 0"
    error_if = config.get("error_if") or "!= 0"
    limit = _limit(config) if apply_limit else ""
    return (
        "select\n"
        f"      {fail_calc} as failures,\n"
        f"      {fail_calc} {warn_if} as should_warn,\n"
        f"      {fail_calc} {error_if} as should_error\n"
        "    from (\n"
        f"{strip_semicolon(main_sql)}{limit}\n"
        "    ) dbt_internal_test"
    )


def strip_semicolon(sql: str) -> str:
    stripped = sql.rstrip()
    while stripped.endswith(";"):
        stripped = stripped[:-1].rstrip()
    return stripped


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


def store_failures(adapter: Adapter, node: TestNode, main_sql: str) -> str:
    """Keep the failing rows in the audit relation; returns the query reading them back."""
    relation = node.relation
    body = strip_semicolon(main_sql) + _limit(node.config)
    adapter.create_schema(relation.database, relation.schema)
    if relation.type == "view":
        adapter.replace_view(relation, body)
    else:
        adapter.replace_table(relation, body)
    return f"        select *\n        from {relation}\n"


def run_test_query(adapter: Adapter, node: TestNode, main_sql: str, store: bool = False) -> Verdict:
    """Run a test; ``store`` (``--store-failures``) keeps the failing rows of every test, as its config would."""
    stored = getattr(node, "store_failures", False) or (store and node.config.get("store_failures_as") != "ephemeral")
    sql = store_failures(adapter, node, main_sql) if stored else main_sql
    rows = adapter.execute(wrap_test_sql(sql, node.config, apply_limit=not stored), fetch=True).rows
    failures, should_warn, should_error = rows[0] if rows else (0, False, False)
    return judge(node.config, failures, should_warn, should_error)


def execute_data_test(runner: Runner, node: Node, result: NodeResult) -> None:
    """Compile a data test, run it and fill ``result`` (status pass / warn / fail)."""
    batches = runner.test_batches
    if batches is not None and batches.covers(node.unique_id):
        batches.execute(node, result)
        return
    session = runner.session
    t0 = now()
    sql = session.compiler.compile(node)
    result.compiled_code = sql
    path = session.compiler.write(node, sql, session.project.target_dir)
    result.compiled_path = display_path(path, session.project.root)
    t1 = now()
    result.timing.append(timing("compile", t0, t1))
    verdict = run_test_query(session.adapter, node, sql, session.store_failures)  # type: ignore[arg-type]
    result.status = verdict.status
    result.failures = verdict.failures  # type: ignore[assignment]
    result.message = verdict.message
    result.adapter_response = {"_message": "OK"}
    result.timing.append(timing("execute", t1, now()))
