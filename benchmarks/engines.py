#!/usr/bin/env python3
"""Engine benchmarks: modelkit ``run`` on PostgreSQL and on Spark, next to the engine floor and dbt-postgres.

    python benchmarks/engines.py [--pg-models 1000] [--spark-models 100] [--repeat 3] [--no-dbt] [--no-spark]

Writes benchmarks/ENGINES.md and engines.json beside it. See benchmarks/README.md ("Engines") for what is
measured and how; ``engines.py floor ...`` is the floor's own process, started by the benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import pgbench
from harness.enginefloor import PLAIN, SAME, postgres_floor
from harness.enginereport import render
from harness.measure import Sample, run_once
from harness.sparkbench import SparkState, floor_main
from harness.tools import DBT_POSTGRES_REQUIREMENTS, Tool, dbt_tool, modelkit_tool, package_versions
from harness.workspace import STAMP, HarnessError, generate

HERE = Path(__file__).resolve().parent
FLOOR_LINE = re.compile(r"^floor: (\d+) models, (\d+) statements in ([0-9.]+) s \(connect ([0-9.]+) s\)", re.M)
DIALECT_LINE = "    +dialect: duckdb  # the generated SQL is DuckDB's: modelkit translates it for the target\n"


# -- projects -----------------------------------------------------------------------------------
def project_copy(source: Path, dest: Path, *, declare_dialect: bool) -> Path:
    """A copy of the generated project; with ``declare_dialect``, its models declared as DuckDB SQL."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(STAMP, "target", "logs", "*.duckdb*"))
    if declare_dialect:
        project = dest / "dbt_project.yml"
        text = project.read_text()
        anchor = "\nmodels:\n  bench:\n"
        if anchor not in text:
            raise HarnessError(f"{project} has no 'models: bench:' block to declare the dialect in")
        project.write_text(text.replace(anchor, anchor + DIALECT_LINE))
    return dest


def set_aside(folder: Path, trash: Path) -> None:
    """Move ``folder`` (a target/) out of the way; deleted at the end (see workspace.Workspace.clean_target)."""
    if folder.exists():
        trash.mkdir(parents=True, exist_ok=True)
        folder.rename(trash / f"{folder.parent.name}-{folder.name}-{time.time_ns()}")


class Rows:
    """Samples per row, taken in rounds: every row once per round, so that all see the same load."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.rows: dict[str, dict[str, Any]] = {}

    def row(self, key: str, label: str, **info: Any) -> dict[str, Any]:
        return self.rows.setdefault(key, {"label": label, "samples": [], "floor": [], "failed": "", **info})

    def sample(self, key: str, label: str, tool: Tool, cwd: Path, args: list[str], prepare: Callable[[], None]) -> None:
        row = self.row(key, label, command=" ".join([tool.name, *args]))
        if row["failed"]:
            return
        prepare()
        log = self.logs / f"{key}.log"
        sample = run_once(tool.command(*args), cwd, tool.env, log)
        self._keep(key, row, sample, log)
        if sample.returncode == 0:
            row.setdefault("node_phase", []).append(node_phase(cwd / "target" / "run_results.json"))

    def floor(
        self, key: str, label: str, cmd: list[str], cwd: Path, env: dict[str, str], prepare: Callable[[], None]
    ) -> None:
        row = self.row(key, label, command="engines.py " + " ".join(cmd[cmd.index("floor") :]))
        if row["failed"]:
            return
        prepare()
        log = self.logs / f"{key}.log"
        start = log.stat().st_size if log.exists() else 0
        sample = run_once(cmd, cwd, env, log)
        with log.open("rb") as fh:
            fh.seek(start)
            found = FLOOR_LINE.search(fh.read().decode(errors="replace"))
        if sample.returncode == 0 and found:
            row["floor"].append([int(found[1]), int(found[2]), float(found[3]), float(found[4])])
        self._keep(key, row, sample if found else Sample(sample.seconds, 0, sample.returncode or 1), log)

    def _keep(self, key: str, row: dict[str, Any], sample: Sample, log: Path) -> None:
        if sample.returncode != 0:
            row["failed"] = f"exit code {sample.returncode}; see {log}"
        else:
            row["samples"].append([sample.seconds, sample.cpu_seconds, sample.peak_mb])
        shown = f"{sample.seconds:.2f} s (CPU {sample.cpu_seconds:.2f} s)" if sample.returncode == 0 else row["failed"]
        print(f"  {key:<28} {shown}", flush=True)


def node_phase(run_results: Path) -> float | None:
    """Seconds from the first node's start to the last node's end, from the run's ``run_results.json``.

    That is the part of a run spent on the models (statements and per-node work), without start-up, parsing,
    compiling ahead and opening the connection or session.
    """
    try:
        results = json.loads(run_results.read_text())["results"]
        stamps = [
            dt.datetime.fromisoformat(t[k].replace("Z", "+00:00"))
            for r in results
            for t in r["timing"]
            for k in ("started_at", "completed_at")
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (max(stamps) - min(stamps)).total_seconds() if stamps else None


def floor_command(python: str, *args: str) -> list[str]:
    return [python, str(Path(__file__).resolve()), "floor", *args]


# -- PostgreSQL -----------------------------------------------------------------------------------
def bench_postgres(args: argparse.Namespace, srv: Any, mk: Tool, dbt: Tool | None) -> dict[str, Any]:
    work, logs = args.work_dir / "postgres", args.work_dir / "logs"
    trash = args.work_dir / "trash"
    source = generate(HERE / "genproject.py", args.pg_models, work / "source", logs / "generate.log")
    translated = project_copy(source, work / "modelkit", declare_dialect=True)
    as_written = project_copy(source, work / "modelkit-as-written", declare_dialect=False)
    theirs = project_copy(source, work / "dbt", declare_dialect=False) if dbt else None
    for root in (translated, as_written, theirs):
        if root is not None:
            pgbench.write_profile(root, srv, args.threads)
    print(f"PostgreSQL {pgbench.server_version(srv)}: seeding ...", flush=True)
    templates = {"modelkit": "bench_seeded_modelkit", "dbt": "bench_seeded_dbt"}
    pgbench.seeded_template(srv, mk, translated, templates["modelkit"], logs / "pg-seed.log")
    if dbt and theirs:
        pgbench.seeded_template(srv, dbt, theirs, templates["dbt"], logs / "pg-seed.log")

    def fresh(tool: str, root: Path | None = None) -> Callable[[], None]:
        def prepare() -> None:
            pgbench.fresh_database(srv, templates[tool])
            if root is not None:
                set_aside(root / "target", trash)

        return prepare

    # Untimed first runs of modelkit: check that everything builds, leave a target/ for the warm rows and the
    # manifest for the floor. (dbt's rows start with its run without target/, which leaves one for the next.)
    for root, tool in ((translated, mk), (as_written, mk)):
        if root is not None and tool is not None:
            fresh(tool.name)()
            sample = run_once(
                tool.command("run", "--threads", str(args.threads)), root, tool.env, logs / "pg-first.log"
            )
            if sample.returncode != 0:
                raise HarnessError(f"{tool.name} run failed in {root}; see {logs / 'pg-first.log'}")
    manifest = work / "modelkit-manifest.json"
    shutil.copyfile(translated / "target" / "manifest.json", manifest)

    rows = Rows(logs)
    run = ["run", "--threads", str(args.threads)]
    floor_env = {**mk.env}
    for round_no in range(args.repeat):
        print(f"PostgreSQL, {args.pg_models} models, round {round_no + 1} of {args.repeat}", flush=True)
        rows.sample(
            "pg_mk_cold", "modelkit run, translated, no target/", mk, translated, run, fresh("modelkit", translated)
        )
        rows.sample("pg_mk_warm", "modelkit run, translated, target/ kept", mk, translated, run, fresh("modelkit"))
        rows.sample(
            "pg_mk_as_written", "modelkit run, SQL as written, target/ kept", mk, as_written, run, fresh("modelkit")
        )
        for threads in (args.threads, 1):
            for ddl in (SAME, PLAIN):
                key = f"pg_floor_t{threads}_{ddl}"
                label = f"floor, {threads} thread{'s' if threads > 1 else ''}, {ddl} DDL"
                cmd = floor_command(
                    mk.python, "--engine", "postgres", "--manifest", str(manifest), "--dsn", pgbench.dsn(srv),
                    "--threads", str(threads), "--ddl", ddl,
                )  # fmt: skip
                rows.floor(key, label, cmd, work, floor_env, fresh("modelkit"))
        if dbt and theirs and round_no < args.dbt_repeat:
            rows.sample("pg_dbt_cold", "dbt-postgres run, no target/", dbt, theirs, run, fresh("dbt", theirs))
            rows.sample("pg_dbt_warm", "dbt-postgres run, partial parse", dbt, theirs, run, fresh("dbt"))
    pgbench.drop_databases(srv, [pgbench.RUN_DB, *templates.values()])
    return {
        "models": args.pg_models,
        "threads": args.threads,
        "server": pgbench.server_version(srv),
        "rows": rows.rows,
    }


# -- Spark ---------------------------------------------------------------------------------------
def bench_spark(args: argparse.Namespace, mk: Tool) -> dict[str, Any]:
    work, logs = args.work_dir / "spark", args.work_dir / "logs"
    source = generate(HERE / "genproject.py", args.spark_models, work / "source", logs / "generate.log")
    root = project_copy(source, work / "modelkit", declare_dialect=True)
    state = SparkState(work / "state")
    state.empty()
    state.write_profile(root, args.spark_threads)
    print("Spark: seeding ...", flush=True)
    for step in (["seed"], ["run"]):  # the run leaves a target/ for the warm rows, and the manifest for the floor
        sample = run_once(mk.command(*step), root, mk.env, logs / "spark-first.log")
        if sample.returncode != 0:
            raise HarnessError(f"modelkit {step[0]} on Spark failed in {root}; see {logs / 'spark-first.log'}")
        if step == ["seed"]:
            state.keep_seeded()
    manifest = work / "modelkit-manifest.json"
    shutil.copyfile(root / "target" / "manifest.json", manifest)

    def restore() -> None:
        state.restore()

    rows = Rows(logs)
    run = ["run", "--threads", str(args.spark_threads)]
    for round_no in range(args.spark_repeat):
        print(f"Spark, {args.spark_models} models, round {round_no + 1} of {args.spark_repeat}", flush=True)
        rows.sample("spark_mk_warm", "modelkit run, translated, target/ kept", mk, root, run, restore)
        for ddl in (SAME, PLAIN):
            cmd = floor_command(
                mk.python, "--engine", "spark", "--manifest", str(manifest), "--warehouse", str(state.warehouse),
                "--metastore", str(state.metastore), "--ddl", ddl,
            )  # fmt: skip
            rows.floor(f"spark_floor_{ddl}", f"floor, pyspark, {ddl} DDL", cmd, work, mk.env, restore)
    versions = package_versions(mk.python, ["pyspark"])
    return {
        "models": args.spark_models,
        "threads": args.spark_threads,
        "pyspark": versions["pyspark"],
        "rows": rows.rows,
    }


# -- the floor's own process --------------------------------------------------------------------
def floor_cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="engines.py floor", description="run a manifest's models straight on an engine")
    p.add_argument("--engine", choices=("postgres", "spark"), required=True)
    p.add_argument("--manifest", type=Path, required=True)
    p.add_argument("--ddl", choices=(SAME, PLAIN), default=SAME)
    p.add_argument("--dsn", help="postgres: libpq connection string of the database the manifest names")
    p.add_argument("--threads", type=int, default=1, help="postgres: connections, one per worker thread")
    p.add_argument("--warehouse", type=Path, help="spark: the warehouse folder")
    p.add_argument("--metastore", type=Path, help="spark: the Derby metastore folder")
    args = p.parse_args(argv)
    if args.engine == "spark":
        if not (args.warehouse and args.metastore):
            p.error("spark needs --warehouse and --metastore")
        return floor_main(args.manifest, args.warehouse, args.metastore, args.ddl)
    if not args.dsn:
        p.error("postgres needs --dsn")
    timing = postgres_floor(json.loads(args.manifest.read_text()), args.dsn, args.threads, args.ddl)
    print(
        f"floor: {timing.models} models, {timing.statements} statements in {timing.seconds:.3f} s "
        f"(connect {timing.connect_seconds:.3f} s)",
        flush=True,
    )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--pg-models", type=int, default=1000, help="models of the PostgreSQL project (1000)")
    p.add_argument("--threads", type=int, default=4, help="threads of the PostgreSQL runs (4)")
    p.add_argument("--spark-models", type=int, default=100, help="models of the Spark project (100)")
    p.add_argument("--spark-threads", type=int, default=1, help="threads of modelkit's Spark runs (1)")
    p.add_argument("--repeat", type=int, default=3, help="rounds on PostgreSQL, medians reported (3)")
    p.add_argument("--dbt-repeat", type=int, default=1, help="rounds that include dbt-postgres (1)")
    p.add_argument("--spark-repeat", type=int, default=3, help="rounds on Spark (3)")
    p.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    p.add_argument("--no-dbt", action="store_true", help="skip dbt-postgres")
    p.add_argument("--no-spark", action="store_true", help="skip Spark")
    p.add_argument("--modelkit", help="modelkit command to measure (default: the one beside this Python)")
    p.add_argument("--spark-modelkit", help="modelkit command for Spark (default: --modelkit's)")
    p.add_argument("--dbt-venv", type=Path, default=HERE / ".venv-dbt-postgres", help="dbt-postgres's environment")
    p.add_argument("--work-dir", type=Path, default=HERE / "projects" / "engines", help="projects and logs")
    p.add_argument("--output", type=Path, default=HERE / "ENGINES.md", help="the report to write")
    p.add_argument("--keep", action="store_true", help="keep the sections of engines.json this run does not measure")
    p.add_argument("--render-only", action="store_true", help="write --output again from engines.json beside it")
    return p.parse_args(argv)


def tool_for(command: str | None) -> Tool:
    """modelkit as ``command`` names it, run with the Python of that command's environment."""
    tool = modelkit_tool(command)
    beside = Path(tool.exe[0]).parent / "python"
    if command and beside.exists():
        tool.python = str(beside)
    return tool


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["floor"]:
        return floor_cli(argv[1:])
    args = parse_args(argv)
    args.work_dir = args.work_dir.resolve()
    raw = args.output.with_name("engines.json")
    if args.render_only:
        args.output.write_text(render(json.loads(raw.read_text())))
        return 0
    mk = tool_for(args.modelkit)
    data: dict[str, Any] = json.loads(raw.read_text()) if args.keep and raw.exists() else {}
    data["machine"] = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    run = {
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python benchmarks/engines.py " + " ".join(argv),
        "load_before": os.getloadavg(),
    }
    started = time.perf_counter()
    measured: dict[str, Any] = {}
    try:
        if not args.no_postgres:
            dbt = None
            if not args.no_dbt:
                dbt = dbt_tool(args.dbt_venv, args.work_dir / "logs" / "dbt-install.log", DBT_POSTGRES_REQUIREMENTS)
            with pgbench.server() as srv:
                measured["postgres"] = bench_postgres(args, srv, mk, dbt)
            measured["postgres"]["versions"] = package_versions(mk.python, ["modelkit", "psycopg", "sqlglot"])
            if dbt is not None:
                measured["postgres"]["versions"].update(package_versions(dbt.python, ["dbt-core", "dbt-postgres"]))
        if not args.no_spark:
            spark_mk = tool_for(args.spark_modelkit or args.modelkit)
            measured["spark"] = bench_spark(args, spark_mk)
            measured["spark"]["versions"] = package_versions(spark_mk.python, ["modelkit", "pyspark", "sqlglot"])
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(args.work_dir / "trash", ignore_errors=True)
    run["load_after"] = os.getloadavg()
    run["minutes"] = (time.perf_counter() - started) / 60
    for section in measured.values():
        section["run"] = run
    data.update(measured)
    raw.write_text(json.dumps(data, indent=1) + "\n")
    args.output.write_text(render(data))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
