"""Scale: a generated 500-model dbt project parses, compiles and builds the same tables on 1 and 4 threads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, run_cli

GEN = REPO.parent / "shared" / "bench" / "gen_project.py"
pytestmark = pytest.mark.skipif(not GEN.exists(), reason="../shared/bench/gen_project.py is not beside the repo")


def table_fingerprints(db: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
        ]
        out = {}
        for name in names:
            # Columns, types and row counts: the generated SQL breaks row_number() ties arbitrarily,
            # so the chosen rows (not their number) may differ between any two runs, threads or not.
            described = tuple((r[0], r[1]) for r in con.execute(f'describe "{name}"').fetchall())
            out[name] = (described, con.execute(f'select count(*) from "{name}"').fetchone()[0])
        return out
    finally:
        con.close()


def test_generated_project_scale(tmp_path: Path) -> None:
    base = tmp_path / "gen"
    subprocess.run(
        [sys.executable, str(GEN), "--models", "500", "--out", str(base), "--seed-rows", "200"],
        check=True,
        capture_output=True,
    )
    parsed = run_cli("parse", cwd=base)
    assert parsed.exit_code == 0, parsed.output
    assert "Found 500 models, 667 data tests, 3 seeds" in parsed.output
    compiled = run_cli("compile", cwd=base)
    assert compiled.exit_code == 0, compiled.output
    assert len(list((base / "target" / "compiled").rglob("*.sql"))) == 500 + 667  # models and data tests
    assert run_cli("seed", cwd=base).exit_code == 0
    results = {}
    for threads in ("1", "4"):
        copy = tmp_path / f"t{threads}"
        shutil.copytree(base, copy, ignore=shutil.ignore_patterns("target"))
        shutil.copy(base / "bench.duckdb", copy / "bench.duckdb")
        out = run_cli("run", "--threads", threads, cwd=copy)
        assert out.exit_code == 0, out.output[-2000:]
        assert "Done. PASS=500 WARN=0 ERROR=0 SKIP=0" in out.output
        results[threads] = table_fingerprints(copy / "bench.duckdb")
    assert len(results["1"]) > 100
    assert results["1"] == results["4"]
