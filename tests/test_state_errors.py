"""Bad state input: each a clear error naming the flag or file, exit 2 (dbt's wording where dbt has one)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from state_support import mk, save_state, shop_project


def _folder(root: Path, files: dict[str, object]) -> str:
    folder = root / "saved"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data))
    return str(folder)


def _old_manifest(root: Path) -> str:
    assert mk(root, "parse").exit_code == 0
    data = json.loads((root / "target/manifest.json").read_text())
    data["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v3.json"
    return _folder(root, {"manifest.json": data})


def _results_only(root: Path) -> str:
    assert mk(root, "build").exit_code == 0
    (save_state(root) / "manifest.json").unlink()
    return str(root / "prod-state")


CASES = [
    ("empty --state folder", lambda r: ["ls", "-s", "state:modified", "--state", _folder(r, {})],
     ["The --state folder", "saved", "has no manifest.json"]),
    ("missing --state folder", lambda r: ["ls", "-s", "state:new", "--state", str(r / "nowhere")],
     ["The --state folder", "nowhere", "does not exist"]),
    ("run results but no manifest", lambda r: ["ls", "-s", "state:modified", "--state", _results_only(r)],
     ["Got a state selector method, but no comparison manifest", "prod-state", "has no manifest.json"]),
    ("incompatible manifest", lambda r: ["run", "-s", "state:modified", "--state", _old_manifest(r)],
     ['Expected a schema version of "https://schemas.getdbt.com/dbt/manifest/v12.json"', "saved/manifest.json",
      'but found "https://schemas.getdbt.com/dbt/manifest/v3.json"']),
    ("manifest that is not JSON", lambda r: ["ls", "-s", "state:new", "--state", _broken(r)],
     ["Could not read manifest.json", "as JSON"]),
    ("unknown state method", lambda r: ["ls", "-s", "state:modifed+"],
     ['Got an invalid selector "modifed", expected one of', "Did you mean 'modified'"]),
    ("state method without state", lambda r: ["build", "-s", "state:modified"],
     ["Got a state selector method, but no comparison manifest", "--state DIR", "--state-git REV"]),
    ("result method without state", lambda r: ["ls", "-s", "result:error"],
     ["No comparison run_results", "--state"]),
    ("unknown result status", lambda r: ["ls", "-s", "result:errored"],
     ["Invalid result status 'errored'", "Did you mean 'error'"]),
    ("defer without state", lambda r: ["run", "--defer"],
     ["--state or --defer-state are required for deferral, but neither was provided"]),
    ("clone without state", lambda r: ["clone"],
     ["--state or --defer-state are required for deferral, but neither was provided"]),
    ("retry with no previous run", lambda r: ["retry"], ["Could not find previous run in 'target' target directory"]),
    ("retry of a folder without run results", lambda r: ["retry", "--state", _folder(r, {})],
     ["Could not find previous run in", "saved"]),
    ("unknown git revision", lambda r: ["ls", "-s", "state:modified", "--state-git", "no-such-branch"],
     ["--state-git", "'no-such-branch' is not a git revision"]),
]  # fmt: skip


def _broken(root: Path) -> str:
    folder = root / "saved"
    folder.mkdir()
    (folder / "manifest.json").write_text("{not json")
    return str(folder)


@pytest.mark.parametrize("case, args, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_state_input_is_a_clear_error(tmp_path: Path, case: str, args, expected: list[str]) -> None:
    root = shop_project(tmp_path / "shop")
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # a repository with no such revision
    result = mk(root, *args(root))
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output, (case, text, result.output)
    assert "Traceback" not in result.output
    shutil.rmtree(root / "saved", ignore_errors=True)  # deliberately broken artifacts: not for the schema check


def test_state_and_target_folders_alike_warn(tmp_path: Path) -> None:
    root = shop_project(tmp_path / "shop")
    assert mk(root, "parse").exit_code == 0
    result = mk(root, "compile", "-s", "state:modified", "--state", "target")
    assert result.exit_code == 0, result.output
    assert "Warning: The state and target directories are the same: 'target'" in result.output
