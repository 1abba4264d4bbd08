"""The four artifacts against dbt's published schemas (dbt-artifacts-parser), and what dagster-dbt reads of them."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from artifact_schemas import schema_errors
from conftest import SAMPLE_PROJECT, run_cli
from dagster_dbt import DbtCliResource

MODELKIT = str(Path(sys.executable).with_name("modelkit"))
ARTIFACTS = ("manifest.json", "run_results.json", "catalog.json", "sources.json")


def test_all_four_artifacts_of_the_sample_project_follow_dbt_schemas(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    assert run_cli("build", cwd=root).exit_code == 0
    run_cli("source", "freshness", cwd=root)  # exit code depends on the data's age; the artifact is what counts
    assert run_cli("docs", "generate", cwd=root).exit_code == 0
    for name in ARTIFACTS:
        path = root / "target" / name
        assert path.is_file(), name
        assert schema_errors(path) == [], name
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    seed = manifest["nodes"]["seed.shop.raw_orders"]
    assert not {"language", "refs", "sources", "compiled_path"} & set(seed)  # fields dbt's schema forbids on seeds
    results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    assert all("compiled_path" not in r for r in results)
    sources = json.loads((root / "target" / "sources.json").read_text())
    assert isinstance(sources["results"], list) and sources["metadata"]["dbt_schema_version"].endswith(
        "sources/v3.json"
    )


def test_dagster_parse_call_writes_a_valid_manifest_in_its_own_target(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    (root / "modelkit.yml").rename(root / "dbt_project.yml")
    invocation = DbtCliResource(project_dir=str(root), dbt_executable=MODELKIT).cli(["parse", "--quiet"]).wait()
    assert invocation.is_successful()
    manifest = invocation.get_artifact("manifest.json")
    assert manifest["metadata"]["project_name"] == "shop"
    assert invocation.target_path != root / "target" and (invocation.target_path / "manifest.json").is_file()
    assert schema_errors(invocation.target_path / "manifest.json") == []
