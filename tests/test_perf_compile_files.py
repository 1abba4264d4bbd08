"""Compiled files are rewritten only when their SQL changes."""

from __future__ import annotations

from modelkit import Project
from modelkit.core.errors import ModelkitError
from modelkit.render.files import FileWriter, write_if_changed


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


def test_file_writer_new_and_existing_folders(tmp_path) -> None:
    """Files in a folder the writer makes are created in place; elsewhere, or written twice, they are
    replaced only when their text changed; a folder that is in the way is a located error."""
    old = tmp_path / "old"
    old.mkdir()
    (old / "same.sql").write_text("select 1")
    (old / "other.sql").write_text("select 0")
    before = (old / "same.sql").stat().st_mtime_ns
    writer = FileWriter()
    for path, text in [
        (tmp_path / "new" / "deep" / "a.sql", "select 'a'"),
        (tmp_path / "new" / "deep" / "a.sql", "select 'a2'"),  # again in the same run: the last text wins
        (tmp_path / "new" / "b.sql", "sélect 2"),
        (old / "same.sql", "select 1"),
        (old / "other.sql", "select 3"),
    ]:
        writer.put(path, text)
    writer.close()
    assert (tmp_path / "new" / "deep" / "a.sql").read_text() == "select 'a2'"
    assert (tmp_path / "new" / "b.sql").read_text(encoding="utf-8") == "sélect 2"
    assert (old / "same.sql").stat().st_mtime_ns == before
    assert (old / "other.sql").read_text() == "select 3"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")) == []

    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / "x.sql").mkdir()  # a folder where the file goes
    writer = FileWriter()
    writer.put(tmp_path / "fresh2" / "y.sql", "select 1")
    writer.put(tmp_path / "fresh" / "x.sql", "select 1")
    try:
        writer.close()
    except ModelkitError as exc:
        assert "x.sql" in str(exc)
    else:
        raise AssertionError("writing over a folder succeeded")
