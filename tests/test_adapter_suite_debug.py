"""dbt's adapter test suite ``dbt_debug``, run through ``modelkit debug`` on DuckDB.

Ported from dbt-tests-adapter's ``dbt_debug/test_dbt_debug.py``: ``BaseDebug*`` classes that do not
depend on a PostgreSQL server (``test_nopass`` and ``test_wronguser`` check a password and a user,
which a DuckDB profile has not). As the suite does, each case reads the lines of the output and the
command's exit code (0 when every check passed, 1 when one failed, 2 for a usage error).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import run_cli
from suite_support import dbt_project, run

MODEL_SQL = "seled 1 as id\n"  # the suite's model: invalid SQL, which debug never reads


def _project(tmp_path: Path, config: dict | None = None) -> Path:
    root = dbt_project(tmp_path / "test", {"models/model.sql": MODEL_SQL}, config)
    profiles = yaml.safe_load((root / "profiles.yml").read_text())
    profiles["test"]["outputs"]["none_target"] = None  # the suite's profile has an empty output too
    (root / "profiles.yml").write_text(yaml.safe_dump(profiles))
    return root


def _assert_got_value(output: str, linepat: re.Pattern, result: str) -> None:
    """BaseDebug.assertGotValue: every line matching ``linepat`` contains ``result``; one must match."""
    lines = [line for line in output.split("\n") if linepat.match(line)]
    assert lines, f"linepat {linepat} not found in stdout: {output}"
    for line in lines:
        assert result in line


def _check_project(output: str, msg: str = "ERROR invalid") -> None:
    """BaseDebug.check_project, on lines without their timestamps."""
    checked = 0
    for line in output.split("\n"):
        text = re.sub(r"^\d\d:\d\d:\d\d\s+", "", line).strip()
        if text.startswith("dbt_project.yml file"):
            assert msg in text
            checked += 1
        elif text.startswith("profiles.yml file"):
            assert "ERROR invalid" not in text
    assert checked == 1


@pytest.mark.parametrize("profile", [None, '{{ "te" ~ "st" }}'])  # BaseDebugPostgres / BaseDebugProfileVariable
def test_ok(tmp_path: Path, profile: str | None) -> None:
    root = _project(tmp_path, {"profile": profile} if profile else None)
    output = run(root, "debug")
    assert "ERROR" not in output
    assert "All checks passed!" in output


def test_connection_flag(tmp_path: Path) -> None:
    """``--connection`` checks the connection alone; its failures are still reported."""
    root = _project(tmp_path)
    out = run(root, "debug", "--connection")
    assert "Skipping steps before connection verification" in out
    out = run(root, "debug", "--connection", "--target", "NONE", expect=1)
    assert "1 check failed" in out
    assert "The profile 'test' does not have a target named 'NONE'." in out
    out = run_without_profiles_dir(root, "debug", "--connection", "--profiles-dir", "NONE")
    assert "Using profiles dir at NONE" in out
    assert "1 check failed" in out
    assert "dbt looked for a profiles.yml file in NONE" in out


def run_without_profiles_dir(root: Path, *args: str) -> str:
    """``modelkit ARGS`` with the suite's own --profiles-dir (suite_support.run passes the project's)."""
    result = run_cli(*args, "--project-dir", str(root), cwd=root)
    assert result.exit_code == 1, result.output
    return result.output


def test_empty_target(tmp_path: Path) -> None:
    root = _project(tmp_path)
    output = run(root, "debug", "--target", "none_target", expect=1)
    _assert_got_value(output, re.compile(r".*output 'none_target'"), "misconfigured")


@pytest.mark.parametrize(
    "project_text",
    ["", yaml.safe_dump({"invalid-key": "not a valid key so this is bad project"})],
    ids=["empty_project", "badproject"],
)
def test_invalid_project(tmp_path: Path, project_text: str) -> None:
    """BaseDebugInvalidProjectPostgres.test_empty_project / test_badproject."""
    root = _project(tmp_path)
    (root / "dbt_project.yml").write_text(project_text)
    output = run(root, "debug", "--profile", "test", expect=1)
    _check_project(output)


def test_not_found_project(tmp_path: Path) -> None:
    """A --project-dir that does not exist is a usage error (dbt's DbtUsageException)."""
    root = _project(tmp_path)
    assert run_cli("debug", "--project-dir", "nopass", cwd=root).exit_code == 2


def test_invalid_project_outside_current_dir(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "custom").mkdir()
    (root / "custom" / "dbt_project.yml").write_text(yaml.safe_dump({"invalid-key": "not a valid key in this project"}))
    output = run(root / "custom", "debug", "--profiles-dir", str(root), expect=1)
    _check_project(output)


def test_profile_not_found(tmp_path: Path) -> None:
    root = _project(tmp_path)
    out = run(root, "debug", "--connection", "--profile", "NONE", expect=1)
    assert "Profile loading failed for the following reason" in out
    assert "Could not find profile named 'NONE'" in out
