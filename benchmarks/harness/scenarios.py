"""The commands measured on each project, and the state each one starts from."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .measure import ABSENT, FAILED, SKIPPED, Cell, measure
from .workspace import HarnessError, Workspace


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    args: tuple[str, ...]
    # cold: no target/ and a freshly seeded database before every sample;
    # cold-parse: no target/ before every sample (the database is not read);
    # parsed: target/ left by an earlier parse of the same files;
    # built: the database and target/ as a run leaves them.
    start: str
    after: str  # the state the command leaves behind

    @property
    def command_words(self) -> tuple[str, ...]:
        """The sub-command, without options (what must exist for the scenario to run)."""
        return tuple(a for a in self.args if not a.startswith("-") and not a.isdigit())


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("parse_cold", "parse (cold: no target/)", ("parse",), "cold-parse", "parsed"),
    Scenario("parse_warm", "parse again, nothing changed", ("parse",), "parsed", "parsed"),
    Scenario("compile", "compile (cold)", ("compile",), "cold", "parsed"),
    Scenario("compile_warm", "compile again, nothing changed", ("compile",), "parsed", "parsed"),
    Scenario("run_t1", "run --threads 1", ("run", "--threads", "1"), "cold", "built"),
    Scenario("run_t4", "run --threads 4", ("run", "--threads", "4"), "cold", "built"),
    Scenario("run_again", "run again, nothing changed (--threads 4)", ("run", "--threads", "4"), "built", "built"),
    Scenario("test", "test (after a run)", ("test",), "built", "built"),
    Scenario("docs_generate", "docs generate (after a run)", ("docs", "generate"), "built", "built"),
    Scenario("build", "build (cold)", ("build",), "cold", "built"),
)
PARSE_ONLY = ("parse_cold", "parse_warm")
BY_KEY = {s.key: s for s in SCENARIOS}


def _prepare(ws: Workspace, scenario: Scenario) -> tuple[Any, Any]:
    """(before-each-sample callback, once-before-all callback) that bring ``ws`` to the scenario's start."""
    if scenario.start == "cold":
        return ws.cold, None
    if scenario.start == "cold-parse":
        return ws.clean_target, None

    def once() -> None:
        if scenario.start == "built" and ws.state != "built":
            ws.cold()
            ws.untimed("run", "--threads", "4")
        elif scenario.start == "parsed" and not (ws.root / "target").exists():
            ws.untimed("parse")

    return None, once


def run_scenario(ws: Workspace, scenario: Scenario, repeat: int, budget: float) -> Cell:
    """Measure one scenario on one tool's project copy."""
    if not ws.tool.has_command(scenario.command_words):
        return Cell(ABSENT, note=f"`{ws.tool.name} {' '.join(scenario.command_words)}` does not exist")
    each, once = _prepare(ws, scenario)
    try:
        if once is not None:
            once()
        cell = measure(
            ws.tool.command(*scenario.args), ws.root, ws.tool.env, ws.log, repeat=repeat, budget=budget, prepare=each
        )
    except HarnessError as exc:
        ws.state = "cold"
        return Cell(FAILED, note=str(exc))
    ws.state = scenario.after if cell.ok else "cold"
    if scenario.key == "compile" and cell.ok:
        shutil.copyfile(ws.root / "target" / "manifest.json", ws.manifest)
    return cell


def run_all(ws: Workspace, keys: list[str], repeat: int, budget: float, progress: Any) -> dict[str, Cell]:
    """Every scenario of SCENARIOS on ``ws``, in order; those not in ``keys`` are marked skipped."""
    cells: dict[str, Cell] = {}
    for scenario in SCENARIOS:
        if scenario.key not in keys:
            cells[scenario.key] = Cell(SKIPPED)
            continue
        cells[scenario.key] = cell = run_scenario(ws, scenario, repeat, budget)
        progress(ws.tool.name, scenario, cell)
    return cells


def node_counts(manifest: Path) -> dict[str, int]:
    """Models and data tests in a manifest.json (empty if there is none)."""
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text())["nodes"].values()
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node["resource_type"]] = counts.get(node["resource_type"], 0) + 1
    return counts
