"""`docs generate` before a run: the nodes the database lacks are traced one after the other on a worker
process (analysis/lineage_chain.py) while the rest compiles. What the site shows must be what tracing
them here gives, the worker's cache entries must serve the next run, and an edit must invalidate them."""

from __future__ import annotations

import json
import re
from concurrent.futures import Future
from pathlib import Path

import pytest
from conftest import run_cli
from genproject import generate

import modelkit.analysis.lineage_chain as lineage_chain
import modelkit.docs.build as build
import modelkit.docs.trace as trace
from modelkit.analysis import queryshapes
from modelkit.api.session import Session
from modelkit.core.errors import CompilationError
from modelkit.docs import GenerateOptions, generate_docs


def site(root: Path) -> dict:
    html = (root / "target" / "index.html").read_text(encoding="utf-8")
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S))
    index = json.loads(blocks["mk-index"])
    lineage = json.loads(blocks["mk-lineage"])
    return {
        "columns": {record["id"]: record.get("c") for record in index["nodes"]},
        # each column's upstream sorted: sqlglot lists them in the order of a set of expressions, whose
        # string hashes differ from one process to another
        "lineage": {
            i: {name: [c[0], sorted(c[1]), *c[2:]] for name, c in record["c"].items()} for i, record in lineage.items()
        },
    }


def runners(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every ChainRunner the next generate starts."""
    started: list = []
    real = trace.ChainRunner

    def spy(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(trace, "ChainRunner", spy)
    return started


def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of each query this process analyses (not found in the cache) from now on."""
    calls: list[str] = []
    real = queryshapes.ShapeCache.analyse

    def spy(self, ctx, sql, parents):
        calls.append(sql)
        return real(self, ctx, sql, parents)

    monkeypatch.setattr(queryshapes.ShapeCache, "analyse", spy)
    return calls


def docs(root: Path, workers: int = 2) -> None:
    with Session(root, which="generate") as session:
        generate_docs(session, GenerateOptions(workers=workers))


def test_the_chain_on_a_worker_shows_what_tracing_here_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = generate(60, tmp_path / "gen", seed_rows=20).root
    assert run_cli("seed", cwd=root).exit_code == 0  # the models are not built: every one is in the chain
    docs(root, workers=1)  # here
    here = site(root)
    (root / "target" / "lineage_cache.json").unlink()
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    started = runners(monkeypatch)
    docs(root, workers=2)
    assert started and started[0].process is not None and started[0].process.poll() == 0  # a worker, done
    there = site(root)
    assert there == here
    assert sum(len(c) for c in there["lineage"].values()) > 100
    assert any(upstream for c in there["lineage"].values() for _, upstream, *_ in c.values())


CHAIN = {
    "models/a.sql": "select 1 as id, 2 as amount",
    "models/b.sql": "select id, amount * 2 as doubled from {{ ref('a') }}",
    "models/c.sql": "select id, doubled from {{ ref('b') }}",
    "models/d.sql": "select id from {{ ref('a') }}",
}


def test_the_workers_cache_serves_the_next_run_until_an_edit(project_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project_factory(CHAIN)
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    started = runners(monkeypatch)
    docs(root)  # traced on the worker, which sends back its cache entries
    assert started[0].process is not None
    entries = json.loads((root / "target" / "lineage_cache.json").read_text())["entries"]
    assert sorted(e["node"] for e in entries.values()) == [f"model.demo.{n}" for n in "abcd"]
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 10**9)  # traced here from now on: analyses can be counted
    calls = analysed(monkeypatch)
    docs(root)
    assert calls == []  # every node from the worker's entries

    (root / "models" / "d.sql").write_text("select id from {{ ref('a') }} -- edited\n")
    docs(root)
    assert len(calls) == 1 and "-- edited" in calls[0]  # only the edited model

    calls.clear()
    (root / "models" / "a.sql").write_text("select 1 as id, 2 as amount, 3 as extra")
    docs(root)
    assert len(calls) == 3  # a changed, b and d read its columns; c reads b's, which are what they were
    assert any("extra" in sql for sql in calls)
    assert site(root)["columns"]["model.demo.a"] == ["id", "amount", "extra"]


def catalog_at_once(function, *args):
    """What build runs on a thread, run at once (its future done before anything compiles)."""
    future: Future = Future()
    future.set_result(function(*args))
    return future


def test_a_compile_error_while_the_chain_runs_stops_its_worker(
    project_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = "select id from {{ ref('c') }} {% if execute %}{{ exceptions.raise_compiler_error('boom') }}{% endif %}"
    root = project_factory({**CHAIN, "models/z.sql": failing})
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(build, "_in_background", catalog_at_once)  # every node compiles with the catalog in
    started = runners(monkeypatch)
    with pytest.raises(CompilationError, match="boom"):
        docs(root)
    assert started and started[0].process is not None
    assert started[0].process.poll() is not None


def test_a_failing_worker_leaves_the_chain_to_this_process(project_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project_factory(CHAIN)
    docs(root, workers=1)
    here = site(root)
    (root / "target" / "lineage_cache.json").unlink()
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    monkeypatch.setattr(lineage_chain.sys, "executable", "/nonexistent/python")  # no worker starts
    docs(root)
    assert site(root) == here


def test_a_worker_started_ahead_goes_when_the_database_has_every_node(
    project_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project_factory(CHAIN)
    assert run_cli("run", cwd=root).exit_code == 0  # every model built: no chain
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    spawned: list = []
    real = lineage_chain.spawn

    def spy():
        spawned.append(real())
        return spawned[-1]

    monkeypatch.setattr(lineage_chain, "spawn", spy)
    monkeypatch.setattr(build, "_in_background", catalog_at_once)
    started = runners(monkeypatch)
    docs(root)
    assert spawned and spawned[0] is not None  # started while the catalog was read
    assert started[0].process is None  # not used: nothing to chain
    assert spawned[0].wait(timeout=30) == 0
    assert site(root)["columns"]["model.demo.b"] == ["id", "doubled"]
