"""`modelkit parse` with nothing changed does no work, and any change sends it down the full path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from modelkit import Project
from modelkit.parse import state as parsestate

FILES = {
    "macros/pick.sql": "{% macro pick_source() %}{{ return(source('raw', 'events')) }}{% endmacro %}",
    "models/a.sql": "select 1 as id",
    "models/b.sql": "select * from {{ ref('a') }}",
    "models/c.sql": "{{ config(materialized=var('c_mat', 'view')) }}select * from {{ pick_source() }}",
    "models/d.sql": "{% if env_var('MK_STATE_TEST', 'x') == 'ref' %}select * from {{ ref('b') }}{% else %}select 2 as id{% endif %}",
    "models/schema.yml": (
        "models:\n  - name: a\n    description: first\n"
        "    columns:\n      - name: id\n        data_tests: [not_null]\n"
        "sources:\n  - name: raw\n    tables: [{name: events}]\n"
    ),
}


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trust files written a moment ago (the edits below all change a file's size, so none can hide)."""
    monkeypatch.setattr(parsestate, "RACY_NS", 0)


def nodes(root: Path) -> dict:
    return json.loads((root / "target" / "manifest.json").read_text())["nodes"]


def parse(root: Path, **kwargs) -> tuple[str, bool]:
    """(summary, whether manifest.json was written)."""
    manifest = root / "target" / "manifest.json"
    before = manifest.stat().st_mtime_ns if manifest.exists() else None
    summary = Project(root, **kwargs).parse_summary()
    return summary, manifest.stat().st_mtime_ns != before


def shape(uid: str, node: dict) -> tuple:
    return (uid, node["raw_code"], node["schema"], node["config"]["materialized"], node["depends_on"]["nodes"])


def written_nodes(root: Path) -> list[tuple]:
    return sorted(shape(uid, n) for uid, n in nodes(root).items())


def fresh_nodes(root: Path, **kwargs) -> list[tuple]:
    """The nodes of a parse that reuses nothing (and writes nothing)."""
    from modelkit.artifacts.writer import node_dict

    with Project(root, partial_parse=False, **kwargs).session("parse") as session:
        return sorted(shape(uid, node_dict(n)) for uid, n in session.manifest.nodes.items())


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


EDITS = [
    ("model", lambda r: write(r / "models/b.sql", "select * from {{ ref('c') }} -- edited")),
    (
        "yaml",
        lambda r: write(r / "models/schema.yml", (r / "models/schema.yml").read_text().replace("first", "edited")),
    ),
    ("macro", lambda r: write(r / "macros/pick.sql", "{% macro pick_source() %}{{ return(ref('a')) }}{% endmacro %}")),
    ("new_model", lambda r: write(r / "models/e.sql", "select 3 as id")),
    ("deleted_model", lambda r: (r / "models/d.sql").unlink()),
    ("new_folder", lambda r: write(r / "models/sub/f.sql", "select 4 as id")),
    (
        "generate_schema_name",
        lambda r: write(
            r / "macros/schema.sql", "{% macro generate_schema_name(c, node) %}s_{{ node.name }}{% endmacro %}"
        ),
    ),
    ("project_file", lambda r: write(r / "modelkit.yml", "name: demo\nmodels:\n  +materialized: table\n")),
    ("manifest_overwritten", lambda r: write(r / "target/manifest.json", "{}")),
    ("manifest_deleted", lambda r: (r / "target/manifest.json").unlink()),
    ("docs_block", lambda r: write(r / "models/docs.md", "{% docs thing %}a doc{% enddocs %}")),
]


@pytest.mark.parametrize(("case", "edit"), EDITS, ids=[e[0] for e in EDITS])
def test_any_edit_parses_again(project_factory, trusting, case, edit) -> None:
    root = project_factory(FILES)
    first, wrote = parse(root)
    assert wrote and first.startswith("4 models, 1 data test")
    again, wrote = parse(root)
    assert (again, wrote) == (first, False)  # nothing changed: nothing written
    edit(root)
    _, wrote = parse(root)
    assert wrote
    assert written_nodes(root) == fresh_nodes(root)
    assert parse(root)[1] is False  # and the new state is reused in turn


def test_vars_env_vars_and_target_are_checked(project_factory, trusting, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project_factory(FILES)
    parse(root)
    assert parse(root)[1] is False
    assert parse(root, vars={"c_mat": "table"})[1] is True
    assert nodes(root)["model.demo.c"]["config"]["materialized"] == "table"
    assert parse(root, vars={"c_mat": "table"})[1] is False
    assert parse(root)[1] is True
    monkeypatch.setenv("MK_STATE_TEST", "ref")
    assert parse(root)[1] is True
    assert nodes(root)["model.demo.d"]["depends_on"]["nodes"] == ["model.demo.b"]
    assert parse(root)[1] is False
    monkeypatch.setenv("DBT_ENV_CUSTOM_ENV_RUN", "42")  # listed in the manifest's metadata
    assert parse(root)[1] is True
    assert parse(root, threads=3)[1] is False  # as in dbt, the number of threads does not matter


def test_no_partial_parse_always_parses(project_factory, trusting) -> None:
    root = project_factory(FILES)
    parse(root)
    assert parse(root, partial_parse=False)[1] is True
    assert not (root / "target" / parsestate.STATE_FILE).exists()
    out = run_cli("parse", "--no-partial-parse", cwd=root)
    assert out.exit_code == 0 and "Found 4 models" in out.output, out.output


def test_files_written_just_before_a_parse_are_not_trusted(project_factory) -> None:
    root = project_factory(FILES)
    parse(root)
    state = json.loads((root / "target" / parsestate.STATE_FILE).read_text())
    assert state["files"]["models/a.sql"] == []  # written a moment ago: its next edit could keep its times
    assert parse(root)[1] is True


def test_cli_reports_the_same_summary_either_way(project_factory, trusting) -> None:
    root = project_factory(FILES)
    outputs = [run_cli("parse", cwd=root).output for _ in range(2)]
    found = [line.split("Found ", 1)[1] for out in outputs for line in out.splitlines() if "Found " in line]
    assert len(found) == 2 and found[0] == found[1]
