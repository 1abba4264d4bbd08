"""The parse cache never serves a stale result: each kind of edit changes exactly what a fresh parse gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from modelkit import Project
from modelkit.parse import snapshot
from modelkit.parse.cache import CACHE_FILE

FILES = {
    "macros/naming.sql": "{% macro prefix() %}p_{% endmacro %}",
    "macros/pick.sql": "{% macro pick_source() %}{{ return(source('raw', 'events')) }}{% endmacro %}",
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select * from {{ ref('a') }}",
    "models/c.sql": "{{ config(materialized=var('c_mat', 'view')) }}select * from {{ pick_source() }}",
    "models/d.sql": "{% if env_var('MK_CACHE_TEST', 'x') == 'ref' %}select * from {{ ref('b') }}{% else %}select 2 as id{% endif %}",
    "models/schema.yml": "models:\n  - name: a\n    description: first\nsources:\n  - name: raw\n    tables: [{name: events}]\n",
}


def summary(root: Path, **kwargs) -> dict:
    manifest = Project(root, **kwargs).parse()
    return {
        uid: (sorted(n.depends_on_nodes), n.config["materialized"], n.schema, n.alias, n.description)
        for uid, n in manifest.nodes.items()
    }


def cached_and_fresh(root: Path, **kwargs) -> tuple[dict, dict]:
    cached = summary(root, **kwargs)
    assert (root / "target" / CACHE_FILE).exists()
    fresh = summary(root, partial_parse=False, **kwargs)
    return cached, fresh


EDITS = [
    (
        "model",
        lambda r: (r / "models/b.sql").write_text("select * from {{ ref('c') }}"),
        "model.demo.b",
        (["model.demo.c"], "view", "main", "b", ""),
    ),
    (
        "yaml",
        lambda r: (r / "models/schema.yml").write_text(
            (r / "models/schema.yml").read_text().replace("first", "changed")
        ),
        "model.demo.a",
        ([], "view", "main", "a", "changed"),
    ),
    (
        "macro_used_by_models",
        lambda r: (r / "macros/pick.sql").write_text("{% macro pick_source() %}{{ return(ref('a')) }}{% endmacro %}"),
        "model.demo.c",
        (["model.demo.a"], "view", "main", "c", ""),
    ),
    (
        "generate_schema_name",
        lambda r: (r / "macros/schema.sql").write_text(
            "{% macro generate_schema_name(custom, node) %}custom_{{ node.name }}{% endmacro %}"
        ),
        "model.demo.a",
        ([], "view", "custom_a", "a", "first"),
    ),
]


@pytest.mark.parametrize(("case", "edit", "uid", "expected"), EDITS, ids=[e[0] for e in EDITS])
def test_edits_are_seen(project_factory, case, edit, uid, expected) -> None:
    root = project_factory(FILES)
    before, _ = cached_and_fresh(root)
    edit(root)
    after, fresh = cached_and_fresh(root)
    assert after == fresh
    assert after[uid] == expected
    changed = {k for k in after if after[k] != before.get(k)}
    if case == "generate_schema_name":
        assert changed == set(after)  # every node moves to its own schema
    else:
        assert changed == {uid}


def test_vars_are_part_of_the_key(project_factory) -> None:
    root = project_factory(FILES)
    assert summary(root)["model.demo.c"][1] == "view"
    assert summary(root, vars={"c_mat": "table"})["model.demo.c"][1] == "table"
    assert summary(root)["model.demo.c"][1] == "view"


def test_env_vars_read_are_checked(project_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project_factory(FILES)
    assert summary(root)["model.demo.d"][0] == []
    monkeypatch.setenv("MK_CACHE_TEST", "ref")
    cached, fresh = cached_and_fresh(root)
    assert cached == fresh and cached["model.demo.d"][0] == ["model.demo.b"]


def test_cache_is_used_and_can_be_bypassed(project_factory) -> None:
    root = project_factory(FILES)
    project = Project(root)
    with project.session("parse") as session:
        session.manifest  # noqa: B018
        assert session.parse_cache.misses > 0 and session.parse_cache.hits == 0
    with project.session("parse") as session:
        session.manifest  # noqa: B018
        assert session.reparsed == [] and session.parse_cache is None  # the last parse's snapshot, reused whole
    for name in (snapshot.SNAPSHOT_FILE, snapshot.FILES_FILE):
        (root / "target" / name).unlink()  # without it, a full parse: each file comes from the per-file cache
    with project.session("parse") as session:
        session.manifest  # noqa: B018
        assert session.parse_cache.hits == 5 and session.parse_cache.misses == 0  # 4 models + 1 YAML file
    with Project(root, partial_parse=False).session("parse") as session:
        session.manifest  # noqa: B018
        assert session.parse_cache is None
    out = run_cli("parse", "--no-partial-parse", cwd=root)
    assert out.exit_code == 0, out.output


def test_cache_is_plain_json(project_factory) -> None:
    root = project_factory(FILES)
    Project(root).parse()
    data = json.loads((root / "target" / CACHE_FILE).read_text())
    assert set(data["templates"]) == {"models/a.sql", "models/b.sql", "models/c.sql", "models/d.sql"}
