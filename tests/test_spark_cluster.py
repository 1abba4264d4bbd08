"""The bundled sample project built on a Spark standalone cluster (``host: spark://...``).

A master and one worker start from the pyspark package's own jars on 127.0.0.1. The build runs in its
own process (its own JVM: the driver, with its own Derby metastore; this test process's session is
left alone), with the warehouse and the metastore named by ``server_side_parameters``, in folders the
driver and the executor share (one machine; a real cluster shares them through HDFS or an object store
and a Hive metastore service). Its tables are then compared with DuckDB's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SAMPLE_PROJECT, query, run_cli
from spark_support import SETTINGS, require_java, same_rows, start_standalone_cluster

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

TESTS = Path(__file__).parent
COMPARED = ["raw_orders", "stg_payments", "orders", "customers", "payments_ledger"]
# run in the build's own process: the build as the CLI runs it, then the compared tables read back
BUILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from conftest import run_cli
from spark_support import rows
from pathlib import Path
root = Path.cwd()
result = run_cli("build", "--exclude", "resource_type:test", "resource_type:unit_test")
tables = {name: [list(r) for r in rows(root, f"select * from main.{name}")] for name in sys.argv[2:]} if result.exit_code == 0 else {}
plain = lambda v: v.isoformat() if hasattr(v, "isoformat") else float(v)
Path("result.json").write_text(json.dumps({"exit_code": result.exit_code, "output": result.output, "tables": tables}, default=plain))
"""


def cluster_profile(url: str, folder: Path) -> dict[str, Any]:
    """The profile of the README's cluster example, with the test's folders and fast-starting JVMs."""
    return {
        "type": "spark",
        "method": "session",
        "host": url,
        "schema": "main",
        "threads": 1,
        "server_side_parameters": {
            **SETTINGS,
            "spark.executor.cores": "1",
            "spark.executor.memory": "512m",
            "spark.executor.extraJavaOptions": SETTINGS["spark.driver.extraJavaOptions"],
            "spark.sql.warehouse.dir": str(folder / "warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={folder / 'metastore' / 'metastore_db'};create=true"
            ),
        },
    }


@pytest.fixture(scope="module")
def cluster_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("pyspark")
    require_java()
    base = tmp_path_factory.mktemp("spark_cluster")
    cluster = start_standalone_cluster(base / "cluster")
    try:
        root = base / "shop"
        shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
        project_file = root / "modelkit.yml"
        project_file.write_text(project_file.read_text().replace("name: shop\n", "name: shop\nprofile: shop\n"))
        profile = {"shop": {"target": "cluster", "outputs": {"cluster": cluster_profile(cluster.url, base)}}}
        (root / "profiles.yml").write_text(yaml.safe_dump(profile))
        env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "NO_COLOR": "1"}
        process = subprocess.run(
            [sys.executable, "-c", BUILD, str(TESTS), *COMPARED], cwd=root, env=env, capture_output=True, timeout=900
        )
        assert process.returncode == 0, process.stderr.decode(errors="replace")[-3000:]
        result = json.loads((root / "result.json").read_text())
        executors = sorted((base / "cluster" / "work").glob("app-*/*/stderr"))
        master_log = (base / "cluster" / "master.log").read_text(errors="replace")
    finally:
        cluster.stop()
    duck_root = base / "duckdb"
    shutil.copytree(SAMPLE_PROJECT, duck_root, ignore=shutil.ignore_patterns("target", "logs"))
    duck = run_cli("build", "--exclude", "resource_type:test", "resource_type:unit_test", cwd=duck_root)
    assert duck.exit_code == 0, duck.output
    return {
        **result,
        "executors": executors,
        "master_log": master_log,
        "duckdb": duck_root / "target" / "shop.duckdb",
        "base": base,
    }


def test_sample_project_builds_on_a_standalone_cluster(cluster_build: dict[str, Any]) -> None:
    output = cluster_build["output"]
    assert cluster_build["exit_code"] == 0, output
    for line in (
        "OK loaded seed file main.raw_orders",
        "OK created sql view model main.stg_orders",
        "OK created sql table model main.customers",
        "OK created sql incremental model main.payments_ledger",
        "OK snapshotted main.customers_snapshot",
    ):
        assert line in output, line
    assert "ERROR=0" in output
    # the application ran on the cluster: the master gave it an executor on the worker, which ran tasks
    assert "Registering app modelkit" in cluster_build["master_log"]
    assert cluster_build["executors"], "no executor was launched on the worker"
    logs = [path.read_text(errors="replace") for path in cluster_build["executors"]]
    assert any("Finished task" in log for log in logs)
    # the seeds' rows reached the executor inside the SQL: no Python worker was needed there
    assert not any("PythonRunner" in log for log in logs)
    # the tables are where the profile's server_side_parameters put them
    assert (cluster_build["base"] / "warehouse" / "main.db" / "customers").is_dir()
    assert (cluster_build["base"] / "metastore" / "metastore_db").is_dir()


@pytest.mark.parametrize("name", COMPARED)
def test_cluster_tables_match_duckdb(cluster_build: dict[str, Any], name: str) -> None:
    spark_rows = cluster_build["tables"][name]
    duck_rows = [list(r) for r in query(cluster_build["duckdb"], f'select * from main."{name}"')]
    assert spark_rows and same_rows(duck_rows, spark_rows), f"{name}:\nDuckDB: {duck_rows}\nSpark: {spark_rows}"
