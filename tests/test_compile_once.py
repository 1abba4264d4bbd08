"""`run` and `build` analyse the selected models' SQL before anything runs; a model whose render read
nothing that can change while the command lasts is then built from that SQL, not rendered again."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest
from conftest import make_project, query, run_cli, write_files

from modelkit.api.project import Project
from modelkit.render.compiler import Compiler

FILES = {
    "dbt_project.yml": "name: demo\nprofile: demo\n",
    "profiles.yml": """
        demo:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: target/demo.duckdb
    """,
    "seeds/codes.csv": "code,label\n1,one\n2,two\n",
    "macros/money.sql": "{% macro money(col) %}cast({{ col }} as decimal(18, 2)){% endmacro %}\n",
    "models/base.sql": "select code, label, 250 as cents from {{ ref('codes') }}\n",
    "models/priced.sql": "{{ config(materialized='table') }}\nselect code, {{ money('cents') }} as amount from {{ ref('base') }}\n",
    "models/logged.sql": "{% do log('rendering logged', info=True) %}select code from {{ ref('base') }}\n",
    "models/stamped.sql": "select '{{ run_started_at }}' as built_at, code from {{ ref('base') }}\n",
    "models/queried.sql": (
        "{% set n = run_query('select 41 + 1').columns[0].values()[0] if execute else 0 %}select {{ n }} as n\n"
    ),
    "models/counted.sql": (
        "{% set rel = adapter.get_relation(this.database, this.schema, 'priced') %}"
        "select {{ 1 if rel else 0 }} as priced_existed\n"
    ),
    "models/ephemeral_one.sql": "{{ config(materialized='ephemeral') }}\nselect code from {{ ref('base') }}\n",
    "models/from_ephemeral.sql": "select * from {{ ref('ephemeral_one') }}\n",
}
# rendered once: ahead of the run for the analysis, and built from that SQL
ONCE = {"base", "priced"}
# rendered again by the run: they log, read the time or the database, or inline an ephemeral model
AGAIN = {"logged", "stamped", "queried", "counted", "from_ephemeral"}


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each model is rendered by the commands that follow."""
    seen: Counter[str] = Counter()
    render = Compiler._render

    def counting(self: Compiler, node, event_time=None):  # type: ignore[no-untyped-def]
        if node.resource_type == "model":
            seen[node.name] += 1
        return render(self, node, event_time)

    monkeypatch.setattr(Compiler, "_render", counting)
    return seen


@pytest.mark.parametrize("command", ["run", "build"])
def test_a_pure_model_is_rendered_once_and_the_others_again(
    tmp_path: Path, renders: Counter[str], command: str
) -> None:
    root = write_files(tmp_path / "demo", FILES)
    assert run_cli("seed", "--project-dir", str(root)).exit_code == 0
    out = run_cli(command, "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert {name for name in ONCE if renders[name] == 1} == ONCE, renders
    assert {name for name in AGAIN if renders[name] >= 2} == AGAIN, renders
    # what the render logs shows once, from the render that builds it
    assert out.output.count("rendering logged") == 1, out.output
    db = root / "target" / "demo.duckdb"
    assert query(db, "select amount from main.priced order by code") == [(250,), (250,)]
    assert query(db, "select n from main.queried") == [(42,)]
    # rendered while it ran, after `priced` was built (they share no edge, so only a later render sees it)
    assert query(db, "select count(*) from main.from_ephemeral") == [(2,)]


def test_the_run_builds_what_it_would_render(tmp_path: Path, renders: Counter[str]) -> None:
    """The SQL reused is the SQL a fresh render gives: the same files are written to target/compiled/."""
    root = write_files(tmp_path / "demo", FILES)
    assert run_cli("seed", "--project-dir", str(root)).exit_code == 0
    assert run_cli("run", "--project-dir", str(root), "--static-analysis", "off").exit_code == 0
    compiled = root / "target" / "compiled" / "demo" / "models" / "priced.sql"
    rendered = compiled.read_text()
    compiled.unlink()
    renders.clear()
    assert run_cli("run", "--project-dir", str(root)).exit_code == 0
    assert renders["priced"] == 1
    assert compiled.read_text() == rendered


def test_a_node_with_other_code_under_the_same_id_is_rendered(tmp_path: Path) -> None:
    """Compiling a node whose code differs from the one settled (an older version of the model, as the
    impact of a change compiles it) renders it; the settled SQL stays the current model's."""
    root = write_files(tmp_path / "demo", FILES)
    with Project(root).session("run") as session:
        compiler = session.compiler
        compiler.track_inputs = True
        node = session.manifest.nodes["model.demo.base"]
        first = compiler.compile(node)
        assert compiler.compile(node) is first  # settled: not rendered again
        older = dataclasses.replace(node, raw_code="select 1 as code\n")
        assert compiler.compile(older).strip() == "select 1 as code"
        assert compiler.compile(node) is first


# -- models written in another dialect than the target's -------------------------------------------
TRANSLATED = {
    "modelkit.yml": "name: demo\ndialect: postgres\n",
    "models/parent.sql": "select 7 as x",
    "models/child.sql": "select x / 2 as half from {{ ref('parent') }}",
    "models/timed.sql": "select '{{ run_started_at }}' as started",
}


@pytest.fixture
def all_renders(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each model is rendered, by whatever asks (the dialect check, the run, a translation)."""
    seen: Counter[str] = Counter()
    rendered = Compiler._rendered

    def counting(self: Compiler, node, event_time=None, *, note=False):  # type: ignore[no-untyped-def]
        if node.resource_type == "model":
            seen[node.name] += 1
        return rendered(self, node, event_time, note=note)

    monkeypatch.setattr(Compiler, "_rendered", counting)
    return seen


def test_a_translated_pure_model_is_rendered_once_per_run(tmp_path: Path, all_renders: Counter[str]) -> None:
    """The dialect check renders and translates every model before the run; the run builds a pure one from
    that translation, and renders one that reads the time again."""
    root = make_project(tmp_path, TRANSLATED)
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    assert (all_renders["parent"], all_renders["child"]) == (1, 1), all_renders
    assert all_renders["timed"] >= 2, all_renders
    child = (root / "target/compiled/demo/models/child.sql").read_text()
    assert "x // 2" in child  # PostgreSQL's integer division, as DuckDB writes it
    db = root / "target" / "demo.duckdb"
    assert query(db, "select half from main.child") == [(3,)]


@pytest.mark.parametrize("flags", [(), ("--skip-unchanged",)])
def test_a_translation_follows_its_parents_columns_from_one_run_to_the_next(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    """A translated model's SQL is reused within a run only: its own file unchanged, the next run still
    translates it against its parent's new columns."""
    root = make_project(tmp_path, TRANSLATED)
    assert run_cli("run", *flags, cwd=root).exit_code == 0
    db = root / "target" / "demo.duckdb"
    assert query(db, "select half from main.child") == [(3,)]
    (root / "models/parent.sql").write_text("select 7.0 as x")  # numeric now: a true division
    result = run_cli("run", *flags, cwd=root)
    assert result.exit_code == 0, result.output
    assert "//" not in (root / "target/compiled/demo/models/child.sql").read_text()
    assert [float(v) for (v,) in query(db, "select half from main.child")] == [3.5]


MADE = {
    **TRANSLATED,
    "macros/halve.sql": "{% macro halve(col) %}{{ col }} / 2{% endmacro %}\n",
    "models/child.sql": "select {{ halve('x') }} as half, {{ var('extra', 0) }} as extra from {{ ref('parent') }}",
}
# (edit before the second run, its extra arguments, whether that run renders child, child's SQL has)
AGAIN_CASES = [
    ("nothing", {}, (), False, "x // 2 AS half, 0 AS extra"),
    ("own_file", {"models/child.sql": MADE["models/child.sql"] + "\nwhere x > 0"}, (), True, "WHERE"),
    ("macro_called", {"macros/halve.sql": "{% macro halve(col) %}{{ col }} / 4{% endmacro %}\n"}, (), True, "x // 4"),
    ("var_read", {}, ("--vars", "{extra: 5}"), True, "5 AS extra"),
    ("parent_columns", {"models/parent.sql": "select 7.0 as x"}, (), True, "x / 2 AS half"),
    ("parent_sql_same_columns", {"models/parent.sql": "select 8 as x"}, (), False, "x // 2 AS half"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "edit", "args", "rendered", "expected"), AGAIN_CASES, ids=[c[0] for c in AGAIN_CASES])
def test_the_next_run_finds_a_translation_without_rendering_while_its_inputs_are_the_same(
    tmp_path: Path, all_renders: Counter[str], case: str, edit: dict[str, str], args: tuple[str, ...],
    rendered: bool, expected: str,
) -> None:  # fmt: skip
    """A pure translated model is not rendered by the next run while what its SQL is made from (its file,
    the macros it calls, the vars it reads, ...) and the columns of what its translation reads are unchanged."""
    root = make_project(tmp_path, MADE)
    assert run_cli("run", cwd=root).exit_code == 0
    write_files(root, edit)
    all_renders.clear()
    result = run_cli("run", *args, cwd=root)
    assert result.exit_code == 0, result.output
    assert (all_renders["child"] > 0) == rendered, all_renders
    assert all_renders["timed"] >= 1  # it reads the time: rendered by every run
    assert expected in " ".join((root / "target/compiled/demo/models/child.sql").read_text().split())
    half = query(root / "target" / "demo.duckdb", "select half from main.child")[0][0]
    assert float(half) == {"macro_called": 1.0, "parent_columns": 3.5, "parent_sql_same_columns": 4.0}.get(case, 3.0)
