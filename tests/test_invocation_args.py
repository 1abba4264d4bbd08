"""run_results.json's ``args`` and Jinja's ``invocation_args_dict``, against dbt's as recorded in
tests/data/dbt_run_results_args.json (and, with dbt installed, against dbt run side by side)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from unittest.mock import patch

import pytest
from realpkgs_support import dbt_executable, run_dbt

from modelkit.cli.main import main

RECORDED = json.loads((Path(__file__).parent / "data" / "dbt_run_results_args.json").read_text())
# Keys whose values describe the machine or the program rather than the flags.
PLACES = {"project_dir", "profiles_dir", "log_path", "invocation_command", "state"}
DIFFERENT_BY_DESIGN = {"send_anonymous_usage_stats"}  # modelkit sends nothing: false


def make(root: Path) -> Path:
    files = {
        "dbt_project.yml": "name: p\nversion: '1.0'\nprofile: p\n",
        "profiles.yml": (
            "p:\n  target: dev\n  outputs:\n"
            f"    dev: {{type: duckdb, path: '{root / 'p.duckdb'}', threads: 1}}\n"
            f"    other: {{type: duckdb, path: '{root / 'p.duckdb'}', threads: 2}}\n"
        ),
        "models/m.sql": "select 1 as id\n",
        "models/flags.sql": (
            "select '{{ invocation_args_dict.which }}' as which,"
            " '{{ (invocation_args_dict.select or []) | join(',') }}' as sel,"
            " '{{ invocation_args_dict.vars.a }}' as a,"
            " '{{ invocation_args_dict.invocation_command }}' as cmd,"
            " '{{ flags.INVOCATION_COMMAND }}' as flag_cmd, '{{ (flags.SELECT or []) | join(',') }}' as flag_sel\n"
        ),
        "seeds/s.csv": "id\n1\n",
        "models/s.yml": "models:\n  - name: m\n    columns:\n      - name: id\n        data_tests: [not_null]\n",
        "snapshots/sn.yml": (
            "snapshots:\n  - name: sn\n    relation: ref('m')\n"
            "    config: {unique_key: id, strategy: check, check_cols: all}\n"
        ),
        "macros/h.sql": "{% macro hello(x=1) %}{{ log('hi', info=True) }}{% endmacro %}\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def modelkit(root: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(root)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(root))
    results = root / "target" / "run_results.json"
    results.unlink(missing_ok=True)
    with patch.dict(os.environ), pytest.raises(SystemExit):  # main() exports the global flags it reads
        main(argv)
    return json.loads(results.read_text())["args"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make(tmp_path / "p")
    modelkit(root, ["seed"], monkeypatch)
    modelkit(root, ["run"], monkeypatch)
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(root / "target" / "manifest.json", state / "manifest.json")
    return root


def argv_of(text: str, root: Path) -> list[str]:
    if "--warn-error-options" in text:  # the one argument holding spaces and quotes
        head, _, value = text.partition(" --warn-error-options ")
        value, _, tail = value.partition("} ")
        return [*argv_of(head, root), "--warn-error-options", value + "}", *tail.split(" ")]
    parts = text.replace("<state>", str(root.parent / "state")).split(" ")
    for flag in ("--args", "--vars", "--inline"):  # values with one space: {x: 2}, select 1
        if flag in parts:
            i = parts.index(flag)
            parts[i + 1 : i + 3] = [" ".join(parts[i + 1 : i + 3])]
    return parts


@pytest.mark.parametrize("command", sorted(RECORDED["commands"]))
def test_args_have_dbt_keys_and_defaults(command: str, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = RECORDED["commands"][command]
    argv = argv_of(recorded["argv"], project)
    args = modelkit(project, argv, monkeypatch)
    expected = recorded["args"]
    assert sorted(args) == sorted(expected)
    for key, value in expected.items():
        if key not in PLACES | DIFFERENT_BY_DESIGN:
            assert args[key] == value, key
    assert args["invocation_command"] == "modelkit " + " ".join(argv)
    assert args["profiles_dir"] == str(project.resolve())
    if "project_dir" in expected:
        assert args["project_dir"] == str(project.resolve())
        assert args["log_path"] == str(project.resolve() / "logs")
    assert args["send_anonymous_usage_stats"] is False


NON_DEFAULT = [
    case
    for case in RECORDED["non_default"]
    if case["command"] != "compile" and "--show" not in case["argv"]  # no seed --show, compile --output
]


@pytest.mark.parametrize("case", NON_DEFAULT, ids=[c["argv"] for c in NON_DEFAULT])
def test_flags_change_what_dbt_changes(case: dict, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = argv_of(case["argv"], project)
    base = RECORDED["commands"][case["command"]]["args"]
    args = modelkit(project, argv, monkeypatch)
    for key in case["removed"]:
        assert key not in args
    assert sorted(args) == sorted({k for k in base if k not in case["removed"]} | set(case["changed"]))
    for key, value in case["changed"].items():
        if key == "state":
            assert args[key] == str(project.parent / "state")
        else:
            assert args[key] == value, key
    assert args["invocation_command"] == "modelkit " + " ".join(argv)


def test_templates_read_the_same_dict(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["run", "--select", "flags", "--vars", "{a: 7}"]
    args = modelkit(project, argv, monkeypatch)
    compiled = (project / "target" / "compiled" / "p" / "models" / "flags.sql").read_text().strip()
    command = "modelkit run --select flags --vars {a: 7}"
    assert compiled == (
        f"select 'run' as which, 'flags' as sel, '7' as a, '{command}' as cmd, '{command}' as flag_cmd,"
        " 'flags' as flag_sel"
    )
    assert args["invocation_command"] == command and args["vars"] == {"a": 7}


def test_python_api_writes_the_same_keys(project: Path) -> None:
    from modelkit import Project

    Project(project, profiles_dir=project).run(select=["m"], threads=2)
    args = json.loads((project / "target" / "run_results.json").read_text())["args"]
    assert sorted(args) == sorted({*RECORDED["commands"]["run"]["args"], "threads"})
    assert args["select"] == ["m"] and args["threads"] == 2 and args["invocation_command"] == "modelkit run"


@pytest.mark.skipif(dbt_executable() is None, reason="dbt is not installed (MODELKIT_DBT_EXECUTABLE)")
@pytest.mark.parametrize("argv", [["run", "--select", "m", "--full-refresh"], ["build", "--resource-type", "model"]])
def test_keys_match_dbt_side_by_side(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dbt_root = make(tmp_path / "dbt")
    done = run_dbt(str(dbt_executable()), argv, dbt_root, {})
    assert done.returncode == 0, done.stdout
    theirs = json.loads((dbt_root / "target" / "run_results.json").read_text())["args"]
    ours = modelkit(make(tmp_path / "mk"), argv, monkeypatch)
    assert sorted(ours) == sorted(theirs)
    same = set(theirs) - PLACES - DIFFERENT_BY_DESIGN - {"use_colors", "use_colors_file", "version_check"}
    assert {k: ours[k] for k in same} == {k: theirs[k] for k in same}
