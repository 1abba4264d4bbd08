"""Spark for the tests marked ``spark``: one local session per test process, one Spark Connect server.

Every spark test runs in the xdist group ``spark`` (one worker: ``--dist loadgroup``), so a test run
starts one local ``local[2]`` session (its JVM, a warehouse folder and an embedded Derby metastore in
the worker's temporary folder; Derby admits one JVM per metastore) and, for the ``connect`` tests, one
Spark Connect server, started from the pyspark package's own jars.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import write_files

# Settings every test session shares: the adapter reuses one session for identical settings.
SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    # short runs of small queries: the JIT's first tier only and a serial collector start much faster
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
START_TIMEOUT = 240.0  # a JVM on a busy 2-core machine
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class SparkDirs:
    warehouse: Path
    metastore: Path


def require_java() -> None:
    """Skip when no Java runtime can run Spark (``.ci/run`` installs one)."""

    home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (home and Path(home, "bin", "java").exists()):
        pytest.skip("no Java runtime (java on PATH or JAVA_HOME) to run Spark")


def session_output(dirs: SparkDirs, schema: str, **extra: Any) -> dict[str, Any]:
    """A ``method: session`` profile output on ``local[2]`` with the test process's folders."""
    return {
        "type": "spark",
        "method": "session",
        "host": "local[2]",
        "schema": schema,
        "threads": 2,
        "warehouse_dir": str(dirs.warehouse),
        "metastore_dir": str(dirs.metastore),
        "server_side_parameters": dict(SETTINGS),
        **extra,
    }


def connect_output(url: str, schema: str, **extra: Any) -> dict[str, Any]:
    return {"type": "spark", "method": "connect", "host": url, "schema": schema, "threads": 2, **extra}


def spark_project(
    root: Path,
    output: Mapping[str, Any],
    files: Mapping[str, str],
    *,
    project: Mapping[str, Any] | None = None,
) -> Path:
    """A dbt project named ``demo`` at ``root`` whose profile is ``output``."""
    config: dict[str, Any] = {"name": "demo", "version": "1.0", "profile": "demo", **(project or {})}
    write_files(
        root,
        {
            "dbt_project.yml": yaml.safe_dump(config),
            "profiles.yml": yaml.safe_dump({"demo": {"target": "dev", "outputs": {"dev": dict(output)}}}),
            **files,
        },
    )
    return root


def adapter_for(root: Path) -> Any:
    """An opened spark adapter for the project at ``root`` (it reuses this process's session)."""
    from modelkit.adapters import get_adapter
    from modelkit.project.profiles import load_target
    from modelkit.project.project import load_project

    adapter = get_adapter(load_target(load_project(root), profiles_dir=root))
    adapter.open()
    return adapter


def rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` run through the project's own profile."""
    adapter = adapter_for(root)
    try:
        return [tuple(r) for r in adapter.execute(sql, fetch=True).rows]
    finally:
        adapter.close()


def relations(root: Path, schema: str) -> dict[str, str]:
    """name -> 'table' or 'view' of a schema, asked of the metastore (no cache)."""
    adapter = adapter_for(root)
    try:
        return {r.identifier: str(r.type) for r in adapter.list_relations(None, schema, cached=False)}
    finally:
        adapter.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Ask Linux to end the server (SIGTERM) when the test process exits, however it exits."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


@dataclass
class ConnectServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def start_connect_server(folder: Path) -> ConnectServer:
    """A Spark Connect server on ``local[2]`` at a free port, its warehouse and metastore in ``folder``.

    It runs the pyspark package's ``spark-submit`` with the Spark Connect jar it bundles; the server
    is its own process group and dies with the test process.
    """
    import pyspark

    home = Path(pyspark.__file__).parent
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log4j = folder / "log4j2.properties"
    log4j.write_text("rootLogger.level = error\n", encoding="utf-8")
    conf = {
        "spark.connect.grpc.binding.port": str(port),
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={folder / 'metastore_db'};create=true",
        **SETTINGS,
        "spark.driver.extraJavaOptions": f"{SETTINGS['spark.driver.extraJavaOptions']} -Dderby.system.home={folder} "
        f"-Dlog4j2.configurationFile=file:{log4j}",
    }
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master",
        "local[2]",
        *[arg for name, value in conf.items() for arg in ("--conf", f"{name}={value}")],
    ]
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    log = folder / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True, preexec_fn=_die_with_parent
        )
    server = ConnectServer(f"sc://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Spark Connect server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"the Spark Connect server did not listen within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


def _normal(value: Any) -> Any:
    if isinstance(value, (Decimal, float)):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _key(row: list[Any]) -> tuple[str, ...]:
    return tuple(f"{v:.6f}" if isinstance(v, float) else repr(v) for v in row)


def same_rows(expected: list[list[Any]], actual: list[list[Any]], tolerance: float = 1e-9) -> bool:
    """The same multiset of rows, floats equal within ``tolerance``."""
    left = sorted(([_normal(v) for v in row] for row in expected), key=_key)
    right = sorted(([_normal(v) for v in row] for row in actual), key=_key)
    if len(left) != len(right):
        return False
    for a_row, b_row in zip(left, right):
        for a, b in zip(a_row, b_row):
            if isinstance(a, float) and isinstance(b, (float, int)) and not isinstance(b, bool):
                if not math.isclose(a, float(b), rel_tol=tolerance, abs_tol=tolerance):
                    return False
            elif a != b:
                return False
    return True
