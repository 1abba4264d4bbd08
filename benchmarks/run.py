#!/usr/bin/env python3
"""Benchmark modelkit (and, with --compare-dbt, dbt-core) on generated projects; write RESULTS.md.

    python benchmarks/run.py [--sizes 100,1000,5000,10000] [--repeat N] [--compare-dbt] [--quick]

See benchmarks/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from genproject_plan import MIN_MODELS
from harness.floor import measure_floor
from harness.measure import FAILED, Cell, cell_from_json, measure, run_once
from harness.report import render, targets
from harness.scenarios import BY_KEY, EDIT_SCENARIOS, PARSE_ONLY, SCENARIOS, Scenario, node_counts, run_all
from harness.tools import Tool, dbt_tool, modelkit_tool
from harness.workspace import HarnessError, Workspace, empty_trash, generate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def sizes(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 100,1000 (got {text!r})") from None
    if any(v < MIN_MODELS for v in values):
        raise argparse.ArgumentTypeError(f"every size must be at least {MIN_MODELS} models")
    return values


def scenario_keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenario {unknown[0]!r}; known: {', '.join(BY_KEY)}")
    return keys


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=sizes, help="project sizes in models (default 100,1000,5000,10000; --quick: 100)")
    p.add_argument("--repeat", type=int, help="runs per modelkit and floor cell, median reported (default 3)")
    p.add_argument("--dbt-repeat", type=int, default=1, help="runs per dbt-core cell (default 1)")
    p.add_argument("--budget", type=float, default=60.0, help="stop repeating a cell once its runs add up to this (s)")
    p.add_argument("--compare-dbt", action="store_true", help="also measure dbt-core 1.11 + dbt-duckdb 1.11")
    p.add_argument("--dbt-sizes", type=sizes, default=[100, 1000], help="sizes where dbt runs every command (100,1000)")
    p.add_argument("--dbt-parse-sizes", type=sizes, default=[5000], help="sizes where dbt only parses (5000)")
    p.add_argument("--scenarios", type=scenario_keys, help=f"only these ({', '.join(BY_KEY)})")
    p.add_argument("--quick", action="store_true", help="one run per cell, 100 models unless --sizes, no extras")
    p.add_argument("--work-dir", type=Path, default=HERE / "projects", help="generated projects and logs")
    p.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="the report to write")
    p.add_argument("--json", type=Path, help="raw results (default: results.json beside --output)")
    p.add_argument("--gen-script", type=Path, default=HERE / "genproject.py", help="project generator")
    p.add_argument("--floor-script", type=Path, default=HERE / "floor.py", help="the floor's script")
    p.add_argument("--dbt-venv", type=Path, default=HERE / ".venv-dbt", help="dbt-core's virtual environment")
    p.add_argument("--modelkit", help="modelkit command to measure (default: the one beside this Python)")
    p.add_argument("--render-only", type=Path, metavar="JSON", help="write --output again from a results.json")
    p.add_argument(
        "--engines-json",
        type=Path,
        default=HERE / "engines.json",
        help="engines.py's figures to include (default: benchmarks/engines.json, when it exists)",
    )
    args = p.parse_args(argv)
    args.sizes = args.sizes or ([100] if args.quick else [100, 1000, 5000, 10000])
    args.repeat = args.repeat or (1 if args.quick else 3)
    if args.quick:
        args.dbt_repeat = 1
    args.json = args.json or args.output.with_name("results.json")
    for script in (args.gen_script, args.floor_script):
        if not script.exists():
            p.error(f"{script} not found")
    return args


def progress(size: int) -> Any:
    def report(tool: str, scenario: Scenario, cell: Cell) -> None:
        if cell.ok:
            peak = f", peak {cell.peak_mb:.0f} MB" if cell.peak_mb else ""
            text = f"{cell.seconds:.3f} s median of {len(cell.samples)}{peak}"
        else:
            text = f"{cell.status} {cell.note}".strip()
        print(f"[{size:>6} models] {tool:<8} {scenario.label:<45} {text}", flush=True)

    return report


def measure_help(tool: Tool, work: Path, repeat: int, budget: float) -> Cell:
    log = work / "logs" / f"help-{tool.name}.log"
    run_once([*tool.exe, "--help"], work, tool.env, log)  # warm-up: byte-code caches, file system cache
    return measure([*tool.exe, "--help"], work, tool.env, log, repeat=max(repeat, 5), budget=5.0)


def bench_size(size: int, args: argparse.Namespace, mk: Tool, dbt: Tool | None) -> dict[str, Any]:
    work, logs = args.work_dir / str(size), args.work_dir / "logs"
    keys = args.scenarios or [s.key for s in SCENARIOS if not (args.quick and s.key in EDIT_SCENARIOS)]
    source = generate(args.gen_script, size, work / "source", logs / "generate.log")
    show = progress(size)
    data: dict[str, Any] = {"load": os.getloadavg()[0], "floor": {}}
    floor, floor_log = data["floor"], logs / f"{size}-floor.log"
    run_floor = any(k in keys for k in ("run_t1", "run_t4", "run_again", "test"))

    def measure_floors(ws: Workspace, prefix: str, single_transaction: bool) -> None:
        # Right after the tool's own commands, so that both see the machine in about the same state.
        found = measure_floor(args.floor_script, ws, floor_log, repeat=args.repeat, budget=args.budget)
        floor[prefix + "models"], floor[prefix + "tests"] = found
        if single_transaction:
            floor[prefix + "models_1tx"], _ = measure_floor(
                args.floor_script, ws, floor_log, repeat=args.repeat, budget=args.budget, single_transaction=True
            )
        for key in [k for k in floor if k.startswith(prefix) and (prefix or not k.startswith("dbt_"))]:
            cell = floor[key]
            text = f"{cell.seconds:.3f} s median of {len(cell.samples)}" if cell.ok else f"{cell.status} {cell.note}"
            print(f"[{size:>6} models] floor    {key:<45} {text}", flush=True)

    ours = Workspace(mk, source, work / "modelkit", logs / f"{size}-modelkit.log")
    data["modelkit"] = run_all(ours, keys, args.repeat, args.budget, show)
    if run_floor:
        measure_floors(ours, "", not args.quick)
    theirs = None
    if dbt is not None and (size in args.dbt_sizes or size in args.dbt_parse_sizes):
        dbt_keys = keys if size in args.dbt_sizes else [k for k in keys if k in PARSE_ONLY]
        theirs = Workspace(dbt, source, work / "dbt", logs / f"{size}-dbt.log")
        data["dbt"] = run_all(theirs, dbt_keys, args.dbt_repeat, args.budget, show)
        if run_floor and size in args.dbt_sizes:
            measure_floors(theirs, "dbt_", False)
    data["counts"] = {"modelkit": node_counts(ours.manifest)}
    if theirs is not None:
        data["counts"]["dbt"] = node_counts(theirs.manifest)
    return data


def to_json(value: Any) -> Any:
    if isinstance(value, Cell):
        return value.to_json()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def with_engines(results: dict[str, Any], engines_json: Path | None) -> dict[str, Any]:
    """``results`` with the engine benchmarks' figures (engines.py's own run), when there are some."""
    if engines_json is None or not engines_json.exists():
        return results
    return {**results, "engines": json.loads(engines_json.read_text())}


def write(args: argparse.Namespace, results: dict[str, Any], clock: float, load_start: float) -> None:
    results["seconds"] = time.perf_counter() - clock
    results["load_start"], results["load_end"] = load_start, os.getloadavg()[0]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(with_engines(results, args.engines_json)))
    args.json.write_text(json.dumps(to_json(results), indent=1) + "\n")


def from_json(data: Any, key: str = "") -> Any:
    """The results that ``to_json`` wrote (cells as Cell, sizes as int)."""
    if isinstance(data, dict) and "status" in data and "samples" in data:
        return cell_from_json(data)
    if isinstance(data, dict):
        return {(int(k) if key == "sizes" else k): from_json(v, k) for k, v in data.items()}
    return data


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render_only:
        results = from_json(json.loads(args.render_only.read_text()))
        args.output.write_text(render(with_engines(results, args.engines_json)))
        print(f"wrote {args.output} from {args.render_only}")
        return 0
    args.work_dir.mkdir(parents=True, exist_ok=True)
    started, clock = dt.datetime.now().astimezone(), time.perf_counter()
    load_start = os.getloadavg()[0]
    shown = [a if a != str(HERE / "RESULTS.md") else "benchmarks/RESULTS.md" for a in (argv or sys.argv[1:])]
    results: dict[str, Any] = {
        "command": shlex.join(["python", "benchmarks/run.py", *shown]),
        "started": started.strftime("%Y-%m-%d %H:%M %Z"),
        "options": {"repeat": args.repeat, "dbt_repeat": args.dbt_repeat, "budget": args.budget},
        "sizes": {},
    }
    try:
        mk = modelkit_tool(args.modelkit)
        dbt = dbt_tool(args.dbt_venv, args.work_dir / "logs" / "dbt-install.log") if args.compare_dbt else None
        from harness.report import machine_info

        results["machine"] = machine_info(REPO, dbt.python if dbt else None)
        results["help"] = {"modelkit": measure_help(mk, args.work_dir, args.repeat, args.budget)}
        if dbt is not None:
            results["help"]["dbt"] = measure_help(dbt, args.work_dir, args.repeat, args.budget)
        for size in args.sizes:
            results["sizes"][size] = bench_size(size, args, mk, dbt)
            write(args, results, clock, load_start)  # after each size, so that a long run keeps what it has
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        empty_trash(args.work_dir)
    write(args, results, clock, load_start)
    print(f"\nwrote {args.output} and {args.json}")
    for t in targets(results):
        print(f"  {t.verdict:<5} {t.name}: {t.measured} (goal {t.goal})")
    failed = [
        f"{size} {tool} {key}"
        for size, data in results["sizes"].items()
        for tool in ("modelkit", "dbt")
        for key, cell in data.get(tool, {}).items()
        if cell.status == FAILED
    ]
    if failed:
        print(f"failed: {', '.join(failed)} (see {args.work_dir / 'logs'})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
