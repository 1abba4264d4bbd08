"""The floor: a tool's compiled statements executed directly with the duckdb package (benchmarks/floor.py)."""

from __future__ import annotations

import re
from pathlib import Path

from .measure import FAILED, OK, SKIPPED, Cell, Sample, run_once
from .workspace import Workspace

MODELS_LINE = re.compile(r"^models: (\d+) statements in ([0-9.]+) s", re.M)
TESTS_LINE = re.compile(r"^tests: (\d+) queries in ([0-9.]+) s", re.M)


def measure_floor(
    script: Path, ws: Workspace, log: Path, *, repeat: int, budget: float, single_transaction: bool = False
) -> tuple[Cell, Cell]:
    """(models, data tests) floor cells from the manifest ``ws`` saved after its compile.

    The times are the script's own (the statements only, not its start-up or the copy of the database file).
    The models' DDL runs in autocommit unless ``single_transaction``. The script runs with the tool's own
    Python, hence the same duckdb the tool uses.
    """
    if not ws.manifest.exists():
        note = f"no compiled manifest from {ws.tool.name} (its compile was not measured or failed)"
        return Cell(SKIPPED, note=note), Cell(SKIPPED, note=note)
    ws.ensure_seeded()
    cmd = [ws.tool.python, str(script), "--manifest", str(ws.manifest), "--db", str(ws.seeded), "--tests"]
    if single_transaction:
        cmd.append("--single-transaction")
    models: list[Sample] = []
    tests: list[Sample] = []
    for _ in range(max(1, repeat)):
        start = log.stat().st_size if log.exists() else 0
        sample = run_once(cmd, ws.root.parent, ws.tool.env, log)
        with log.open("rb") as f:
            f.seek(start)
            output = f.read().decode(errors="replace")
        found_models = MODELS_LINE.search(output)
        if sample.returncode != 0 or not found_models:
            failed = Cell(FAILED, note=f"floor script failed (exit {sample.returncode}); see {log}")
            return failed, failed
        models.append(Sample(float(found_models.group(2)), sample.peak_mb, 0))
        found_tests = TESTS_LINE.search(output)
        if found_tests and int(found_tests.group(1)) > 0:
            tests.append(Sample(float(found_tests.group(2)), 0.0, 0))
        if sum(s.seconds for s in models + tests) >= budget:
            break
    no_tests = Cell(SKIPPED, note=f"{ws.tool.name}'s manifest has no compiled data tests")
    return Cell(OK, models), (Cell(OK, tests) if tests else no_tests)
