"""The engine benchmark's pieces (benchmarks/engines.py): its floor builds what modelkit built, in DAG order."""

from __future__ import annotations

import doctest
import json
import sys
import threading
from pathlib import Path

import engines
import pg_support
import pytest
from genproject import generate
from harness import enginefloor, pgbench
from harness.enginefloor import PLAIN, SAME, FloorModel, postgres_floor, run_dag
from harness.measure import run_once
from harness.tools import modelkit_tool

DB = "engines_smoke"
TEMPLATE = "engines_smoke_seeded"


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(enginefloor)
    assert result.failed == 0 and result.attempted >= 4


def test_models_start_once_their_parents_are_done() -> None:
    # a diamond and a chain: d reads b and c, which read a; f reads e
    parents = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": set(), "f": {"e"}}
    models = [FloorModel(uid, None, "s", uid, "view", f"select '{uid}'", deps) for uid, deps in parents.items()]
    finished: list[str] = []
    lock = threading.Lock()

    def execute(sql: str) -> None:
        uid = sql.split("'")[1]
        with lock:
            assert parents[uid] <= set(finished), f"{uid} started before {parents[uid] - set(finished)}"
            finished.append(uid)

    count, _ = run_dag(models, lambda m: [m.sql], [execute, execute, execute])
    assert count == 6 and sorted(finished) == sorted(parents)


def relations(server: pg_support.Server, dbname: str) -> dict[str, tuple[str, int]]:
    """name -> (kind, rows) of every relation in schema main."""
    with server.connect(dbname) as con:
        found = con.execute(
            "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'main' and c.relkind in ('r', 'v')"
        ).fetchall()
        return {name: (kind, con.execute(f'select count(*) from main."{name}"').fetchone()[0]) for name, kind in found}


@pytest.mark.postgres
def test_floor_builds_the_relations_modelkit_built(tmp_path: Path, pg_server: pg_support.Server) -> None:
    source = generate(6, tmp_path / "source", seed_rows=40)
    root = engines.project_copy(source.root, tmp_path / "project", declare_dialect=True)
    pgbench.write_profile(root, pg_server, threads=2, dbname=DB)
    mk, log = modelkit_tool(), tmp_path / "commands.log"
    pgbench.seeded_template(pg_server, mk, root, TEMPLATE, log, dbname=DB)
    seeds = relations(pg_server, TEMPLATE)
    assert sorted(seeds) == ["raw_accounts", "raw_merchants", "raw_payments"]

    pgbench.fresh_database(pg_server, TEMPLATE, DB)
    assert run_once(mk.command("run", "--threads", "2"), root, mk.env, log).returncode == 0, log.read_text()
    built = relations(pg_server, DB)
    assert len(built) == 3 + 6 and {kind for kind, _ in built.values()} == {"r", "v"}
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {n["config"]["dialect"] for n in models} == {"duckdb"}  # translated for PostgreSQL

    for threads, ddl, statements in ((2, SAME, 4 * 6), (1, PLAIN, 6)):
        pgbench.fresh_database(pg_server, TEMPLATE, DB)
        timing = postgres_floor(manifest, pgbench.dsn(pg_server, DB), threads, ddl)
        assert (timing.models, timing.statements) == (6, statements)
        assert relations(pg_server, DB) == built  # the same views and tables, holding the same rows

    # the floor's own process prints the line the benchmark reads
    pgbench.fresh_database(pg_server, TEMPLATE, DB)
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_text(json.dumps(manifest))
    cmd = engines.floor_command(
        sys.executable, "--engine", "postgres", "--manifest", str(manifest_file), "--dsn", pgbench.dsn(pg_server, DB)
    )
    floor_log = tmp_path / "floor.log"
    assert run_once(cmd, tmp_path, mk.env, floor_log).returncode == 0, floor_log.read_text()
    found = engines.FLOOR_LINE.search(floor_log.read_text())
    assert found and (found[1], found[2]) == ("6", "24")
    pgbench.drop_databases(pg_server, [DB, TEMPLATE])


def test_report_compares_modelkit_with_the_floor() -> None:
    def row(label: str, walls: list[float], floor: bool = False) -> dict[str, object]:
        return {
            "label": label,
            "samples": [[w, w / 2, 50.0] for w in walls],
            "floor": [[10, 40, w - 1, 0.1] for w in walls] if floor else [],
            "node_phase": [w - 2 for w in walls],
            "failed": "",
        }

    run = {"started": "now", "command": "engines.py", "load_before": [1, 1, 1], "load_after": [1, 1, 1], "minutes": 1}
    pg = {
        "models": 10,
        "threads": 4,
        "server": "15",
        "run": run,
        "versions": {"modelkit": "0"},
        "rows": {"pg_mk_warm": row("modelkit", [12.0, 13.0, 11.0]), "pg_floor_t4_same": row("floor", [10.0], True)},
    }
    spark = {
        "models": 10,
        "threads": 1,
        "run": run,
        "versions": {"pyspark": "4"},
        "rows": {"spark_mk_warm": row("modelkit", [30.0]), "spark_floor_same": row("floor", [26.0], True)},
    }
    text = engines.render({"machine": "test", "postgres": pg, "spark": spark})
    assert "**1.20×** (within the 1.3× target)" in text  # median 12 s against 10 s
    assert "| floor (40 statements) | 10.00 | 5.00 | 9.00 | 1 | 1.00× | 1.00× |" in text
    assert "(modelkit − floor wall) ÷ 40 statements = **100 ms**" in text  # (30 - 26) / 40
    assert "(node phase − floor statements) ÷ 40 statements = **75 ms**" in text  # (28 - 25) / 40
    assert "(modelkit − floor) ÷ 40 statements = **50 ms**" in text  # CPU: (15 - 13) / 40
