"""Compiled files are rewritten only when their SQL changes."""

from __future__ import annotations

from modelkit import Project
from modelkit.render.files import write_if_changed


def test_write_if_changed(tmp_path) -> None:
    path = tmp_path / "a.sql"
    write_if_changed(path, "select 1")
    assert path.read_text() == "select 1"
    before = path.stat().st_mtime_ns
    write_if_changed(path, "select 1")
    assert path.stat().st_mtime_ns == before  # same SQL: the file is left alone
    for text in ("select 12", "select", "sélect 1", ""):
        write_if_changed(path, text)
        assert path.read_text(encoding="utf-8") == text


def test_compile_again_rewrites_only_changed_models(project_factory) -> None:
    root = project_factory({"models/a.sql": "select 1 as id", "models/b.sql": "select * from {{ ref('a') }}"})
    Project(root).compile()
    compiled = root / "target" / "compiled" / "demo" / "models"
    times = {p.name: p.stat().st_mtime_ns for p in compiled.glob("*.sql")}
    (root / "models" / "a.sql").write_text("select 2 as id")
    Project(root).compile()
    assert (compiled / "a.sql").read_text() == "select 2 as id"
    assert (compiled / "a.sql").stat().st_mtime_ns != times["a.sql"]
    assert (compiled / "b.sql").stat().st_mtime_ns == times["b.sql"]
