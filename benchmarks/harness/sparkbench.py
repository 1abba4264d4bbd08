"""Spark for the engine benchmark: a ``local[2]`` session profile, its seeded state, and the pyspark floor.

The profile is modelkit's ``type: spark``, ``method: session``, ``host: local[2]`` with its own warehouse
folder and embedded Derby metastore, and the settings the tests use (tests/spark_support.py: two shuffle
partitions, no UI, the JVM's first JIT tier and a serial collector). The seeds are loaded once with
``modelkit seed``; the warehouse and metastore folders are then copied aside and put back, at the same paths
(the metastore records absolute locations), before every measured run.

The floor (:func:`floor_main`, run in a process of its own with the Python that has pyspark) opens a session
with the same settings and runs the compiled models through ``spark.sql()``, one statement after another.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from .enginefloor import spark_floor

PROFILE = "bench"
SCHEMA = "bench"
MASTER = "local[2]"
# As tests/spark_support.py: modelkit's adapter adds the metastore's Java options to these.
SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
# What modelkit's adapter sets on every session (modelkit/adapters/spark_connect.py, DEFAULT_RUNTIME_CONF).
RUNTIME = {"spark.sql.ansi.enabled": "false", "spark.sql.sources.partitionOverwriteMode": "dynamic"}
LOG4J = "rootLogger.level = fatal\n"


class SparkState:
    """The warehouse and metastore folders of one project, and their seeded copy."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.live = folder / "live"
        self.seeded = folder / "seeded"

    @property
    def warehouse(self) -> Path:
        return self.live / "warehouse"

    @property
    def metastore(self) -> Path:
        return self.live / "metastore"

    def output(self, threads: int) -> dict[str, Any]:
        return {
            "type": "spark",
            "method": "session",
            "host": MASTER,
            "schema": SCHEMA,
            "threads": threads,
            "warehouse_dir": str(self.warehouse),
            "metastore_dir": str(self.metastore),
            "server_side_parameters": dict(SETTINGS),
        }

    def write_profile(self, root: Path, threads: int) -> None:
        profile = {PROFILE: {"target": "dev", "outputs": {"dev": self.output(threads)}}}
        (root / "profiles.yml").write_text(yaml.safe_dump(profile))

    def empty(self) -> None:
        shutil.rmtree(self.live, ignore_errors=True)
        shutil.rmtree(self.seeded, ignore_errors=True)

    def keep_seeded(self) -> None:
        shutil.rmtree(self.seeded, ignore_errors=True)
        shutil.copytree(self.live, self.seeded)

    def restore(self) -> None:
        """The folders as they were right after the seeds were loaded."""
        shutil.rmtree(self.live, ignore_errors=True)
        shutil.copytree(self.seeded, self.live)


def session_conf(warehouse: Path, metastore: Path) -> dict[str, str]:
    """The settings modelkit's adapter gives a ``method: session`` profile like :meth:`SparkState.output`'s."""
    log4j = metastore / "log4j2.properties"
    return {
        "spark.app.name": "floor",
        "spark.ui.showConsoleProgress": "false",
        **RUNTIME,
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
        **SETTINGS,
        "spark.driver.extraJavaOptions": f"{SETTINGS['spark.driver.extraJavaOptions']} -Dderby.system.home={metastore} "
        f"-Dlog4j2.configurationFile=file:{log4j}",
    }


def open_session(warehouse: Path, metastore: Path) -> Any:
    from pyspark import SparkConf, SparkContext  # pyspark: only in the floor's own process
    from pyspark.sql import SparkSession  # likewise

    metastore.mkdir(parents=True, exist_ok=True)
    (metastore / "log4j2.properties").write_text(LOG4J)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = SparkConf()
    for name, value in session_conf(warehouse, metastore).items():
        conf.set(name, value)
    conf.setMaster(MASTER)
    session = SparkSession(SparkContext.getOrCreate(conf))
    session.sql("show schemas").collect()  # the metastore opens here, as in modelkit's adapter
    return session


def floor_main(manifest: Path, warehouse: Path, metastore: Path, ddl: str) -> int:
    """One floor run; prints the line :data:`FLOOR_LINE` reads."""
    start = time.perf_counter()
    session = open_session(warehouse, metastore)
    opened = time.perf_counter() - start
    try:
        timing = spark_floor(json.loads(manifest.read_text()), session, ddl, opened)
    finally:
        session.stop()
    print(
        f"floor: {timing.models} models, {timing.statements} statements in {timing.seconds:.3f} s "
        f"(connect {timing.connect_seconds:.3f} s)",
        flush=True,
    )
    return 0
