"""The calls astronomer-cosmos makes of the dbt executable (LoadMode.DBT_LS and its operators), replayed.

Cosmos itself needs Airflow, too heavy for the test environment; these tests make its calls the way its
``DbtGraph.load_via_dbt_ls`` does and read the output the way its ``parse_dbt_ls_output`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLE_PROJECT

MODELKIT = str(Path(sys.executable).with_name("modelkit"))
PROFILES = """
shop:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{db}"
      schema: main
      threads: 1
"""


def cosmos_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "MODELKIT_"))}
    return {**env, "DBT_LOG_PATH": str(tmp / "logs"), "DBT_TARGET_PATH": str(tmp / "target")}


def test_dbt_ls_load_mode_as_cosmos_runs_it(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(SAMPLE_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "modelkit.yml").rename(project / "dbt_project.yml")
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "profiles.yml").write_text(PROFILES.format(db=tmp_path / "shop.duckdb"))
    work = tmp_path / "work"  # cosmos runs from a temporary folder of symlinks; cwd is that folder
    work.mkdir()
    flags = ["--project-dir", str(project), "--profiles-dir", str(profiles), "--profile", "shop", "--target", "dev"]
    env = cosmos_env(work)
    deps = subprocess.run([MODELKIT, "deps", *flags], cwd=work, env=env, capture_output=True, text=True)
    assert deps.returncode == 0 and "Error" not in deps.stdout
    ls = subprocess.run([MODELKIT, "ls", "--output", "json", "--select", "+customers", *flags],
                        cwd=work, env=env, capture_output=True, text=True)  # fmt: skip
    assert ls.returncode == 0 and "Error" not in ls.stdout, ls.stderr
    nodes = {}
    for line in ls.stdout.splitlines():
        node = json.loads(line)  # what parse_dbt_ls_output reads of each line
        nodes[node["unique_id"]] = (node["name"], node["resource_type"], node.get("depends_on", {}).get("nodes", []),
                                    node["original_file_path"], node.get("tags"), node["config"])  # fmt: skip
    assert "model.shop.customers" in nodes and "model.shop.stg_customers" in nodes
    assert nodes["model.shop.customers"][2]
    assert (work / "logs" / "modelkit.log").is_file()
    # then one task per node: `run --select <model>` with the same flags
    seed = subprocess.run([MODELKIT, "seed", *flags], cwd=work, env=env, capture_output=True, text=True)
    assert seed.returncode == 0, seed.stdout
    run = subprocess.run([MODELKIT, "run", "--select", "stg_customers", *flags], cwd=work, env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stdout
    assert json.loads((work / "target" / "run_results.json").read_text())["results"][0]["status"] == "success"


def test_deps_installs_listed_packages_with_cosmos_flags(tmp_path: Path) -> None:
    package = tmp_path / "helpers"
    (package / "macros").mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: helpers\nversion: '1.0'\n")
    (package / "macros" / "twice.sql").write_text("{% macro twice(x) %}({{ x }} * 2){% endmacro %}")
    project = tmp_path / "p"
    (project / "models").mkdir(parents=True)
    (project / "modelkit.yml").write_text("name: p\n")
    (project / "packages.yml").write_text(f"packages:\n  - local: {package}\n")
    (project / "models" / "m.sql").write_text("select {{ helpers.twice(21) }} as answer")
    flags = ["--project-dir", str(project), "--profiles-dir", str(project), "--target", "dev"]
    out = subprocess.run(
        [MODELKIT, "deps", *flags], cwd=tmp_path, capture_output=True, text=True, env=cosmos_env(tmp_path)
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (project / "dbt_packages" / "helpers" / "macros" / "twice.sql").is_file()
