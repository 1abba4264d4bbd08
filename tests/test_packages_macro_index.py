"""The macros of installed packages are remembered in ``dbt_packages/.modelkit-macros.json`` by each file's
content hash: a parse without ``target/`` reads them from there, and an edited, corrupt or stale entry is
never trusted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli
from packages_support import make_projects

INDEX = Path("dbt_packages") / ".modelkit-macros.json"
MACRO_FILE = "dbt_packages/acme/macros/acme.sql"


def compiled_summary(root: Path) -> str:
    shutil.rmtree(root / "target", ignore_errors=True)
    out = run_cli("compile", "-s", "acme_summary", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    return next((root / "target" / "compiled" / "acme").rglob("acme_summary.sql")).read_text()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_projects(tmp_path)


def test_first_parse_writes_the_index_of_package_macros(root: Path) -> None:
    assert "(2 * 2) as four" in compiled_summary(root)
    index = json.loads((root / INDEX).read_text())
    entry = index["files"]["dbt_packages/acme/macros/acme.sql"]
    assert entry["package"] == "acme"
    assert {m["name"] for m in entry["macros"]} >= {"acme_double", "greet"}
    assert not any(path.startswith(("macros/", "tests/")) for path in index["files"])  # root files: never


def test_a_parse_without_target_reads_the_index(root: Path) -> None:
    compiled_summary(root)
    index = json.loads((root / INDEX).read_text())
    entry = index["files"]["dbt_packages/acme/macros/acme.sql"]
    for macro in entry["macros"]:  # same hash: what the index says is what the next parse takes
        if macro["name"] == "acme_double":
            macro["macro_sql"] = "-- remembered"
    (root / INDEX).write_text(json.dumps(index))
    shutil.rmtree(root / "target")
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["macros"]["macro.acme.acme_double"]["macro_sql"] == "-- remembered"


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(
            lambda index_path, macro_path: macro_path.write_text(macro_path.read_text().replace("* 2", "* 3")),
            id="package-file-edited",
        ),
        pytest.param(lambda index_path, macro_path: index_path.write_text("{not json"), id="index-corrupt"),
        pytest.param(
            lambda index_path, macro_path: index_path.write_text(json.dumps({"version": 0})), id="old-version"
        ),
        pytest.param(lambda index_path, macro_path: index_path.unlink(), id="index-deleted"),
    ],
)
def test_a_stale_or_broken_index_is_never_trusted(root: Path, damage) -> None:
    compiled_summary(root)
    macro_path = (root / MACRO_FILE).resolve()
    damage(root / INDEX, macro_path)
    expected = "(2 * 3) as four" if "* 3" in macro_path.read_text() else "(2 * 2) as four"
    assert expected in compiled_summary(root)
    index = json.loads((root / INDEX).read_text())  # rewritten, valid again
    assert index["version"] == 1 and "dbt_packages/acme/macros/acme.sql" in index["files"]
