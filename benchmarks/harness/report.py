"""The machine description, the target checks and the RESULTS.md text."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import enginereport
from .measure import ABSENT, FAILED, SKIPPED, Cell
from .scenarios import SCENARIOS
from .tools import package_versions

# Rows whose floor is the models' DDL, and the row whose floor is the data tests' queries.
MODEL_FLOOR_ROWS = ("run_t1", "run_t4", "run_again")
TEST_FLOOR_ROWS = ("test",)


def machine_info(repo: Path, dbt_python: str | None) -> dict[str, str]:
    info = {
        "cores (nproc)": str(len(os.sched_getaffinity(0))),
        "memory": _meminfo(),
        "CPU": _cpu_model(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    ours = package_versions(sys.executable, ["modelkit", "duckdb"])
    info["modelkit"] = f"{ours['modelkit']} (commit {_git_commit(repo)})"
    info["duckdb (modelkit's environment)"] = ours["duckdb"]
    if dbt_python:
        theirs = package_versions(dbt_python, ["dbt-core", "dbt-duckdb", "duckdb"])
        info["dbt-core"] = theirs["dbt-core"]
        info["dbt-duckdb"] = theirs["dbt-duckdb"]
        info["duckdb (dbt's environment)"] = theirs["duckdb"]
    return info


def _meminfo() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit(repo: Path) -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "modelkit")
    return commit + (" + uncommitted changes" if dirty else "")


# -- formatting --------------------------------------------------------------------------------------------------
def fmt_cell(cell: Cell | None) -> str:
    if cell is None or cell.status == SKIPPED:
        return "–"
    if cell.status == ABSENT:
        return "no such command"
    if cell.status == FAILED:
        return "FAILED"
    return f"{_secs(cell.seconds)} ({len(cell.samples)})"


def fmt_peak(cell: Cell | None) -> str:
    return f"{cell.peak_mb:.0f} MB" if cell is not None and cell.peak_mb is not None else "–"


def _secs(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def ratio(num: Cell | None, den: Cell | None) -> float | None:
    if num is None or den is None or num.seconds is None or den.seconds is None or den.seconds == 0:
        return None
    return num.seconds / den.seconds


def _ratio_text(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×" if value < 10 else f"{value:.0f}×"


# -- targets ------------------------------------------------------------------------------------------------------
@dataclass
class Target:
    name: str
    goal: str
    measured: str
    verdict: str  # PASS | MISS | not measured


def _cell(results: dict[str, Any], size: int, tool: str, key: str) -> Cell | None:
    return results["sizes"].get(size, {}).get(tool, {}).get(key)


def _check(
    name: str, goal: str, cell: Cell | None, test: Callable[[float], bool], value: float | None = None
) -> Target:
    if cell is None or not cell.ok:
        why = "not measured" if cell is None or cell.status == SKIPPED else fmt_cell(cell).lower()
        return Target(name, goal, "–", f"not measured: {why}" if why != "not measured" else why)
    measured = value if value is not None else cell.seconds
    assert measured is not None
    return Target(name, goal, "", "PASS" if test(measured) else "MISS")


def targets(results: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    parse_cold = _cell(results, 10000, "modelkit", "parse_cold")
    t = _check("cold parse, 10,000 models", "< 2 s", parse_cold, lambda v: v < 2)
    t.measured = _secs(parse_cold.seconds) if parse_cold and parse_cold.ok else "–"
    out.append(t)
    parse_warm = _cell(results, 10000, "modelkit", "parse_warm")
    t = _check("parse with nothing changed, 10,000 models", "< 0.3 s", parse_warm, lambda v: v < 0.3)
    t.measured = _secs(parse_warm.seconds) if parse_warm and parse_warm.ok else "–"
    out.append(t)
    compile_ = _cell(results, 1000, "modelkit", "compile")
    t = _check("compile, 1,000 models", "< 1 s", compile_, lambda v: v < 1)
    t.measured = _secs(compile_.seconds) if compile_ and compile_.ok else "–"
    out.append(t)

    run4 = _cell(results, 1000, "modelkit", "run_t4")
    floor = results["sizes"].get(1000, {}).get("floor", {}).get("models")
    vs_floor = ratio(run4, floor)
    if vs_floor is None:
        t = Target("run --threads 4, 1,000 models", "≤ 1.1 × floor", "–", "not measured")
        if run4 is not None and run4.status in (FAILED, ABSENT):
            t.verdict = f"not measured: {fmt_cell(run4).lower()}"
    else:
        t = Target("run --threads 4, 1,000 models", "≤ 1.1 × floor", "", "PASS" if vs_floor <= 1.1 else "MISS")
        t.measured = f"{_secs(run4.seconds)} = {vs_floor:.2f} × floor ({_secs(floor.seconds)})"  # type: ignore[union-attr]
    out.append(t)

    ours, theirs = _cell(results, 1000, "modelkit", "test"), _cell(results, 1000, "dbt", "test")
    speedup = ratio(theirs, ours)
    if speedup is None:
        if ours is None:
            why = "no 1,000-model project in this run"
        elif ours.status == ABSENT:
            why = "modelkit has no `test` command yet"
        elif theirs is None or theirs.status == SKIPPED:
            why = "dbt-core not measured at 1,000 models: see --compare-dbt"
        else:
            why = f"modelkit: {fmt_cell(ours)}; dbt-core: {fmt_cell(theirs)}"
        t = Target("test, 1,000-model project, vs dbt-core", "≥ 10× faster", "–", f"not measured: {why}")
    else:
        t = Target("test, 1,000-model project, vs dbt-core", "≥ 10× faster", "", "PASS" if speedup >= 10 else "MISS")
        t.measured = f"{_secs(ours.seconds)} vs {_secs(theirs.seconds)}: {speedup:.1f}× faster"  # type: ignore[union-attr]
    out.append(t)

    peak = _cell(results, 5000, "modelkit", "parse_cold")
    t = _check(
        "parse peak memory, 5,000 models",
        "< 150 MB",
        peak,
        lambda v: v < 150,
        value=peak.peak_mb if peak is not None and peak.ok else None,
    )
    t.measured = fmt_peak(peak)
    out.append(t)

    out += _change_targets(results)
    out += _engine_targets(results)
    helped = results.get("help", {}).get("modelkit")
    t = _check("`modelkit --help`", "< 0.3 s", helped, lambda v: v < 0.3)
    t.measured = _secs(helped.seconds) if helped and helped.ok else "–"
    out.append(t)
    return out


# Work on what changed: (name, goal, size, scenario, limit in seconds)
CHANGE_TARGETS = (
    ("parse after editing one model, 10,000 models", 10000, "parse_one_model_edited", 0.3),
    ("parse after editing a macro 100 models call, 10,000 models", 10000, "parse_macro_edited", 0.6),
    ("`compile -s` the edited model, 10,000 models", 10000, "compile_select_edited", 0.5),
    ("`run --skip-unchanged`, nothing changed, 1,000 models", 1000, "run_skip_unchanged", 0.5),
    ("`docs generate` before any run, 5,000 models", 5000, "docs_generate_unbuilt", 5.0),
    ("`docs generate` after a run, 5,000 models", 5000, "docs_generate", 5.0),
)
# What static analysis adds to a compile whose parse cache is warm: (size, limit in seconds)
ANALYSIS_TARGETS = ((1000, 1.0), (10000, 8.0))


def _change_targets(results: dict[str, Any]) -> list[Target]:
    out = []
    for name, size, key, limit in CHANGE_TARGETS:
        cell = _cell(results, size, "modelkit", key)
        t = _check(name, f"< {limit:g} s", cell, lambda v, limit=limit: v < limit)
        t.measured = _secs(cell.seconds) if cell and cell.ok else "–"
        out.append(t)
    for size, limit in ANALYSIS_TARGETS:
        name, goal = f"static analysis added to `compile`, {size:,} models", f"< {limit:g} s"
        on = _cell(results, size, "modelkit", "compile_analysis_cold")
        off = _cell(results, size, "modelkit", "compile_analysis_off")
        if on is None or off is None or not on.ok or not off.ok:
            out.append(_check(name, goal, on if on is None or not on.ok else off, lambda v: True))
            continue
        added = on.seconds - off.seconds  # type: ignore[operator]
        verdict = "PASS" if added < limit else "MISS"
        out.append(Target(name, goal, f"{_secs(on.seconds)} − {_secs(off.seconds)} = {added:+.3f} s", verdict))
    return out


def _engine_targets(results: dict[str, Any]) -> list[Target]:
    name, goal = "PostgreSQL `run --threads 4`, 1,000 models", f"≤ {enginereport.TARGET_RATIO} × floor"
    engines = results.get("engines")
    found = enginereport.postgres_ratio(engines) if engines else None
    if found is None:
        return [Target(name, goal, "–", "not measured: see benchmarks/engines.py")]
    mk, floor, ratio = found
    verdict = "PASS" if ratio <= enginereport.TARGET_RATIO else "MISS"
    return [Target(name, goal, f"{_secs(mk)} = {ratio:.2f} × floor ({_secs(floor)})", verdict)]


# -- the document -------------------------------------------------------------------------------------------------
def render(results: dict[str, Any]) -> str:
    opts = results["options"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{results['command']}` on {results['started']} "
        f"(the whole run took {results['seconds'] / 60:.1f} minutes). Every figure below comes from that one run.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
    ]
    lines += [f"| {k} | {v} |" for k, v in results["machine"].items()]
    lines += [f"| load average (1 min) at start / end | {results['load_start']:.2f} / {results['load_end']:.2f} |", ""]
    lines += busy_warning(results)
    lines += ["## Targets", "", "| target | goal | measured | result |", "| --- | --- | --- | --- |"]
    lines += [f"| {t.name} | {t.goal} | {t.measured} | {t.verdict} |" for t in targets(results)]
    lines += ["", "## How it was measured", ""]
    lines += [f"- {line}" for line in method_notes(opts)]
    helped = results.get("help", {})
    lines += [
        "",
        "## Start-up",
        "",
        "| command | modelkit | dbt-core | dbt ÷ modelkit |",
        "| --- | --- | --- | --- |",
        f"| `--help` | {fmt_cell(helped.get('modelkit'))} | {fmt_cell(helped.get('dbt'))} "
        f"| {_ratio_text(ratio(helped.get('dbt'), helped.get('modelkit')))} |",
    ]
    for size, data in sorted(results["sizes"].items()):
        lines += ["", *size_section(size, data)]
    engines = results.get("engines")
    if engines:
        lines += [
            "",
            "## Engines",
            "",
            "PostgreSQL and Spark are measured by `benchmarks/engines.py` in a run of their own (its date, command",
            "and load are given in each section), which `run.py` includes from `benchmarks/engines.json`.",
            f"Machine: {engines['machine']}.",
            "",
            *enginereport.sections(engines),
        ]
    return "\n".join(lines).rstrip() + "\n"


def busy_warning(results: dict[str, Any]) -> list[str]:
    """A warning when other work shared the machine (load average above the number of cores)."""
    loads = [results["load_start"], results["load_end"]]
    loads += [data["load"] for data in results["sizes"].values() if "load" in data]
    cores = int(results["machine"].get("cores (nproc)", "0") or 0)
    if not cores or max(loads) <= cores:
        return []
    return [
        f"**The machine was busy with other work during this run**: the load average reached {max(loads):.1f} "
        f"on {cores} cores. A single figure can be off by tens of percent (compare `run --threads 1` with "
        "`--threads 4`, or the floor from one size to the next); medians of several runs and ratios between "
        "neighbouring rows are the more reliable reading.",
        "",
    ]


def method_notes(opts: dict[str, Any]) -> list[str]:
    return [
        "Each command runs as a fresh subprocess from inside the project folder with `--profiles-dir .`; "
        "the time is the wall time of that process, start-up included.",
        f"Each cell is the median of up to {opts['repeat']} runs for modelkit and the floor and "
        f"{opts['dbt_repeat']} for dbt-core, fewer where the runs of a cell already added up to "
        f"{opts['budget']:.0f} s; the number of runs is in brackets. Other work on the machine "
        "adds noise: the load average is given for the whole run and for each size.",
        "Peak memory is the largest resident set size of the command's process (or of a process it waited "
        "for), from `wait4()`'s resource usage, taken over the runs of a cell. A small launcher process forks "
        "the command, so that the harness's own memory is not counted in it (Linux counts a forked process's "
        "memory before it executes the command).",
        "State before each run: *cold* rows start with no `target/` and a fresh copy of the DuckDB file "
        "holding the loaded seeds (so every run starts from the same state; the copy is not timed, and "
        "`sync` writes out such preparation before each timed run, so that the disk catching up with it "
        "is not counted in the next command; an old `target/` is moved aside, and deleted only when the "
        "whole run is over, because ext4 without a journal makes creating files slow for about a minute "
        "after thousands were deleted); "
        "*parse again* and *compile again* run after a parse or compile of the same files (the target "
        "*compile, 1,000 models* is checked on the cold compile); *run again*, *test* and *docs generate* run "
        "after a full `run --threads 4` (the previous row's). `test`, `build` and `docs generate` use the "
        "profile's threads (1), as the generated profiles.yml says.",
        "modelkit and dbt-core work on identical copies of the same generated project "
        "(`benchmarks/genproject.py`, seed 0, 1,000 rows per seed), each loading the seeds once "
        "(untimed) with its own `seed` command.",
        "The floor is `benchmarks/floor.py`: the compiled SQL of the manifest written by "
        "the tool's `compile`, run directly with the duckdb package in dependency order in one connection "
        "(`CREATE OR REPLACE VIEW/TABLE ... AS`, autocommit, then `CHECKPOINT`), and each compiled data test "
        "as `select count(*) from (...)`; its time counts the statements only. The *modelkit ÷ floor* "
        "column compares with the floor of modelkit's own SQL, measured right after modelkit's commands "
        "(and dbt-core's floor right after dbt-core's), so that each compares with the machine in about the "
        "same state.",
        "A command the tool does not have shows as *no such command*; *–* means not measured in this run.",
    ]


def _floor_for(key: str, floor: dict[str, Cell]) -> tuple[Cell | None, str]:
    """The floor a row compares with: the models' DDL for runs, the data tests' queries for `test`."""
    if key in MODEL_FLOOR_ROWS:
        return floor.get("models"), ""
    if key in TEST_FLOOR_ROWS:
        for name, suffix in (("tests", ""), ("dbt_tests", " (dbt-core's SQL)")):
            cell = floor.get(name)
            if cell is not None and cell.ok:
                return cell, suffix
    return None, ""


def size_section(size: int, data: dict[str, Any]) -> list[str]:
    counts = data.get("counts", {})
    described = ", ".join(
        f"{tool}: {c.get('model', 0):,} models, {c.get('test', 0):,} data tests" for tool, c in counts.items() if c
    )
    lines = [f"## {size:,} models", ""]
    if "load" in data:
        lines += [f"Load average (1 min) when this size started: {data['load']:.2f}.", ""]
    if described:
        lines += [f"Nodes in the compiled manifests — {described}.", ""]
    ours_tests, theirs_tests = (counts.get(t, {}).get("test", 0) for t in ("modelkit", "dbt"))
    if counts.get("dbt") and ours_tests < theirs_tests:
        lines += [
            f"Note: modelkit's manifest holds {ours_tests:,} data tests where dbt-core's holds {theirs_tests:,}, "
            "so parse and compile do not yet do the same work in both tools.",
            "",
        ]
    has_dbt = "dbt" in data
    head = "| command | modelkit | peak | "
    head += "dbt-core | peak | dbt ÷ modelkit | " if has_dbt else ""
    head += "floor | modelkit ÷ floor |"
    head += " dbt ÷ floor |" if has_dbt else ""
    lines += [head, "| " + " | ".join(["---"] * (head.count("|") - 1)) + " |"]
    floor = data.get("floor", {})
    for scenario in SCENARIOS:
        ours = data["modelkit"].get(scenario.key)
        row = [scenario.label, fmt_cell(ours), fmt_peak(ours)]
        if has_dbt:
            theirs = data["dbt"].get(scenario.key)
            row += [fmt_cell(theirs), fmt_peak(theirs), _ratio_text(ratio(theirs, ours))]
        base, suffix = _floor_for(scenario.key, floor) if ours is not None and ours.status != SKIPPED else (None, "")
        row += [fmt_cell(base) + suffix if base is not None else "", _ratio_text(ratio(ours, base)) if base else ""]
        if has_dbt:
            row.append(_ratio_text(ratio(data["dbt"].get(scenario.key), base)) if base else "")
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Floor detail (the statements only):", ""]
    floor_rows = [
        ("models", "modelkit's SQL, models, autocommit"),
        ("models_1tx", "modelkit's SQL, models, one transaction"),
        ("tests", "modelkit's SQL, data tests"),
        ("dbt_models", "dbt-core's SQL, models, autocommit"),
        ("dbt_tests", "dbt-core's SQL, data tests"),
    ]
    for key, label in floor_rows:
        cell = floor.get(key)
        if cell is not None and cell.status != SKIPPED:
            peak = f", peak {fmt_peak(cell)} (the whole floor script)" if cell.peak_mb else ""
            lines.append(f"- {label}: {fmt_cell(cell)}{peak}")
        elif cell is not None and cell.note:
            lines.append(f"- {label}: – ({cell.note})")
    return lines
