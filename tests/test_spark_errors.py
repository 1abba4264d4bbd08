"""Spark profiles that cannot work fail fast with exit code 2 and a message naming the profile: no
pyspark installed, an unreachable master or Spark Connect server, a bad method or database. None of
these starts a JVM."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import run_cli
from spark_support import SparkDirs, connect_output, free_port, session_output, spark_project

pytestmark = pytest.mark.spark
MODEL = {"models/m.sql": "select 1 as id\n"}


def dirs(tmp_path: Path) -> SparkDirs:
    return SparkDirs(tmp_path / "warehouse", tmp_path / "metastore")


def test_missing_pyspark_names_the_profile_and_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = spark_project(tmp_path / "p", session_output(dirs(tmp_path), "s"), MODEL)
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # `import pyspark` raises ImportError, as when not installed
    result = run_cli("run", cwd=root)
    assert result.exit_code == 2, result.output
    assert "The profile 'demo' (target 'dev'" in result.output
    assert "has type: spark" in result.output
    assert "pip install 'modelkit[spark]'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        pytest.param(
            lambda port: {"host": f"spark://127.0.0.1:{port}"},
            "the Spark master spark://127.0.0.1:{port} is unreachable",
            id="standalone-master",
        ),
        pytest.param(
            lambda port: connect_output(f"sc://127.0.0.1:{port}", "s"),
            "the Spark Connect server sc://127.0.0.1:{port} is unreachable",
            id="connect-server",
        ),
    ],
)
def test_an_unreachable_endpoint_fails_fast(tmp_path: Path, output, expected: str) -> None:
    pytest.importorskip("pyspark.sql.connect.session")
    port = free_port()  # nothing listens there
    profile = {**session_output(dirs(tmp_path), "s"), **output(port), "connect_timeout": 3}
    root = spark_project(tmp_path / "p", profile, MODEL)
    result = run_cli("run", cwd=root)
    assert result.exit_code == 2, result.output
    assert "Could not connect to Spark for profile 'demo' (target 'dev')" in result.output
    assert expected.format(port=port) in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ({"method": "thrift"}, "has method 'thrift'; modelkit supports: session, connect"),
        ({"method": "connect", "host": "localhost:15002"}, "its host must be a Spark Connect URL"),
        ({"database": "other"}, "on Spark, database must be omitted or have the same value as schema"),
        ({"schema": None}, "(type spark) must set `schema`"),
    ],
    ids=["method", "connect-host", "database", "schema"],
)
def test_a_bad_profile_is_a_usage_error(tmp_path: Path, output: dict, expected: str) -> None:
    pytest.importorskip("pyspark.sql.connect.session")
    profile = {**session_output(dirs(tmp_path), "s"), **output}
    root = spark_project(tmp_path / "p", profile, MODEL)
    result = run_cli("run", cwd=root)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "'demo'" in result.output
