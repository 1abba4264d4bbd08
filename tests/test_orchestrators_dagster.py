"""dagster-dbt drives modelkit as it drives dbt: ``DbtCliResource(dbt_executable=<modelkit>)`` + ``@dbt_assets``.

dagster-dbt reads ``modelkit --version``, sets DBT_LOG_FORMAT=json, DBT_TARGET_PATH, DBT_LOG_PATH and
DBT_PROJECT_DIR, passes ``--select`` for the asset selection, turns LogModelResult / LogSeedResult /
LogSnapshotResult / LogTestResult events into materializations and asset checks, and reads the artifacts.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from artifact_schemas import artifacts_under, schema_errors
from conftest import SAMPLE_PROJECT, write_files
from dagster import AssetExecutionContext, AssetKey, materialize
from dagster_dbt import DbtCliResource, dbt_assets

MODELKIT = str(Path(sys.executable).with_name("modelkit"))


def dbt_format_copy(tmp_path: Path) -> Path:
    """The sample project as a dbt project (dagster-dbt looks for dbt_project.yml)."""
    root = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    (root / "modelkit.yml").rename(root / "dbt_project.yml")
    return root


def parsed_manifest(root: Path, *args: str) -> dict:
    subprocess.run([MODELKIT, "parse", "--project-dir", str(root), *args], check=True, capture_output=True)
    return json.loads((root / "target" / "manifest.json").read_text())


def expected_assets(manifest: dict) -> set[str]:
    """What dbt would materialize: every model that is not ephemeral, every seed and snapshot."""
    return {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed", "snapshot") and n["config"].get("materialized") != "ephemeral"
    }


def materialize_all(root: Path, manifest: dict, command: list[str], **resource_kwargs: str):
    @dbt_assets(manifest=manifest)
    def project_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(command, context=context).stream()

    resource = DbtCliResource(project_dir=str(root), dbt_executable=MODELKIT, **resource_kwargs)
    result = materialize([project_assets], resources={"dbt": resource}, raise_on_error=False)
    return project_assets, result


def test_version_is_read_as_dagster_reads_it() -> None:
    import re

    out = subprocess.run([MODELKIT, "--version"], check=True, capture_output=True, text=True).stdout
    first = re.search(r"(\d+\.\d+\.\d+)", out)  # dagster-dbt's regex: the first version on the output
    from modelkit import DBT_COMPAT_VERSION, __version__

    assert first is not None and first.group(1) == __version__
    assert DBT_COMPAT_VERSION in out


def test_dagster_materializes_every_sample_asset_and_check(tmp_path: Path) -> None:
    root = dbt_format_copy(tmp_path)
    manifest = parsed_manifest(root)
    assets_def, result = materialize_all(root, manifest, ["build"])
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == expected_assets(manifest)
    assert {k.to_user_string() for k in assets_def.keys} == materialized
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key, e.check_name) for e in evaluations} == {(k.asset_key, k.name) for k in assets_def.check_keys}
    assert len(evaluations) >= 15
    # one failing-rows test is configured to warn: dagster reports it as a failed check of WARN severity
    warned = [e for e in evaluations if not e.passed]
    assert [e.check_name for e in warned] == ["positive_stg_payments_amount"]
    # dagster-dbt gave each invocation its own target folder (DBT_TARGET_PATH) and log folder (DBT_LOG_PATH)
    runs = [p for p in (root / "target").iterdir() if p.is_dir() and (p / "run_results.json").is_file()]
    assert len(runs) == 1
    assert (runs[0] / "manifest.json").is_file() and (runs[0] / "modelkit.log").is_file()
    for path in artifacts_under(runs[0]):
        assert schema_errors(path) == []


SECOND_PROJECT = {
    "dbt_project.yml": """
        name: ledger
        profile: ledger
        flags:
          partial_parse: false
        seeds:
          ledger:
            +tags: [raw]
    """,
    "profiles/profiles.yml": """
        ledger:
          target: ci
          outputs:
            ci:
              type: duckdb
              path: "ledger.duckdb"
              schema: books
              threads: 2
    """,
    "seeds/accounts.csv": "id,name\n1,cash\n2,bank\n3,\n",
    "models/balances.sql": "select id, upper(name) as name from {{ ref('accounts') }}",
    "models/report.sql": "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('balances') }}",
    "models/schema.yml": """
        version: 2
        models:
          - name: balances
            columns:
              - name: id
                data_tests: [unique, not_null]
              - name: name
                data_tests: [not_null]
    """,
}


def test_dagster_on_a_second_project_reports_a_failing_test_and_skips_downstream(tmp_path: Path) -> None:
    root = write_files(tmp_path / "ledger", SECOND_PROJECT)
    manifest = parsed_manifest(root, "--profiles-dir", str(root / "profiles"))
    assets_def, result = materialize_all(root, manifest, ["build"], profiles_dir=str(root / "profiles"))
    assert not result.success  # a test failed: modelkit exits 1, as dbt does
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"accounts", "balances"}  # report is skipped: a test of balances failed
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"unique_balances_id": True, "not_null_balances_id": True, "not_null_balances_name": False}
    assert (root / "ledger.duckdb").is_file()


def test_dagster_subset_selection_runs_only_the_selected_assets(tmp_path: Path) -> None:
    root = dbt_format_copy(tmp_path)
    manifest = parsed_manifest(root)

    @dbt_assets(manifest=manifest)
    def shop_assets(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    resource = DbtCliResource(project_dir=str(root), dbt_executable=MODELKIT)
    result = materialize(
        [shop_assets],
        resources={"dbt": resource},
        selection=[AssetKey("raw_customers"), AssetKey("stg_customers")],
    )
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"raw_customers", "stg_customers"}
