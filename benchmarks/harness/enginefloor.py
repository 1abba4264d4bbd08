"""The engine floor: a manifest's compiled models executed straight through the engine's own client.

The models come from ``target/manifest.json`` (``compiled_code``: the SQL the tool ran, translated into
the target's dialect where the project's dialect differs). Each is materialized by a short list of
statements, either the plain ``CREATE`` or the same DDL the tool sends (see :func:`postgres_statements`
and :func:`spark_statements`), and the models run in dependency order on ``threads`` workers, each with
its own connection: a model starts as soon as the models it reads are done.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PLAIN = "plain"  # CREATE VIEW / CREATE TABLE ... AS under the model's own name
SAME = "same"  # the DDL the tool itself sends (a temporary name, then a rename)
TMP_SUFFIX = "__dbt_tmp"


@dataclass
class FloorModel:
    uid: str
    database: str | None
    schema: str
    identifier: str
    materialized: str  # view | table (anything else is built as a table)
    sql: str
    parents: set[str] = field(default_factory=set)  # unique ids of the floor models it reads

    @property
    def kind(self) -> str:
        return "view" if self.materialized == "view" else "table"


def floor_models(manifest: dict[str, Any]) -> list[FloorModel]:
    """The manifest's models to materialize, with their parents among them (ephemeral ones inlined already).

    >>> nodes = {
    ...     "model.p.a": {"resource_type": "model", "config": {"materialized": "view"}, "database": "d",
    ...                   "schema": "s", "alias": "a", "depends_on": {"nodes": ["seed.p.x"]}, "compiled_code": "1"},
    ...     "model.p.e": {"resource_type": "model", "config": {"materialized": "ephemeral"}, "database": "d",
    ...                   "schema": "s", "alias": "e", "depends_on": {"nodes": ["model.p.a"]}, "compiled_code": "2"},
    ...     "model.p.b": {"resource_type": "model", "config": {"materialized": "table"}, "database": "d",
    ...                   "schema": "s", "alias": "b", "depends_on": {"nodes": ["model.p.e"]}, "compiled_code": "3"},
    ... }
    >>> [(m.identifier, m.kind, sorted(m.parents)) for m in floor_models({"nodes": nodes})]
    [('a', 'view', []), ('b', 'table', ['model.p.a'])]
    """
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    missing = [
        n["name"] for n in nodes.values() if n["config"]["materialized"] != "ephemeral" and not n.get("compiled_code")
    ]
    if missing:
        raise ValueError(f"{len(missing)} models have no compiled SQL (first: {missing[0]}): compile or run first")

    def parents(uid: str, seen: set[str]) -> set[str]:
        found: set[str] = set()
        for dep in nodes[uid]["depends_on"]["nodes"]:
            if dep not in nodes or dep in seen:
                continue
            seen.add(dep)
            if nodes[dep]["config"]["materialized"] == "ephemeral":
                found |= parents(dep, seen)
            else:
                found.add(dep)
        return found

    return [
        FloorModel(
            uid,
            n.get("database"),
            n["schema"],
            n.get("alias") or n["name"],
            n["config"]["materialized"],
            n["compiled_code"],
            parents(uid, set()),
        )
        for uid, n in nodes.items()
        if n["config"]["materialized"] != "ephemeral"
    ]


def _name(*parts: str | None) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts if p)


def postgres_statements(model: FloorModel, ddl: str) -> list[str]:
    """What materializes ``model`` on PostgreSQL, starting from a schema without it.

    ``same`` is what modelkit (and dbt-postgres) send for a view or table that does not exist yet: build
    it under ``<name>__dbt_tmp`` and rename it, in one transaction.

    >>> m = FloorModel("model.p.a", "db", "main", "a", "view", "select 1")
    >>> postgres_statements(m, PLAIN)
    ['create view "db"."main"."a" as (\\nselect 1\\n)']
    >>> postgres_statements(m, SAME)[1:3]
    ['create view "db"."main"."a__dbt_tmp" as (\\nselect 1\\n)', 'alter view "db"."main"."a__dbt_tmp" rename to "a"']
    """
    if ddl == PLAIN:
        return [f"create {model.kind} {_name(model.database, model.schema, model.identifier)} as (\n{model.sql}\n)"]
    tmp = _name(model.database, model.schema, model.identifier + TMP_SUFFIX)
    return [
        "begin",
        f"create {model.kind} {tmp} as (\n{model.sql}\n)",
        f"alter {model.kind} {tmp} rename to {_name(model.identifier)}",
        "commit",
    ]


def spark_statements(model: FloorModel, ddl: str) -> list[str]:
    """What materializes ``model`` on Spark, starting from a schema without it.

    ``same`` is what modelkit's spark adapter sends: a view in place (``create or replace view``), a
    Parquet table under a temporary name renamed once complete.

    >>> m = FloorModel("model.p.t", None, "bench", "t", "table", "select 1")
    >>> spark_statements(m, PLAIN)
    ['create table `bench`.`t`\\nusing parquet\\nas\\nselect 1']
    >>> spark_statements(m, SAME)[1]
    'alter table `bench`.`t__dbt_tmp` rename to `bench`.`t`'
    """
    final = f"`{model.schema}`.`{model.identifier}`"
    if model.kind == "view":
        return [f"create or replace view {final} as\n{model.sql}"]
    if ddl == PLAIN:
        return [f"create table {final}\nusing parquet\nas\n{model.sql}"]
    tmp = f"`{model.schema}`.`{model.identifier}{TMP_SUFFIX}`"
    return [f"create table {tmp}\nusing parquet\nas\n{model.sql}", f"alter table {tmp} rename to {final}"]


Execute = Callable[[str], None]


@dataclass
class FloorTiming:
    models: int
    statements: int
    connect_seconds: float  # opening the connections (or the session)
    seconds: float  # from the first statement to the last


def run_dag(
    models: list[FloorModel],
    statements: Callable[[FloorModel], list[str]],
    executors: list[Execute],
) -> tuple[int, float]:
    """Run every model's statements, each model once its parents are done, one worker per executor.

    Returns (statements executed, seconds). The first failing statement stops the run and is raised.
    """
    by_uid = {m.uid: m for m in models}
    waiting = {m.uid: len(m.parents) for m in models}
    children: dict[str, list[str]] = {m.uid: [] for m in models}
    for m in models:
        for parent in m.parents:
            children[parent].append(m.uid)
    idle: queue.SimpleQueue[Execute] = queue.SimpleQueue()
    for execute in executors:
        idle.put(execute)
    count = 0
    count_lock = threading.Lock()

    def build(model: FloorModel) -> str:
        nonlocal count
        sqls = statements(model)
        execute = idle.get()
        try:
            for sql in sqls:
                execute(sql)
            with count_lock:
                count += len(sqls)
        finally:
            idle.put(execute)
        return model.uid

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(executors)) as pool:
        running: set[Future[str]] = {pool.submit(build, by_uid[u]) for u, n in waiting.items() if n == 0}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                uid = future.result()  # raises the first failure
                for child in children[uid]:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        running.add(pool.submit(build, by_uid[child]))
    seconds = time.perf_counter() - start
    if any(n > 0 for n in waiting.values()):
        raise RuntimeError("the models' dependencies have a cycle")
    return count, seconds


@contextmanager
def postgres_executors(dsn: str, threads: int) -> Iterator[tuple[list[Execute], float]]:
    """``threads`` autocommit psycopg connections (and the seconds opening them took)."""
    import psycopg  # the postgres extra's driver, only needed by this floor

    start = time.perf_counter()
    connections = [psycopg.connect(dsn, autocommit=True) for _ in range(threads)]
    seconds = time.perf_counter() - start
    try:
        yield [con.execute for con in connections], seconds
    finally:
        for con in connections:
            con.close()


def postgres_floor(manifest: dict[str, Any], dsn: str, threads: int, ddl: str) -> FloorTiming:
    models = floor_models(manifest)
    with postgres_executors(dsn, threads) as (executors, connect_seconds):
        count, seconds = run_dag(models, lambda m: postgres_statements(m, ddl), executors)
    return FloorTiming(len(models), count, connect_seconds, seconds)


def spark_floor(manifest: dict[str, Any], session: Any, ddl: str, connect_seconds: float) -> FloorTiming:
    """The models one after another through ``session.sql()`` (one session, one thread)."""
    models = floor_models(manifest)
    count, seconds = run_dag(models, lambda m: spark_statements(m, ddl), [session.sql])
    return FloorTiming(len(models), count, connect_seconds, seconds)
