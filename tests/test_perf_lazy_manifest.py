"""The stored manifest read lazily, and manifest.json written by copying what did not change.

An incremental parse must unpickle only the nodes it parses again (and those their refs name), and write
manifest.json with the entries of the other nodes copied from the previous file; whatever it reads or
copies, the result must be what a parse from scratch writes.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from conftest import make_project, run_cli

from modelkit.api.project import Project
from modelkit.artifacts import writer
from modelkit.artifacts.splice import Layout, Reuse
from modelkit.core.lazynodes import FIELDS, LazyNodes, field_map, field_maps
from modelkit.core.manifest import Manifest, ModelNode
from modelkit.parse import incremental, snapshot


def model(name: str, parents: tuple[str, ...] = (), body: str = "select 1 as id") -> ModelNode:
    return ModelNode(
        unique_id=f"model.demo.{name}",
        resource_type="model",
        package_name="demo",
        name=name,
        path=f"{name}.sql",
        original_file_path=f"models/{name}.sql",
        fqn=["demo", name],
        raw_code=body,
        checksum=name,
        depends_on_nodes=[f"model.demo.{p}" for p in parents],
        database="db",
        schema="main",
        alias=name,
    )


def chunked(nodes: list[ModelNode], size: int) -> tuple[LazyNodes, list[int]]:
    """``nodes`` stored in chunks of ``size``, as LazyNodes; the list of chunks read so far."""
    chunks = [pickle.dumps(nodes[i : i + size]) for i in range(0, len(nodes), size)]
    fields = {name: field_map({n.unique_id: n for n in nodes}, name) for name in FIELDS}
    read: list[int] = []

    def load(number: int) -> list[ModelNode]:
        read.append(number)
        return pickle.loads(chunks[number])

    slots = {n.unique_id: i // size for i, n in enumerate(nodes)}
    return LazyNodes(slots, load, lambda name: dict(fields[name])), read


def test_every_field_in_one_pass_equals_each_field_alone() -> None:
    nodes = [model(f"m{i}", (f"m{i - 1}",) if i else ()) for i in range(10)]
    nodes[3].config = {"group": "finance"}
    nodes[4].raw_code = "  \n"  # blank
    nodes[5].env_vars = {"HOME": "x"}
    plain = {n.unique_id: n for n in nodes}
    together = field_maps(plain)
    assert list(together) == list(FIELDS)
    assert together == {name: field_map(plain, name) for name in FIELDS}
    assert together["group"] == {"model.demo.m3": "finance"} and list(together["blank"]) == ["model.demo.m4"]
    lazy, read = chunked(nodes, 3)
    assert field_maps(lazy) == together and read == []  # stored fields: no node unpickled


def test_lazy_nodes_read_only_the_chunk_asked_for_and_keep_their_fields_current() -> None:
    nodes = [model(f"m{i}", (f"m{i - 1}",) if i else ()) for i in range(10)]
    lazy, read = chunked(nodes, 3)
    assert list(lazy) == [n.unique_id for n in nodes] and len(lazy) == 10 and lazy.unread == 10
    assert lazy["model.demo.m4"].depends_on_nodes == ["model.demo.m3"]
    assert read == [1] and lazy.unread == 7  # m3..m5 only
    assert field_map(lazy, "parents")["model.demo.m4"] == ["model.demo.m3"]
    assert lazy.unread == 7  # fields come from storage, not from the nodes

    lazy["model.demo.m4"] = model("m4", ("m0", "m1"))
    del lazy["model.demo.m9"]
    lazy["model.demo.new"] = model("new", ("m4",))
    parents = field_map(lazy, "parents")
    assert parents["model.demo.m4"] == ["model.demo.m0", "model.demo.m1"]
    assert "model.demo.m9" not in parents and parents["model.demo.new"] == ["model.demo.m4"]
    assert field_map(lazy, "kind")["model.demo.new"] == "model"  # a field read after the changes has them too
    assert "model.demo.m9" not in field_map(lazy, "kind")
    assert list(lazy)[-1] == "model.demo.new"
    assert lazy.unread == 6  # m9 is gone; m4 was read already, "new" never stored

    everything = dict(lazy.items())
    assert lazy.unread == 0 and sorted(read) == [0, 1, 2]  # chunk 3 held only m9, deleted
    assert pickle.loads(pickle.dumps(lazy)) == everything  # pickles as the plain dict it stands for


def _layout_entries(path: Path, layout: Layout) -> dict[str, dict]:
    """The entries the layout says may be copied, read back from where it says they are."""
    data = path.read_bytes()
    out = {}
    for uid, start, end in zip(layout.order, layout.starts, layout.ends):
        if start < 0:
            continue
        key, _, value = data[start:end].partition(b":")
        assert json.loads(key) == uid
        out[uid] = json.loads(value)
    return out


EDITS = [
    # (id, change to the manifest, uids to rewrite, compiled code by uid)
    ("first", lambda m: m.nodes.__setitem__("model.demo.m0", model("m0", body="select 2")), {"model.demo.m0"}, {}),
    ("middle", lambda m: m.nodes.__setitem__("model.demo.m5", model("m5", body="x" * 300)), {"model.demo.m5"}, {}),
    ("last", lambda m: m.nodes.__setitem__("model.demo.m9", model("m9", ("m1",))), {"model.demo.m9"}, {}),
    ("two_apart", lambda m: None, {"model.demo.m2", "model.demo.m7"}, {}),
    ("compiled", lambda m: None, set(), {"model.demo.m3": "select 'compiled'"}),
    ("removed", lambda m: m.nodes.pop("model.demo.m4"), set(), {}),
    ("added", lambda m: m.nodes.__setitem__("model.demo.zz", model("zz", ("m9",))), {"model.demo.zz"}, {}),
    ("moved", lambda m: m.nodes.__setitem__("model.demo.m1", m.nodes.pop("model.demo.m1")), set(), {}),
]


@pytest.mark.parametrize(("case", "change", "rewrite", "compiled"), EDITS, ids=[e[0] for e in EDITS])
def test_a_spliced_manifest_equals_one_written_whole(tmp_path: Path, case, change, rewrite, compiled) -> None:
    manifest = Manifest(project_name="demo", nodes={f"model.demo.m{i}": model(f"m{i}") for i in range(10)})
    first = tmp_path / "first.json"
    layout = writer.write_manifest(first, manifest, "inv", {"model.demo.m6": "select 'old compile'"})
    assert layout is not None
    change(manifest)
    spliced, whole = tmp_path / "spliced.json", tmp_path / "whole.json"
    with open(first, "rb") as fh:
        reuse = Reuse(fh.fileno(), layout, set(rewrite), keep_edges=case not in ("last", "removed", "added"))
        new_layout = writer.write_manifest(spliced, manifest, "inv", compiled, reuse=reuse)
    writer.write_manifest(whole, manifest, "inv", compiled)
    got, want = json.loads(spliced.read_text()), json.loads(whole.read_text())
    for data in (got, want):
        data["metadata"].pop("generated_at"), data["metadata"].pop("invocation_started_at")
        data["metadata"].pop("run_started_at")
    assert got == want
    assert "compiled_code" not in got["nodes"]["model.demo.m6"]  # compiled before: never copied
    assert new_layout is not None and new_layout.order == list(got["nodes"])
    copyable = {uid: entry for uid, entry in got["nodes"].items() if uid not in compiled}
    assert _layout_entries(spliced, new_layout) == copyable  # compiled ones are not to be copied next time


def leaf_project(root: Path, count: int) -> Path:
    files = {"models/base.sql": "select 1 as id\n"}
    for i in range(count):
        files[f"models/m{i:03}.sql"] = f"select * from {{{{ ref('base') }}}} -- {i}\n"
    return make_project(root, files)


def test_an_incremental_parse_unpickles_only_what_the_edit_reaches(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(snapshot, "CHUNK", 1)
    root = leaf_project(tmp_path / "demo", 30)
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    (root / "models" / "m007.sql").write_text("select id from {{ ref('base') }}\n")
    manifest = Project(root).parse()
    assert isinstance(manifest.nodes, LazyNodes)
    # m007 (parsed again) and base (its ref) are read; the 29 other models are not
    assert manifest.nodes.unread == 29
    kept = json.loads((root / "target" / "manifest.json").read_text())
    assert kept["nodes"]["model.demo.m007"]["raw_code"] == "select id from {{ ref('base') }}\n"
    assert kept["child_map"]["model.demo.base"] == sorted(f"model.demo.m{i:03}" for i in range(30))
    assert run_cli("parse", "--no-partial-parse", "--project-dir", str(root)).exit_code == 0
    scratch = json.loads((root / "target" / "manifest.json").read_text())
    assert kept["nodes"] == scratch["nodes"] and kept["child_map"] == scratch["child_map"]


def test_compiled_entries_are_written_again_by_the_next_parse(tmp_path: Path) -> None:
    root = leaf_project(tmp_path / "demo", 5)
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    assert run_cli("compile", "-s", "m002", "--project-dir", str(root)).exit_code == 0
    compiled = json.loads((root / "target" / "manifest.json").read_text())["nodes"]["model.demo.m002"]
    assert "compiled_code" in compiled
    (root / "models" / "m004.sql").write_text("select 4 as id from {{ ref('base') }}\n")
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    kept = json.loads((root / "target" / "manifest.json").read_text())
    assert run_cli("parse", "--no-partial-parse", "--project-dir", str(root)).exit_code == 0
    scratch = json.loads((root / "target" / "manifest.json").read_text())
    assert "compiled_code" not in kept["nodes"]["model.demo.m002"]
    assert kept["nodes"] == scratch["nodes"] and kept["parent_map"] == scratch["parent_map"]


def test_a_new_ref_rewrites_the_parent_and_child_maps(tmp_path: Path, monkeypatch) -> None:
    seen: list = []
    update = incremental.update
    monkeypatch.setattr(incremental, "update", lambda parser: seen.append(parser) or update(parser))
    root = leaf_project(tmp_path / "demo", 3)
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    (root / "models" / "m002.sql").write_text("select * from {{ ref('m001') }}\n")
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    assert seen[-1].reparsed == ["model.demo.m002"] and seen[-1].edges_changed
    kept = json.loads((root / "target" / "manifest.json").read_text())
    assert kept["parent_map"]["model.demo.m002"] == ["model.demo.m001"]
    assert kept["child_map"]["model.demo.m001"] == ["model.demo.m002"]
    assert "model.demo.m002" not in kept["child_map"]["model.demo.base"]
