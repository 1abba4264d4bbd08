#!/usr/bin/env python3
"""What static analysis adds to `modelkit compile`, cold and from its cache.

    python benchmarks/static_analysis.py [--models 1000] [--repeat 3] [--out DIR]

Generates a project of N models with benchmarks/genproject.py (under DIR, default
benchmarks/projects/analysis-N/), then runs `modelkit compile` with `--static-analysis off`, `on` with
no analysis cache (cold) and `on` with the cache of the previous run (warm), each --repeat times,
and prints the median wall time and CPU time (the command and its worker processes) of each.
The CPU times are the ones to read on a busy machine: wall times there depend on the other load.

Targets: the analysis adds < 1 s at 1,000 models and < 8 s at 10,000.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN_PROJECT = REPO / "benchmarks" / "genproject.py"


def modelkit() -> list[str]:
    return [sys.executable, "-m", "modelkit.cli"]


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = args.out or REPO / "benchmarks" / "projects" / f"analysis-{args.models}"
    if not (root / "dbt_project.yml").is_file():
        subprocess.run([sys.executable, str(GEN_PROJECT), "--models", str(args.models), "--out", str(root)], check=True)
    compile_ = [*modelkit(), "compile", "--profiles-dir", str(root)]
    cache = root / "target" / "static_analysis.json"
    timed([*compile_, "--static-analysis", "off"], root)  # parse cache and compiled files in place
    runs: dict[str, list[tuple[float, float]]] = {"off": [], "on, cold": [], "on, warm": []}
    for _ in range(args.repeat):
        runs["off"].append(timed([*compile_, "--static-analysis", "off"], root))
        cache.unlink(missing_ok=True)
        runs["on, cold"].append(timed([*compile_, "--static-analysis", "on"], root))
        runs["on, warm"].append(timed([*compile_, "--static-analysis", "on"], root))
    base_wall = statistics.median(w for w, _ in runs["off"])
    base_cpu = statistics.median(c for _, c in runs["off"])
    print(f"modelkit compile, {args.models} models, median of {args.repeat} ({os.cpu_count()} cores)")
    for name, values in runs.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"  {name:<9} wall {wall:6.2f} s ({wall - base_wall:+.2f})   cpu {cpu:6.2f} s ({cpu - base_cpu:+.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
