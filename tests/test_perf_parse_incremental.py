"""Incremental parsing: after every kind of edit, `modelkit parse` gives the manifest a parse from scratch gives,
re-parsing only the nodes the edit can reach (or everything, for the edits that reach further)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, run_cli, write_files
from packages_support import make_projects

from modelkit.core import fsio
from modelkit.parse import incremental, snapshot

ROOT_FILES = {
    "macros/money.sql": "{% macro to_money(col) %}cast({{ col }} as decimal(18, 2)){% endmacro %}\n",
    "macros/wrap.sql": "{% macro wrapped(col) %}({{ to_money(col) }}){% endmacro %}\n",
    "models/base.sql": "select 1 as id, 100 as cents\n",
    "models/priced.sql": "select id, {{ to_money('cents') }} as amount from {{ ref('base') }}\n",
    "models/wrapped.sql": "select id, {{ wrapped('cents') }} as amount from {{ ref('base') }}\n",
    "models/configured.sql": "{{ config(materialized='table', tags=['t1']) }}\nselect * from {{ ref('priced') }}\n",
    "models/by_var.sql": "{{ config(materialized=var('mat', 'view')) }}\nselect * from {{ ref('base') }}\n",
    "models/by_env.sql": (
        "{{ config(alias='by_env_' ~ env_var('MK_INC_SUFFIX', 'a')) }}\nselect * from {{ ref('base') }}\n"
    ),
    "models/leaf.sql": "select * from {{ ref('wrapped') }}\n",
    "models/described.sql": "select * from {{ ref('base') }}\n",
    "models/docs.md": "{% docs described_doc %}The first text{% enddocs %}\n",
    "models/schema.yml": """
        version: 2
        models:
          - name: base
            description: The base model
            columns:
              - name: id
                data_tests: [unique, not_null]
          - name: described
            description: '{{ doc("described_doc") }}'
    """,
    "analyses/look.sql": "select * from {{ ref('leaf') }}\n",
    "models/facts.sql": (
        "{{ config(alias='facts_' ~ var('facts_suffix', 'a')) }}\n"
        "select id, cents, current_date as ordered_at from {{ ref('base') }}\n"
    ),
    "models/spine.sql": "select current_date as date_day\n",
    "models/semantic.yml": """
        version: 2
        models:
          - name: spine
            time_spine: {standard_granularity_column: date_day}
            columns:
              - {name: date_day, granularity: day}
        groups:
          - {name: finance, owner: {name: Finance}}
        semantic_models:
          - name: facts
            description: Facts
            model: ref('facts')
            defaults: {agg_time_dimension: ordered_at}
            entities:
              - {name: id, type: primary}
            dimensions:
              - {name: ordered_at, type: time, type_params: {time_granularity: day}}
            measures:
              - {name: total_cents, agg: sum, expr: cents}
        metrics:
          - name: revenue
            label: Revenue
            type: simple
            config: {group: finance}
            type_params: {measure: total_cents}
        saved_queries:
          - name: revenue_daily
            query_params: {metrics: [revenue], group_by: ["TimeDimension('id__ordered_at', 'day')"]}
    """,
    "seeds/codes.csv": "code,label\n1,one\n",
}

PROFILES = """
    demo:
      target: dev
      outputs:
        dev:
          type: duckdb
          path: target/demo.duckdb
        other:
          type: duckdb
          path: target/demo.duckdb
          schema: other_schema
"""


def replace_in(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new))

    return edit


def write(rel: str, text: str) -> Callable[[Path], None]:
    return lambda root: write_files(root, {rel: text})


def delete(rel: str) -> Callable[[Path], None]:
    return lambda root: (root / rel).unlink()


def rename(old: str, new: str) -> Callable[[Path], None]:
    return lambda root: (root / old).rename(root / new)


def touch(rel: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text())  # new times, same content

    return edit


FULL = None  # the edit parses everything

# (id, edit, extra args of the second parse, environment of the second parse, the nodes parsed again)
EDITS = [
    ("model_body", replace_in("models/leaf.sql", "select *", "select id"), (), {}, ["model.demo.leaf"]),
    (
        "model_new_ref",
        replace_in("models/leaf.sql", "ref('wrapped')", "ref('priced')"),
        (),
        {},
        ["model.demo.leaf"],
    ),
    (
        "model_config",
        replace_in("models/configured.sql", "tags=['t1']", "tags=['t2'], schema='extra'"),
        (),
        {},
        ["model.demo.configured"],
    ),
    (
        "model_disabled",
        replace_in("models/by_var.sql", "var('mat', 'view')", "var('mat', 'view'), enabled=false"),
        (),
        {},
        FULL,
    ),
    ("yaml_property", replace_in("models/schema.yml", "The base model", "The base"), (), {}, FULL),
    (
        "macro_used_by_some",
        replace_in("macros/money.sql", "decimal(18, 2)", "decimal(20, 4)"),
        (),
        {},
        ["model.demo.priced", "model.demo.wrapped"],
    ),
    (
        "macro_called_through_another",
        replace_in("macros/wrap.sql", "({{ to_money(col) }})", "{{ to_money(col) }}"),
        (),
        {},
        ["model.demo.wrapped"],
    ),
    ("macro_added", write("macros/more.sql", "{% macro more() %}1{% endmacro %}\n"), (), {}, FULL),
    (
        "docs_block",
        replace_in("models/docs.md", "The first text", "Another text"),
        (),
        {},
        ["model.acme.acme_orders", "model.demo.described"],  # every description using Jinja
    ),
    ("seed_content", replace_in("seeds/codes.csv", "1,one", "1,uno"), (), {}, ["seed.demo.codes"]),
    ("analysis", replace_in("analyses/look.sql", "select *", "select id"), (), {}, ["analysis.demo.look"]),
    ("project_file", replace_in("dbt_project.yml", "shared: from_root", "shared: changed"), (), {}, FULL),
    ("model_added", write("models/sub/fresh.sql", "select * from {{ ref('leaf') }}\n"), (), {}, ["model.demo.fresh"]),
    ("leaf_deleted", delete("analyses/look.sql"), (), {}, []),
    ("referenced_deleted", delete("models/wrapped.sql"), (), {}, FULL),  # (fails, as from scratch)
    (
        "deleted_with_its_children",
        lambda root: [(root / rel).unlink() for rel in ("models/wrapped.sql", "models/leaf.sql", "analyses/look.sql")],
        (),
        {},
        [],
    ),
    ("leaf_renamed", rename("analyses/look.sql", "analyses/look2.sql"), (), {}, ["analysis.demo.look2"]),
    ("var_read_by_one", lambda root: None, ("--vars", "{mat: table}"), {}, ["model.demo.by_var"]),
    ("env_read_by_one", lambda root: None, (), {"MK_INC_SUFFIX": "b"}, ["model.demo.by_env"]),
    ("target", lambda root: None, ("--target", "other"), {}, FULL),
    ("racy_same_content", touch("models/leaf.sql"), (), {}, []),
    (
        "package_model",  # a local package is installed as a link: the edit reaches the installed files
        replace_in("../acme/models/acme_events.sql", "select *", "select 1 as one, *"),
        (),
        {},
        ["model.acme.acme_events"],
    ),
    (
        "package_macro",
        replace_in("dbt_packages/acme/macros/acme.sql", "({{ x }} * 2)", "({{ x }} + {{ x }})"),
        (),
        {},
        ["model.acme.acme_summary"],
    ),
    ("semantic_yaml", replace_in("models/semantic.yml", "label: Revenue", "label: Income"), (), {}, FULL),
    (
        "semantic_model_read",  # a model a semantic model reads, edited: its node_relation stays right
        replace_in("models/facts.sql", "select id, cents", "select id, cents + 0 as cents"),
        (),
        {},
        ["model.demo.facts"],
    ),
    ("semantic_model_relation", lambda root: None, ("--vars", "{facts_suffix: b}"), {}, FULL),  # node_relation
    ("package_yaml", replace_in("dbt_packages/acme/models/staging/schema.yml", "The order's id", "Id"), (), {}, FULL),
]


def comparable(path: Path) -> dict:
    """manifest.json without what differs between any two parses (times, invocation ids)."""
    data = json.loads(path.read_text())
    for key in ("invocation_id", "generated_at", "invocation_started_at", "run_started_at"):
        data["metadata"].pop(key, None)

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "created_at"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(data)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_projects(tmp_path, root={"profiles.yml": PROFILES})
    write_files(root, ROOT_FILES)
    return root


@pytest.fixture
def reparsed(monkeypatch: pytest.MonkeyPatch) -> list:
    """What each parse did: None for a full parse, else the nodes it parsed again."""
    seen: list = []
    update = incremental.update

    def recording(parser):
        manifest = update(parser)
        seen.append(parser.reparsed if manifest is not None else None)
        return manifest

    monkeypatch.setattr(incremental, "update", recording)
    return seen


@pytest.mark.parametrize(("case", "edit", "args", "env", "expected"), EDITS, ids=[e[0] for e in EDITS])
def test_an_incremental_parse_equals_a_parse_from_scratch(
    project: Path, reparsed: list, case, edit, args, env, expected
) -> None:
    first = run_cli("parse", "--project-dir", str(project))
    assert first.exit_code == 0, first.output
    edit(project)
    incremental_run = run_cli("parse", "--project-dir", str(project), *args, env=env)
    assert reparsed[-1] == expected
    kept = comparable(project / "target" / "manifest.json") if incremental_run.exit_code == 0 else None
    scratch = run_cli("parse", "--no-partial-parse", "--project-dir", str(project), *args, env=env)
    assert (scratch.exit_code, said(scratch.output)) == (incremental_run.exit_code, said(incremental_run.output))
    if kept is not None:
        assert kept["semantic_models"] and kept["group_map"] == {"finance": ["metric.demo.revenue"]}
        kept_semantic = json.loads((project / "target" / "semantic_manifest.json").read_text())
    if kept is not None:
        assert kept == comparable(project / "target" / "manifest.json")
        assert kept_semantic == json.loads((project / "target" / "semantic_manifest.json").read_text())


def said(output: str) -> list[str]:
    """The console lines without their time and the line that tells how long parsing took."""
    return [line[10:] for line in output.splitlines() if "Performance info" not in line]


SEQUENCE = [
    "model_body", "model_config", "macro_used_by_some", "docs_block", "seed_content", "model_added", "leaf_renamed",
    "racy_same_content", "package_macro", "macro_called_through_another", "model_new_ref",
]  # fmt: skip


@pytest.mark.parametrize("spare_from", [fsio.SPARE_FROM, 0], ids=["temporary_file", "spare_copy"])
@pytest.mark.parametrize("overlay_limit", [snapshot.OVERLAY_LIMIT, 1], ids=["overlay", "snapshot_rewritten"])
def test_edits_one_after_another_stay_equal_to_a_parse_from_scratch(
    project: Path, reparsed: list, monkeypatch: pytest.MonkeyPatch, overlay_limit: int, spare_from: int
) -> None:
    """Also with manifest.json written through its spare copy (what a large project's parse does), whose
    unchanged entries are copied from the manifest.json the spare is then exchanged with."""
    monkeypatch.setattr(snapshot, "OVERLAY_LIMIT", overlay_limit)
    monkeypatch.setattr(fsio, "SPARE_FROM", spare_from)
    assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    steps = [next(e for e in EDITS if e[0] == case) for case in SEQUENCE]
    for _case, edit, _args, _env, _expected in steps:
        edit(project)
        assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    assert set(map(type, reparsed[1:])) == {list}  # every one incremental
    kept = comparable(project / "target" / "manifest.json")
    assert run_cli("parse", "--no-partial-parse", "--project-dir", str(project)).exit_code == 0
    assert kept == comparable(project / "target" / "manifest.json")
    for written in ("manifest.json", "modelkit_parse_state.json", "modelkit_manifest_index.marshal"):
        assert (project / "target" / fsio.spare_path(Path(written))).exists() == (spare_from == 0), written


def test_an_edit_that_breaks_the_project_reports_what_a_full_parse_reports(project: Path, reparsed: list) -> None:
    assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    replace_in("models/leaf.sql", "ref('wrapped')", "ref('nowhere')")(project)
    broken = run_cli("parse", "--project-dir", str(project))
    assert broken.exit_code == 2
    assert "nowhere" in broken.output and "leaf" in broken.output
    replace_in("models/leaf.sql", "ref('nowhere')", "ref('leaf')")(project)
    cycle = run_cli("parse", "--project-dir", str(project))
    assert cycle.exit_code == 2 and "cycle" in cycle.output.lower()


def test_a_snapshot_that_cannot_be_read_means_a_full_parse(project: Path, reparsed: list) -> None:
    assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    (project / "target" / "modelkit_parse_snapshot.pickle").write_bytes(b"not a pickle")
    replace_in("models/leaf.sql", "select *", "select id")(project)
    assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    assert reparsed[-1] is None
    assert (
        "select id"
        in json.loads((project / "target" / "manifest.json").read_text())["nodes"]["model.demo.leaf"]["raw_code"]
    )


def test_env_default_is_unchanged_when_the_variable_is_unset(project: Path, reparsed: list) -> None:
    os.environ.pop("MK_INC_SUFFIX", None)
    assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    assert run_cli("parse", "--project-dir", str(project), env={"MK_INC_SUFFIX": "a"}).exit_code == 0
    assert reparsed[-1] == ["model.demo.by_env"]  # unset and "a" render alike, but were read differently


BACKGROUND_SCRIPT = """
import json, sys
from modelkit.api.parsing import parse_summary
from modelkit.parse import snapshot
forks = []
fork = snapshot.run_forked
def counted(work):
    forked = fork(work)
    forks.append(forked is not None)
    return forked
snapshot.run_forked = counted
summary = parse_summary(sys.argv[1], profiles_dir=sys.argv[1])
print(json.dumps({"forks": forks, "summary": summary}))
"""


def test_a_snapshot_written_by_a_forked_process_serves_the_next_parse(project: Path, reparsed: list) -> None:
    # `modelkit parse` in a process of its own (one thread, no engine): the snapshot is written by a fork
    done = subprocess.run(
        [sys.executable, "-c", BACKGROUND_SCRIPT, str(project)], capture_output=True, text=True, cwd=REPO, check=True
    )
    report = json.loads(done.stdout)
    assert report["forks"] == [True] and "models" in report["summary"]
    assert {snapshot.SNAPSHOT_FILE, snapshot.FILES_FILE} <= {p.name for p in (project / "target").iterdir()}
    replace_in("models/leaf.sql", "select *", "select id")(project)
    assert run_cli("parse", "--project-dir", str(project)).exit_code == 0
    assert reparsed == [["model.demo.leaf"]]  # incremental, from the forked process's snapshot
    kept = comparable(project / "target" / "manifest.json")
    assert run_cli("parse", "--no-partial-parse", "--project-dir", str(project)).exit_code == 0
    assert kept == comparable(project / "target" / "manifest.json")


# What `parse` must not import: the services of the commands that compile, select, translate or run.
NOT_FOR_PARSE = (
    "modelkit.render.compiler",
    "modelkit.dialects.translator",
    "modelkit.graph.selector",
    "modelkit.execute.context",
    "modelkit.api.stategit",
)


def test_parse_after_an_edit_imports_none_of_the_other_commands_services(tmp_path: Path) -> None:
    root = write_files(tmp_path / "demo", {"dbt_project.yml": "name: demo\nprofile: demo\n", **ROOT_FILES,
                                            "profiles.yml": "demo:\n  target: dev\n  outputs:\n    dev:\n"
                                                            "      type: duckdb\n      path: demo.duckdb\n"})  # fmt: skip
    assert run_cli("parse", cwd=root).exit_code == 0
    with open(root / "models" / "priced.sql", "a", encoding="utf-8") as fh:
        fh.write("-- edited\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelkit.cli", "parse", "--profiles-dir", str(root)],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "modelkit.parse.incremental" in imported  # the edit was parsed here
    assert not imported & set(NOT_FOR_PARSE)
    assert run_cli("compile", "-s", "priced", cwd=root).exit_code == 0  # and the commands that use them still work
