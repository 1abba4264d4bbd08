"""A real SIGKILL in the middle of a Spark build, in processes of their own (each its own JVM and
embedded metastore, so this test needs no shared session): the killed run leaves its temporary table
registered in the metastore, and the next run drops it before it builds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from spark_support import START_TIMEOUT, SparkDirs, require_java, session_output, spark_project

pytestmark = pytest.mark.spark

FILES = {
    # a contracted table is declared under its temporary name first, then filled: slowly, here
    "models/t.sql": """\
        {{ config(materialized='table', contract={'enforced': true}) }}
        select id, reflect('java.lang.Thread', 'sleep', cast({{ var('sleep_ms', 0) }} as bigint)) as z
        from range(3)
    """,
    "models/_models.yml": """\
        version: 2
        models:
          - name: t
            columns:
              - {name: id, data_type: bigint}
              - {name: z, data_type: string}
    """,
}


def modelkit(root: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "modelkit.cli", *args],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "NO_COLOR": "1"},
            start_new_session=True,  # the JVM is in the same process group: killed with it
        )


def test_a_killed_run_leaves_a_temporary_table_that_the_next_run_drops(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    require_java()
    dirs = SparkDirs(tmp_path / "warehouse", tmp_path / "metastore")
    root = spark_project(tmp_path / "p", session_output(dirs, "killed"), FILES)
    schema_dir = dirs.warehouse / "killed.db"
    killed = modelkit(root, tmp_path / "killed.log", "run", "--vars", "sleep_ms: 600000")
    deadline = time.monotonic() + START_TIMEOUT
    try:  # the insert into the registered temporary table has started once its job writes files
        while not list(schema_dir.glob("t__dbt_tmp*/_temporary")):
            assert killed.poll() is None, (tmp_path / "killed.log").read_text(errors="replace")
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.5)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=60)
    left = [p.name for p in schema_dir.iterdir()]
    assert len(left) == 1 and left[0].startswith("t__dbt_tmp"), left

    rerun = modelkit(root, tmp_path / "rerun.log", "run")
    assert rerun.wait(timeout=START_TIMEOUT * 2) == 0, (tmp_path / "rerun.log").read_text(errors="replace")
    # the leftover was a table of the metastore, dropped with its files; t is built
    assert sorted(p.name for p in schema_dir.iterdir()) == ["t"]
    assert list((schema_dir / "t").glob("*.parquet"))
