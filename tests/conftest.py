"""Shared test helpers: write small projects to a temp folder, run the CLI in-process."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from artifact_schemas import artifacts_under, schema_errors
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = REPO / "sample_project"
BENCHMARKS = REPO / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.append(str(BENCHMARKS))  # the project generator (genproject) and the benchmark harness (harness)


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (text is dedented)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def make_project(root: Path, files: Mapping[str, str], name: str = "demo") -> Path:
    """A native project named ``name`` (embedded DuckDB) with ``files`` added."""
    base = {"modelkit.yml": f"name: {name}\n"}
    base.update(files)
    return write_files(root, base)


@dataclass
class CliResult:
    exit_code: int
    output: str


def run_cli(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> CliResult:
    """Run ``modelkit ARGS`` in-process; returns exit code and combined output."""
    from modelkit.cli.main import app, prepare_args

    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        argv, settings = prepare_args(list(args))
        env_all = {"NO_COLOR": "1", **settings, **(env or {})}
        result = runner.invoke(app, argv, env=env_all, catch_exceptions=False)
    finally:
        os.chdir(old)
    return CliResult(result.exit_code, result.output)


def query(db_path: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` against a DuckDB file (opened read-only, then closed)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def embedded_db(project_root: Path, name: str = "demo") -> Path:
    return project_root / "target" / f"{name}.duckdb"


@pytest.fixture
def project_factory(tmp_path: Path):
    """``project_factory(files, name='demo')`` -> project root in a temp folder."""

    def factory(files: Mapping[str, str], name: str = "demo") -> Path:
        return make_project(tmp_path / name, files, name)

    return factory


@pytest.fixture(autouse=True)
def artifacts_follow_dbt_schemas(request: pytest.FixtureRequest):
    """After every test, each artifact written under its temporary folder must pass dbt's schema."""
    yield
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if tmp is None or not Path(tmp).is_dir():
        return
    errors = [e for path in artifacts_under(Path(tmp)) for e in schema_errors(path)]
    assert not errors, "artifacts that dbt's schemas reject:\n" + "\n".join(errors[:40])


# -- PostgreSQL: one throwaway server per test process (see pg_support) ------------------------------


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server: ``MODELKIT_PG_DSN``'s, else a temporary one started for this test process."""
    import pg_support

    dsn = os.environ.get(pg_support.DSN_ENV)
    if dsn:
        yield pg_support.external_server(dsn)
        return
    binaries = pg_support.find_binaries()
    if binaries is None:
        pytest.skip(f"no PostgreSQL binaries (initdb, postgres) found, and {pg_support.DSN_ENV} is not set")
    server = pg_support.start_server(binaries)
    try:
        yield server
    finally:
        server.stop()


# -- Spark: one local session per test process, one Spark Connect server (see spark_support) -----------


@pytest.fixture(scope="session")
def spark_dirs(tmp_path_factory: pytest.TempPathFactory):
    """The warehouse and metastore folders every ``method: session`` test profile of this process shares."""
    import spark_support

    pytest.importorskip("pyspark")
    spark_support.require_java()
    root = tmp_path_factory.mktemp("spark")
    return spark_support.SparkDirs(root / "warehouse", root / "metastore")


@pytest.fixture(scope="session")
def spark_connect_server(tmp_path_factory: pytest.TempPathFactory):
    """A Spark Connect server started from the pyspark package, for the ``method: connect`` tests."""
    import spark_support

    pytest.importorskip("pyspark")
    spark_support.require_java()
    server = spark_support.start_connect_server(tmp_path_factory.mktemp("spark-connect"))
    try:
        yield server
    finally:
        server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The spark tests first: under xdist their group (one worker, one JVM) then runs beside the other
    tests instead of after them."""
    items.sort(key=lambda item: item.get_closest_marker("spark") is None)
