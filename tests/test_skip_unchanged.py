"""`run --skip-unchanged`: relations built from the same inputs, and left as they were, are not built again."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, write_files

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
    "models/base.sql": "select * from {{ ref('codes') }}\n",
    "models/middle.sql": "{{ config(materialized='table') }}\nselect code, label from {{ ref('base') }}\n",
    "models/leaf.sql": "select * from {{ ref('middle') }}\n",
    "models/other.sql": "select 1 as one\n",
    "models/growing.sql": "{{ config(materialized='incremental') }}\nselect * from {{ ref('other') }}\n",
    "models/after_growing.sql": "select * from {{ ref('growing') }}\n",
    "models/from_source.sql": "select * from {{ source('raw', 'events') }}\n",
    "models/from_fresh_source.sql": "select * from {{ source('raw', 'loaded') }}\n",
    "models/sources.yml": """
        sources:
          - name: raw
            schema: raw
            tables:
              - name: events
              - name: loaded
                loaded_at_field: loaded_at
    """,
}
ALL_MODELS = {"base", "middle", "leaf", "other", "growing", "after_growing", "from_source", "from_fresh_source"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "demo", FILES)
    (root / "target").mkdir()
    con = duckdb.connect(str(root / "target" / "demo.duckdb"))
    con.execute("create schema raw; create table raw.events as select 1 as id")
    con.execute("create table raw.loaded as select 1 as id, timestamp '2024-01-01' as loaded_at")
    con.close()
    assert run_cli("seed", "--project-dir", str(root)).exit_code == 0
    first = run_cli("run", "--project-dir", str(root))
    assert first.exit_code == 0, first.output
    return root


def statuses(root: Path) -> dict[str, str]:
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results}


def rebuilt(root: Path, *args: str, env: dict[str, str] | None = None) -> set[str]:
    out = run_cli("run", "--project-dir", str(root), *args, env=env)
    assert out.exit_code == 0, out.output
    return {name for name, status in statuses(root).items() if status != "no-op"}


def sql(root: Path, statement: str) -> None:
    con = duckdb.connect(str(root / "target" / "demo.duckdb"))
    con.execute(statement)
    con.close()


def reseed(root: Path, text: str) -> None:
    write_files(root, {"seeds/codes.csv": text})
    assert run_cli("seed", "--project-dir", str(root)).exit_code == 0


ALWAYS = {"growing", "after_growing", "from_source"}  # new data may have come: always run

CASES = [
    ("nothing_changed", lambda root: None, set()),
    ("leaf_edited", lambda root: write_files(root, {"models/leaf.sql": "select code from {{ ref('middle') }}\n"}), {"leaf"}),
    (
        "middle_edited",
        lambda root: write_files(root, {"models/middle.sql": "{{ config(materialized='table') }}\nselect code from {{ ref('base') }}\n"}),
        {"middle", "leaf"},
    ),
    (
        "config_only",
        lambda root: write_files(root, {"models/middle.sql": "{{ config(materialized='view') }}\nselect code, label from {{ ref('base') }}\n"}),
        {"middle", "leaf"},
    ),
    ("relation_dropped", lambda root: sql(root, "drop view main.leaf"), {"leaf"}),
    # built again from the same inputs, it is as it was: what reads it need not be built again
    ("rows_added_outside", lambda root: sql(root, "insert into main.middle values (3, 'three')"), {"middle"}),
    ("column_added_outside", lambda root: sql(root, "alter table main.middle add column extra int"), {"middle"}),
    ("fresh_source_loaded", lambda root: sql(root, "insert into raw.loaded values (2, timestamp '2024-02-01')"), {"from_fresh_source"}),
    ("seed_edited", lambda root: reseed(root, "code,label\n1,uno\n"), {"base", "middle", "leaf"}),
]  # fmt: skip


@pytest.mark.parametrize("threads", ["1", "4"])
@pytest.mark.parametrize(("case", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_only_what_changed_and_what_is_downstream_runs(project: Path, case, edit, expected, threads) -> None:
    """With several threads, what is left as it is is decided by the worker taking it: the same nodes."""
    edit(project)
    assert rebuilt(project, "--skip-unchanged", "--threads", threads) == expected | ALWAYS
    assert rebuilt(project, "--skip-unchanged", "--threads", threads) == ALWAYS  # and then all of it is recorded


def test_a_model_left_as_it_is_below_a_failing_one_is_skipped(project: Path) -> None:
    """A failed parent skips its children, also those that would otherwise be left as they are."""
    sql(project, "drop table main.middle")  # middle is built again...
    (project / "models" / "middle.sql").write_text(  # ...and fails as it runs
        "{{ config(materialized='table') }}\nselect cast(label as integer) as code, label from {{ ref('base') }}\n"
    )
    out = run_cli("run", "--project-dir", str(project), "--skip-unchanged", "--threads", "4")
    assert out.exit_code == 1
    found = statuses(project)
    assert found["middle"] == "error" and found["leaf"] == "skipped", found
    assert found["other"] == "no-op" and found["base"] == "no-op", found


def test_no_op_lines_and_results_are_dbts(project: Path) -> None:
    out = run_cli("run", "--project-dir", str(project), "--skip-unchanged", "-s", "leaf")
    assert out.exit_code == 0, out.output
    assert "NO-OP sql view model main.leaf" in out.output and "[NO-OP in " in out.output
    assert "NO-OP=1 TOTAL=1" in out.output
    result = json.loads((project / "target" / "run_results.json").read_text())["results"][0]
    assert (result["status"], result["message"], result["adapter_response"]) == ("no-op", "NO-OP", {})


def test_without_the_flag_everything_runs_and_the_setting_turns_it_on(project: Path) -> None:
    assert rebuilt(project) == ALL_MODELS
    write_files(project, {"dbt_project.yml": FILES["dbt_project.yml"] + "flags:\n  skip_unchanged: true\n"})
    assert rebuilt(project) == ALWAYS
    assert rebuilt(project, env={"MODELKIT_SKIP_UNCHANGED": "false"}) == ALL_MODELS
    assert rebuilt(project, "--no-skip-unchanged") == ALL_MODELS
    assert rebuilt(project, "--full-refresh") == ALL_MODELS


def test_strict_skips_incremental_models_too(project: Path) -> None:
    assert rebuilt(project, "--skip-unchanged=strict") == ALWAYS  # recorded with their strict fingerprints now
    assert rebuilt(project, "--skip-unchanged=strict") == {"from_source"}


def test_build_skips_models_and_still_runs_their_tests(project: Path) -> None:
    write_files(
        project,
        {
            "models/tests.yml": "models:\n  - name: leaf\n    columns:\n      - name: code\n        data_tests: [not_null]\n"
        },
    )
    out = run_cli("build", "--project-dir", str(project), "--skip-unchanged")
    assert out.exit_code == 0, out.output
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    found = {r["unique_id"]: r["status"] for r in results}
    assert found["model.demo.leaf"] == "no-op" and found["seed.demo.codes"] == "no-op", found
    assert [s for uid, s in found.items() if uid.startswith("test.demo.not_null_leaf_code")] == ["pass"]


# -- models not rendered again: what their SQL is made from is recorded ------------------------------------
RENDER_FILES = {
    "dbt_project.yml": "name: demo\nprofile: demo\nvars:\n  threshold: 10\n",
    "profiles.yml": FILES["profiles.yml"],
    "macros/money.sql": "{% macro money(col) %}cast({{ col }} as decimal(18, 2)){% endmacro %}\n",
    "macros/other.sql": "{% macro other() %}1{% endmacro %}\n",
    "models/base.sql": "select 1 as id, 250 as cents\n",
    "models/priced.sql": "select id, {{ money('cents') }} as amount from {{ ref('base') }}\n",
    "models/plain.sql": "select id from {{ ref('base') }}\n",
    "models/by_var.sql": "select id, {{ var('threshold') }} as threshold from {{ ref('base') }}\n",
    "models/by_env.sql": "select '{{ env_var('MK_SKIP_LABEL', 'none') }}' as label\n",
    "models/stamped.sql": "select '{{ run_started_at }}' as built_at\n",
    "models/queried.sql": (
        "{% set n = run_query('select 1').columns[0].values()[0] if execute else 0 %}select {{ n }} as n\n"
    ),
    "models/leaf.sql": "select * from {{ ref('priced') }}\n",
}
ALWAYS_RENDERED = {"stamped", "queried"}  # their SQL may change from one run to the next...
ALWAYS_BUILT = {"stamped"}  # ...and this one's does


@pytest.fixture
def rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """A built project, and the models each later command renders (the list is cleared before each)."""
    from modelkit.render.compiler import Compiler

    root = write_files(tmp_path / "demo", RENDER_FILES)
    assert run_cli("run", "--project-dir", str(root)).exit_code == 0
    seen: list[str] = []
    render = Compiler._render

    def recording(self, node, event_time=None):
        seen.append(node.name)
        return render(self, node, event_time)

    monkeypatch.setattr(Compiler, "_render", recording)
    return root, seen


def runs(root: Path, seen: list[str], env: dict[str, str] | None = None, *args: str) -> tuple[set[str], set[str]]:
    """(the models rendered, the models built) by `run --skip-unchanged`."""
    seen.clear()
    built = rebuilt(root, "--skip-unchanged", *args, env=env)
    return set(seen), built


RENDER_CASES = [
    # (id, edit, environment, models whose SQL is made from something new, models built again)
    ("nothing", lambda root: None, None, set(), set()),
    (
        "macro_edited",
        lambda root: write_files(root, {"macros/money.sql": RENDER_FILES["macros/money.sql"].replace("18, 2", "20, 4")}),
        None,
        {"priced"},
        {"priced", "leaf"},
    ),
    ("upstream_edited", lambda root: write_files(root, {"models/base.sql": "select 2 as id, 250 as cents\n"}), None, {"base"}, {"base", "priced", "plain", "by_var", "leaf"}),  # noqa: E501
    ("var_changed", lambda root: None, None, {"by_var"}, {"by_var"}),  # with --vars below
    ("env_changed", lambda root: None, {"MK_SKIP_LABEL": "set"}, {"by_env"}, {"by_env"}),
    ("relation_dropped", lambda root: sql(root, "drop view main.plain"), None, {"plain"}, {"plain"}),
    (
        "macro_added",  # what names resolve to may change: every model is rendered again
        lambda root: write_files(root, {"macros/more.sql": "{% macro more() %}2{% endmacro %}\n"}),
        None,
        {"base", "priced", "plain", "by_var", "by_env", "leaf"},
        set(),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "edit", "env", "rendered", "built"), RENDER_CASES, ids=[c[0] for c in RENDER_CASES])
def test_a_model_is_rendered_again_only_when_what_its_sql_is_made_from_changed(
    rendering: tuple[Path, list[str]], case, edit, env, rendered, built
) -> None:
    root, seen = rendering
    runs(root, seen)  # records what each model's SQL was made from
    assert runs(root, seen) == (ALWAYS_RENDERED, ALWAYS_BUILT)
    edit(root)
    args = ("--vars", "{threshold: 20}") if case == "var_changed" else ()
    # built ones are rendered (their SQL is run), the others only when what their SQL is made from changed
    assert runs(root, seen, env, *args) == (rendered | built | ALWAYS_RENDERED, built | ALWAYS_BUILT)
    assert runs(root, seen, env, *args) == (ALWAYS_RENDERED, ALWAYS_BUILT)  # recorded again


def test_a_model_not_rendered_again_is_built_from_the_sql_it_would_render(rendering: tuple[Path, list[str]]) -> None:
    root, seen = rendering
    runs(root, seen)
    sql(root, "drop view main.priced")
    assert runs(root, seen) == ({"priced"} | ALWAYS_RENDERED, {"priced"} | ALWAYS_BUILT)
    con = duckdb.connect(str(root / "target" / "demo.duckdb"))
    assert con.execute("select amount from main.priced").fetchall() == [(250,)]
    con.close()
