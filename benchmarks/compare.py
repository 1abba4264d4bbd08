#!/usr/bin/env python3
"""Two builds of modelkit side by side: is a change faster or slower than the build before it?

    python benchmarks/compare.py --baseline /path/to/other/venv/bin/modelkit [--size 1000] [--rounds 5]

Both tools get their own copy of one generated project (``benchmarks/genproject.py``). Each round
measures every scenario once with each tool, the two alternating, so that whatever else the machine
is doing weighs on both alike; the report gives each tool's median and the ratio (this build /
baseline). ``--help`` is measured the same way. The report goes to ``--output`` (markdown) and
stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
from pathlib import Path

from harness.measure import Cell, measure, run_once
from harness.scenarios import BY_KEY, run_scenario
from harness.tools import Tool, modelkit_tool
from harness.workspace import Workspace, empty_trash, generate

HERE = Path(__file__).resolve().parent
DEFAULT_SCENARIOS = ("parse_cold", "compile", "run_t4", "test")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", required=True, help="the modelkit command to compare with (e.g. another venv's)")
    p.add_argument("--modelkit", help="this build's modelkit command (default: the one beside this Python)")
    p.add_argument("--size", type=int, default=1000, help="models in the generated project (default 1000)")
    p.add_argument("--rounds", type=int, default=5, help="alternating runs per scenario and tool (default 5)")
    p.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS), help="scenario keys (see harness/scenarios.py)")
    p.add_argument("--work-dir", type=Path, default=HERE / "projects")
    p.add_argument("--output", type=Path, default=HERE / "COMPARE.md")
    return p.parse_args(argv)


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def alternate(tools: list[tuple[Tool, Workspace | None]], key: str, rounds: int, work: Path) -> list[list[float]]:
    """Per tool, the wall times of ``rounds`` runs of scenario ``key`` (``help``: ``--help``), alternating tools."""
    times: list[list[float]] = [[] for _ in tools]
    for _ in range(rounds):
        for i, (tool, ws) in enumerate(tools):
            if ws is None:
                cell: Cell = measure(
                    [*tool.exe, "--help"], work, tool.env, work / "logs" / "help.log", repeat=1, budget=0
                )
            else:
                cell = run_scenario(ws, BY_KEY[key], 1, 0.0)
            if not cell.ok:
                raise SystemExit(f"{tool.name}: {key} failed ({cell.note}); see {work / 'logs'}")
            times[i].extend(s.seconds for s in cell.samples)
    return times


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work_dir / f"compare-{args.size}"
    logs = args.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    new = modelkit_tool(args.modelkit)
    base = modelkit_tool(args.baseline)
    base.name = "baseline"
    source = generate(
        HERE / "genproject.py", args.size, args.work_dir / str(args.size) / "source", logs / "generate.log"
    )
    spaces = [
        (new, Workspace(new, source, work / "modelkit", logs / f"compare-{args.size}-modelkit.log")),
        (base, Workspace(base, source, work / "baseline", logs / f"compare-{args.size}-baseline.log")),
    ]
    for tool, _ in spaces:  # warm-up: byte-code caches and the file system cache
        run_once([*tool.exe, "--help"], args.work_dir, tool.env, logs / "help.log")
    rows = []
    try:
        for key in ["help", *args.scenarios.split(",")]:
            tools = [(t, None) for t, _ in spaces] if key == "help" else list(spaces)
            mine, theirs = alternate(tools, key, args.rounds, args.work_dir)
            label = "`--help`" if key == "help" else BY_KEY[key].label
            ratio = median(mine) / median(theirs)
            rows.append(f"| {label} | {median(mine):.3f} | {median(theirs):.3f} | {ratio:.2f} |")
            print(rows[-1], flush=True)
    finally:
        empty_trash(args.work_dir)
    head = [
        f"# This build against a baseline, {args.size} models",
        "",
        f"`python benchmarks/compare.py {' '.join(argv if argv is not None else sys.argv[1:])}`, "
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, load average {os.getloadavg()[0]:.1f} at the end. "
        f"Median wall seconds of {args.rounds} alternating runs each; ratio below 1: this build is faster.",
        "",
        "| scenario | this build (s) | baseline (s) | ratio |",
        "| --- | --- | --- | --- |",
    ]
    args.output.write_text("\n".join(head + rows) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
