"""The index of built-in macros shipped beside them stays true to the macro files."""

from __future__ import annotations

import json

from modelkit.render.macros import BUILTIN_INDEX, MacroRegistry, builtin_index, load_builtin


def test_the_shipped_index_is_current() -> None:
    """Fails after an edit of include/*.sql until the index is written again (see builtin_index)."""
    assert json.loads(BUILTIN_INDEX.read_text()) == json.loads(json.dumps(builtin_index()))


def test_macros_from_the_index_equal_macros_found_by_parsing(monkeypatch, tmp_path) -> None:
    indexed = MacroRegistry("demo")
    load_builtin(indexed)
    monkeypatch.setattr("modelkit.render.macros.BUILTIN_INDEX", tmp_path / "missing.json")
    parsed = MacroRegistry("demo")
    load_builtin(parsed)
    assert {m.unique_id: m for m in indexed.all_macros()} == {m.unique_id: m for m in parsed.all_macros()}
    assert len(list(parsed.all_macros())) > 100


def test_a_file_whose_hash_differs_is_parsed_again(monkeypatch, tmp_path) -> None:
    index = builtin_index()
    first = next(iter(index["files"]))
    index["files"][first]["macros"] = []  # what an index of another version of the file would say
    index["files"][first]["sha256"] = "0" * 64
    stale = tmp_path / "index.json"
    stale.write_text(json.dumps(index))
    monkeypatch.setattr("modelkit.render.macros.BUILTIN_INDEX", stale)
    registry = MacroRegistry("demo")
    load_builtin(registry)
    assert any(m.original_file_path == first for m in registry.all_macros())
