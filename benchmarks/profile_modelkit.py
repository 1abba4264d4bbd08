#!/usr/bin/env python3
"""Profile one modelkit command on a generated project with cProfile, all threads included.

    python benchmarks/profile_modelkit.py [--size 1000] [--command parse|compile|run] [--threads 1] [--top 30]

Runs the command in this process (the node work of `run` happens on worker threads: each thread gets its own
profiler, merged at the end), saves the stats to benchmarks/projects/profile-COMMAND-SIZE.prof (open them with
`python -m pstats` or snakeviz) and prints: time per package and per modelkit module (own time), the modelkit
functions by cumulative time, and the functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import sysconfig
import threading
import time
from collections import defaultdict
from pathlib import Path

from harness.tools import modelkit_tool
from harness.workspace import Workspace, generate

HERE = Path(__file__).resolve().parent
GEN_SCRIPT = HERE / "genproject.py"
STDLIB = sysconfig.get_paths()["stdlib"]


def profile_command(args: list[str], cwd: Path) -> tuple[pstats.Stats, float]:
    """Run ``modelkit ARGS`` in-process under cProfile (every thread); (merged stats, wall seconds)."""
    from modelkit.cli.main import main

    thread_profiles: list[cProfile.Profile] = []

    def start_thread_profiler(*_: object) -> None:
        profiler = cProfile.Profile()
        thread_profiles.append(profiler)
        profiler.enable()  # replaces this hook for the rest of the thread

    old = Path.cwd()
    os.chdir(cwd)
    main_profile = cProfile.Profile()
    threading.setprofile(start_thread_profiler)
    start = time.perf_counter()
    main_profile.enable()
    try:
        main(args)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        main_profile.disable()
        wall = time.perf_counter() - start
        threading.setprofile(None)  # type: ignore[arg-type]
        os.chdir(old)
    stats = pstats.Stats(main_profile, stream=io.StringIO())
    for profiler in thread_profiles:
        stats.add(profiler)
    return stats, wall


def owner(filename: str, funcname: str) -> str:
    """Which package (or modelkit module) a function belongs to.

    duckdb's methods do not show up as calls of their own: their time is the own time of the modelkit function
    that calls them (mostly in modelkit.adapters.duckdb).
    """
    if filename == "~":
        if "_thread.lock" in funcname or "_thread.RLock" in funcname:
            return "waiting on a lock (mostly the main thread waiting for worker threads)"
        if "builtins.compile" in funcname:
            return "builtin compile() (Jinja compiling templates to Python)"
        return "duckdb (C)" if "duckdb" in funcname.lower() else f"builtin {funcname}"
    if "/modelkit/" in filename and "site-packages" not in filename:
        return "modelkit." + filename.rsplit("/modelkit/", 1)[1].removesuffix(".py").replace("/", ".")
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if filename.startswith(STDLIB):
        return "stdlib " + filename[len(STDLIB) :].lstrip("/").split("/", 1)[0].removesuffix(".py")
    return filename


def report(stats: pstats.Stats, wall: float, top: int) -> str:
    raw = stats.stats  # type: ignore[attr-defined]
    own: dict[str, float] = defaultdict(float)
    for (filename, _, funcname), (_, _, tottime, _, _) in raw.items():
        own[owner(filename, funcname)] += tottime
    total = sum(own.values())
    out = [f"wall time {wall:.3f} s; profiled own time {total:.3f} s (all threads, profiler overhead included)", ""]
    out.append("own time by package / modelkit module:")
    for name, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        out.append(f"  {seconds:8.3f} s {100 * seconds / total:5.1f}%  {name}")
    out += ["", "modelkit functions by cumulative time (calls, cumulative s, own s):"]
    mine = [(k, v) for k, v in raw.items() if owner(k[0], k[2]).startswith("modelkit.")]
    for (filename, line, funcname), (_, calls, tottime, cumtime, _) in sorted(mine, key=lambda kv: -kv[1][3])[:top]:
        where = f"{owner(filename, funcname)}:{line} {funcname}"
        out.append(f"  {calls:8d} {cumtime:8.3f} {tottime:8.3f}  {where}")
    out += ["", "all functions by own time (calls, own s, cumulative s):"]
    for (filename, line, funcname), (_, calls, tottime, cumtime, _) in sorted(raw.items(), key=lambda kv: -kv[1][2])[
        :top
    ]:
        out.append(f"  {calls:8d} {tottime:8.3f} {cumtime:8.3f}  {owner(filename, funcname)}:{line} {funcname}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1000, help="models in the generated project (default 1000)")
    p.add_argument("--command", choices=("parse", "compile", "run"), default="parse")
    p.add_argument("--threads", type=int, default=1, help="--threads for run (default 1)")
    p.add_argument("--top", type=int, default=30, help="lines per listing")
    p.add_argument("--work-dir", type=Path, default=HERE / "projects")
    args = p.parse_args(argv)

    work = args.work_dir / str(args.size)
    source = generate(GEN_SCRIPT, args.size, work / "source", args.work_dir / "logs" / "generate.log")
    ws = Workspace(modelkit_tool(), source, work / "profile", args.work_dir / "logs" / f"{args.size}-profile.log")
    ws.cold()  # no target/, freshly seeded database
    command = [args.command, "--profiles-dir", ".", "--quiet"]
    if args.command == "run":
        command += ["--threads", str(args.threads)]
    stats, wall = profile_command(command, ws.root)
    saved = args.work_dir / f"profile-{args.command}-{args.size}.prof"
    stats.dump_stats(saved)
    print(f"modelkit {' '.join(command)} on {args.size} models; stats in {saved}")
    print(report(stats, wall, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
