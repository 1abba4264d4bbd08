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
    # what is edited before each sample (untimed): "model" (one mid-DAG model), "macro" (a macro that 100
    # models call), "analysis-cache" (the static analysis cache removed, the parse cache kept), or "" (nothing);
    # "{edited}" in args stands for the edited model's name
    edit: str = ""

    @property
    def command_words(self) -> tuple[str, ...]:
        """The sub-command, without options (what must exist for the scenario to run)."""
        return tuple(a for a in self.args if not a.startswith("-") and not a.isdigit() and a != "{edited}")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("parse_cold", "parse (cold: no target/)", ("parse",), "cold-parse", "parsed"),
    Scenario("parse_warm", "parse again, nothing changed", ("parse",), "parsed", "parsed"),
    Scenario("compile", "compile (cold)", ("compile",), "cold", "parsed"),
    Scenario("compile_warm", "compile again, nothing changed", ("compile",), "parsed", "parsed"),
    Scenario(
        "compile_analysis_off",
        "compile --static-analysis off, parse cache warm",
        ("compile", "--static-analysis", "off"),
        "parsed",
        "parsed",
    ),
    Scenario(
        "compile_analysis_cold",
        "compile, parse cache warm, no analysis cache",
        ("compile",),
        "parsed",
        "parsed",
        "analysis-cache",
    ),
    Scenario("run_t1", "run --threads 1", ("run", "--threads", "1"), "cold", "built"),
    Scenario("run_t4", "run --threads 4", ("run", "--threads", "4"), "cold", "built"),
    Scenario("run_again", "run again, nothing changed (--threads 4)", ("run", "--threads", "4"), "built", "built"),
    Scenario("test", "test (after a run)", ("test",), "built", "built"),
    Scenario("docs_generate", "docs generate (after a run)", ("docs", "generate"), "built", "built"),
    Scenario("build", "build (cold)", ("build",), "cold", "built"),
    Scenario("docs_generate_unbuilt", "docs generate (cold: nothing built)", ("docs", "generate"), "cold", "parsed"),
    Scenario("parse_one_model_edited", "parse after editing one model", ("parse",), "parsed", "parsed", "model"),
    Scenario(
        "parse_macro_edited", "parse after editing a macro 100 models call", ("parse",), "parsed", "parsed", "macro"
    ),
    Scenario(
        "compile_select_edited",
        "compile -s the edited model",
        ("compile", "-s", "{edited}"),
        "parsed",
        "parsed",
        "model",
    ),
    Scenario(
        "run_skip_unchanged",
        "run --skip-unchanged, nothing changed",
        ("run", "--skip-unchanged", "--threads", "4"),
        "built",
        "built",
    ),
)
PARSE_ONLY = ("parse_cold", "parse_warm")
# measured in full runs and with --scenarios; --quick leaves them out
EDIT_SCENARIOS = (
    "parse_one_model_edited",
    "parse_macro_edited",
    "compile_select_edited",
    "run_skip_unchanged",
    "compile_analysis_off",
    "compile_analysis_cold",
    "docs_generate_unbuilt",
)
# modelkit's own options: other tools show these rows as absent
MODELKIT_ONLY = {
    "run_skip_unchanged": "`run` has no --skip-unchanged",
    "compile_analysis_off": "no static analysis to turn off",
    "compile_analysis_cold": "no static analysis",
}
ANALYSIS_CACHE = "target/static_analysis.json"
BY_KEY = {s.key: s for s in SCENARIOS}


EDIT_MACRO = "macros/bench_edited.sql"
EDIT_CALLERS = 100


def edited_model(root: Path) -> Path:
    """The model an edit scenario edits: the first intermediate model, by path."""
    return sorted((root / "models").rglob("int_*.sql"))[0]


def _editor(ws: Workspace, scenario: Scenario) -> Any:
    """A before-each-sample callback that changes the edited file's content (a new comment each time)."""
    counter = iter(range(1_000_000))

    def edit() -> None:
        if scenario.edit == "analysis-cache":
            (ws.root / ANALYSIS_CACHE).unlink(missing_ok=True)
            return
        path = ws.root / EDIT_MACRO if scenario.edit == "macro" else edited_model(ws.root)
        with path.open("a") as fh:
            fh.write(f"\n-- edit {next(counter)}\n" if scenario.edit == "model" else f"{{# edit {next(counter)} #}}\n")

    return edit


def _macro_callers(ws: Workspace) -> None:
    """Give the project a macro that exactly EDIT_CALLERS models call (once)."""
    macro = ws.root / EDIT_MACRO
    if macro.exists():
        return
    macro.write_text("{% macro bench_edited(x) %}{{ x }}{% endmacro %}\n")
    for path in sorted((ws.root / "models").rglob("*.sql"))[:EDIT_CALLERS]:
        path.write_text(path.read_text() + "\n-- {{ bench_edited('called') }}\n")


def _prepare(ws: Workspace, scenario: Scenario) -> tuple[Any, Any]:
    """(before-each-sample callback, once-before-all callback) that bring ``ws`` to the scenario's start."""
    if scenario.edit:

        def once_edit() -> None:
            if scenario.edit == "macro":
                _macro_callers(ws)
            ws.untimed("parse")

        return _editor(ws, scenario), once_edit
    if scenario.start == "built" and scenario.key == "run_skip_unchanged":

        def once_built() -> None:
            if ws.state != "built":
                ws.cold()
                ws.untimed("run", "--threads", "4")
            ws.untimed("seed")  # the seeds' fingerprints recorded too (an unrecorded parent is rebuilt from)
            ws.untimed("run", "--skip-unchanged", "--threads", "4")  # every relation's fingerprint recorded

        return None, once_built
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
    if scenario.key in MODELKIT_ONLY and ws.tool.name != "modelkit":
        return Cell(ABSENT, note=f"{ws.tool.name}: {MODELKIT_ONLY[scenario.key]}")
    if not ws.tool.has_command(scenario.command_words):
        return Cell(ABSENT, note=f"`{ws.tool.name} {' '.join(scenario.command_words)}` does not exist")
    each, once = _prepare(ws, scenario)
    try:
        if once is not None:
            once()
        args = [a.replace("{edited}", edited_model(ws.root).stem) for a in scenario.args]
        cell = measure(ws.tool.command(*args), ws.root, ws.tool.env, ws.log, repeat=repeat, budget=budget, prepare=each)
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
