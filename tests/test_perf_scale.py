"""Scale: a generated 500-model dbt project parses, compiles and builds the same data on 1 and 4 threads."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from conftest import run_cli
from genproject import generate


def table_contents(db: Path) -> dict[str, tuple]:
    """Every table of the main schema: its columns and types, and all its rows in order.

    Views are left out: querying them all would take longer than the run (tests/test_benchmark_generator.py
    compares views too, on a smaller project).
    """
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
            ).fetchall()
        ]
        out = {}
        for name in names:
            described = tuple((r[0], r[1]) for r in con.execute(f'describe "{name}"').fetchall())
            out[name] = (described, con.execute(f'select * from "{name}" order by all').fetchall())
        return out
    finally:
        con.close()


def test_generated_project_scale(tmp_path: Path) -> None:
    base = tmp_path / "gen"
    project = generate(500, base, seed_rows=200)
    parsed = run_cli("parse", cwd=base)
    assert parsed.exit_code == 0, parsed.output
    assert f"Found 500 models, {project.data_tests} data tests, 3 seeds" in parsed.output
    compiled = run_cli("compile", cwd=base)
    assert compiled.exit_code == 0, compiled.output
    assert len(list((base / "target" / "compiled").rglob("*.sql"))) == 500 + project.data_tests
    assert run_cli("seed", cwd=base).exit_code == 0
    results = {}
    for threads in ("1", "4"):
        copy = tmp_path / f"t{threads}"
        shutil.copytree(base, copy, ignore=shutil.ignore_patterns("target"))
        shutil.copy(base / "bench.duckdb", copy / "bench.duckdb")
        out = run_cli("run", "--threads", threads, cwd=copy)
        assert out.exit_code == 0, out.output[-2000:]
        assert "Done. PASS=500 WARN=0 ERROR=0 SKIP=0" in out.output
        results[threads] = table_contents(copy / "bench.duckdb")
    assert len(results["1"]) == project.count("intermediate", "table") + project.count("marts") + 3
    assert results["1"] == results["4"]  # the generated SQL is deterministic: same rows, whatever the threads
