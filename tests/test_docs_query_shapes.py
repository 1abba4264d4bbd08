"""Column lineage of queries of one shape (the same SQL over other relations) is analysed once and moved:
what `docs generate` shows must be what analysing every query gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_project, run_cli
from genproject import generate

from modelkit.analysis import queryshapes
from modelkit.analysis.lineage import LineageContext, analyse
from modelkit.api.session import Session
from modelkit.docs.catalog import read_catalog
from modelkit.docs.trace import compile_and_trace

REAL_REUSE = queryshapes.ShapeCache.reuse


def comparable(lineage: dict) -> dict:
    """Each node's lineage, its upstream columns in a fixed order (sqlglot lists them in the order of a set)."""
    out = {}
    for uid, found in lineage.items():
        columns = {
            name: (c.status, sorted((u.unique_id or "", u.relation, u.column) for u in c.upstream), c.reason)
            for name, c in found.lineage.items()
        }
        out[uid] = (found.columns, columns, found.error, found.tables)
    return out


def traced(root: Path, monkeypatch: pytest.MonkeyPatch, reuse: bool, catalog: bool) -> tuple[dict, int]:
    """Each model's lineage as `docs generate` traces it (with or without moving lineages between shapes)."""
    hits: list[int] = []
    real = REAL_REUSE

    def reuse_or_not(self, ctx, sql, parents):
        found = real(self, ctx, sql, parents) if reuse else None
        hits.append(found is not None)
        return found

    monkeypatch.setattr(queryshapes.ShapeCache, "reuse", reuse_or_not)
    with Session(root, which="generate") as session:
        selected = session.select(("*",))
        found = read_catalog(session.adapter, session.manifest, selected) if catalog else {}
        lineage = compile_and_trace(session, selected, found, workers=1).lineage
    return lineage, sum(hits)


@pytest.mark.parametrize("built", [False, True], ids=["before_a_run", "after_a_run"])
def test_moved_lineage_equals_analysed_lineage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built: bool) -> None:
    root = generate(80, tmp_path / "gen", seed_rows=20).root
    if built:
        assert run_cli("seed", cwd=root).exit_code == 0 and run_cli("run", cwd=root).exit_code == 0
    analysed, _ = traced(root, monkeypatch, reuse=False, catalog=built)
    moved, hits = traced(root, monkeypatch, reuse=True, catalog=built)
    assert hits > 20  # the generated models share a few shapes
    assert comparable(moved) == comparable(analysed)
    assert any(u.unique_id for found in moved.values() for c in found.lineage.values() for u in c.upstream)


SHAPES = {
    "models/a.sql": "select 1 as id, 2 as amount",
    "models/b.sql": "select 1 as id, 2 as amount",
    "models/c.sql": "select 1 as id, 2 as amount, 3 as extra",  # other columns: another shape
    "models/from_a.sql": "select id, amount * 2 as doubled from {{ ref('a') }}",
    "models/from_b.sql": "select id, amount * 2 as doubled from {{ ref('b') }}",
    "models/from_c.sql": "select id, amount * 2 as doubled from {{ ref('c') }}",
}


def test_a_shape_is_the_text_and_the_columns_of_each_place(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", SHAPES)
    assert run_cli("run", "--project-dir", str(root)).exit_code == 0
    with Session(root, which="generate") as session:
        selected = session.select(("*",))
        catalog = read_catalog(session.adapter, session.manifest, selected)
        sql = {
            n: session.compiler.compile(session.manifest.nodes[f"model.demo.{n}"])
            for n in ("from_a", "from_b", "from_c")
        }
    ctx = LineageContext("duckdb", "", "main")
    for uid, entry in catalog.items():
        node = session.manifest.nodes[uid]
        ctx.add_relation(ctx.key(node.database, node.schema, node.alias), uid, entry.column_types())
    shape_a, shape_b, shape_c = (queryshapes.shape_of(ctx, sql[n]) for n in ("from_a", "from_b", "from_c"))
    assert shape_a[0] == shape_b[0] != shape_c[0]
    shapes = queryshapes.ShapeCache()
    first = shapes.analyse(ctx, sql["from_a"], ["model.demo.a"])
    second = shapes.analyse(ctx, sql["from_b"], ["model.demo.b"])
    third = shapes.analyse(ctx, sql["from_c"], ["model.demo.c"])
    assert shapes.hits == 1
    assert second == analyse(ctx, sql["from_b"], ["model.demo.b"]) != first
    assert [u.unique_id for u in second.lineage["doubled"].upstream] == ["model.demo.b"]
    assert third == analyse(ctx, sql["from_c"], ["model.demo.c"])
