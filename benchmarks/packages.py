#!/usr/bin/env python3
"""What installed packages cost: parse of one generated project with and without dbt_utils and dbt_expectations.

    python benchmarks/packages.py [--size 1000] [--rounds 5]

The generated project (``benchmarks/genproject.py``) is copied twice. The second copy gets a
``packages.yml`` asking for ``dbt-labs/dbt_utils`` and ``metaplane/dbt_expectations`` (which brings
``godatadriven/dbt_date``) from a package hub written as static files from the package archives in
``tests/data/packages/`` and read through a ``file:`` URL (``DBT_PACKAGE_HUB_URL``), so nothing is
downloaded. ``deps`` installs them once, untimed. Then each round runs a cold ``parse`` (no
``target/``) and a ``parse`` with nothing changed on each copy, the two alternating, and one
``deps`` with the lock file and the packages in place (a *warm lock*). The report (``--output``,
markdown) gives medians and the ratio with packages ÷ without.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import sys
import tarfile
from pathlib import Path

import yaml
from harness.measure import run_once
from harness.scenarios import BY_KEY, run_scenario
from harness.tools import modelkit_tool
from harness.workspace import Workspace, empty_trash, generate

HERE = Path(__file__).resolve().parent
ARCHIVES = HERE.parent / "tests" / "data" / "packages"
# hub name of each archive's package (archives are named <package>-<version>.tar.gz)
HUB_NAMES = {
    "dbt_utils": "dbt-labs/dbt_utils",
    "dbt_date": "godatadriven/dbt_date",
    "dbt_expectations": "metaplane/dbt_expectations",
    "codegen": "dbt-labs/codegen",
    "audit_helper": "dbt-labs/audit_helper",
}
WANTED = ("dbt-labs/dbt_utils", "metaplane/dbt_expectations")
SCENARIOS = ("parse_cold", "parse_warm")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modelkit", help="the modelkit command (default: the one beside this Python)")
    p.add_argument("--size", type=int, default=1000, help="models in the generated project (default 1000)")
    p.add_argument("--rounds", type=int, default=5, help="alternating runs per scenario (default 5)")
    p.add_argument("--archives", type=Path, default=ARCHIVES, help="folder of <package>-<version>.tar.gz")
    p.add_argument("--work-dir", type=Path, default=HERE / "projects")
    p.add_argument("--output", type=Path, default=HERE / "PACKAGES.md")
    return p.parse_args(argv)


def write_hub(archives: Path, root: Path) -> dict[str, str]:
    """A package hub as static files under ``root`` (``api/v1/...``); returns ``{hub name: version}``."""
    shutil.rmtree(root, ignore_errors=True)
    entries: dict[str, dict] = {}
    for archive in sorted(archives.glob("*.tar.gz")):
        match = re.fullmatch(r"(.+)-(\d+\.\d+\.\d+)\.tar\.gz", archive.name)
        if not match or match.group(1) not in HUB_NAMES:
            continue
        name, version = match.groups()
        package = HUB_NAMES[name]
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/")[0]
            member = tar.extractfile(f"{top}/packages.yml") if f"{top}/packages.yml" in tar.getnames() else None
            deps_text = member.read().decode() if member else ""
        requires = (yaml.safe_load(deps_text) or {}).get("packages", []) if deps_text else []
        tarball = root / "tarballs" / archive.name
        tarball.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archive, tarball)
        entry = entries.setdefault(package, {"name": name, "namespace": package.split("/")[0], "versions": {}})
        entry["versions"][version] = {
            "id": f"{package}/{version}",
            "name": name,
            "version": version,
            "packages": requires,
            "downloads": {"tarball": tarball.as_uri(), "format": "tgz", "sha1": ""},
        }
        entry["latest"] = version
    for package, entry in entries.items():
        path = root / "api" / "v1" / f"{package}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entry), encoding="utf-8")
    (root / "api" / "v1" / "index.json").write_text(json.dumps(sorted(entries)), encoding="utf-8")
    return {package: entry["latest"] for package, entry in entries.items()}


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.work_dir / f"packages-{args.size}"
    logs = args.work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    hub_versions = write_hub(args.archives, work / "hub")
    missing = [p for p in WANTED if p not in hub_versions]
    if missing:
        raise SystemExit(f"no archive in {args.archives} for {', '.join(missing)}")
    tool = modelkit_tool(args.modelkit)
    tool.env = {**tool.env, "DBT_PACKAGE_HUB_URL": (work / "hub").as_uri() + "/"}
    source = generate(HERE / "genproject.py", args.size, args.work_dir / str(args.size) / "source", logs / "gen.log")
    plain = Workspace(tool, source, work / "plain", logs / f"packages-{args.size}-plain.log")
    with_packages = Workspace(tool, source, work / "with_packages", logs / f"packages-{args.size}-with.log")
    lines = [f"  - package: {p}\n    version: {hub_versions[p]}\n" for p in WANTED]
    (with_packages.root / "packages.yml").write_text("packages:\n" + "".join(lines), encoding="utf-8")
    deps = tool.command("deps")
    first = run_once(deps, with_packages.root, tool.env, with_packages.log)
    if first.returncode != 0:
        raise SystemExit(f"deps failed; see {with_packages.log}")
    installed = sorted(p.name for p in (with_packages.root / "dbt_packages").iterdir() if p.is_dir())
    rows: list[str] = []
    try:
        for key in SCENARIOS:
            times: dict[str, list[float]] = {"plain": [], "with": []}
            for _ in range(args.rounds):
                for label, ws in (("plain", plain), ("with", with_packages)):
                    cell = run_scenario(ws, BY_KEY[key], 1, 0.0)
                    if not cell.ok:
                        raise SystemExit(f"{key} failed ({cell.note})")
                    times[label].extend(s.seconds for s in cell.samples)
            a, b = median(times["plain"]), median(times["with"])
            rows.append(f"| {BY_KEY[key].label} | {a:.3f} | {b:.3f} | {b / a:.2f} |")
            print(rows[-1], flush=True)
        warm = [run_once(deps, with_packages.root, tool.env, with_packages.log) for _ in range(args.rounds)]
        if any(s.returncode != 0 for s in warm):
            raise SystemExit(f"deps failed; see {with_packages.log}")
        rows.append(f"| `deps`, warm lock file | | {median([s.seconds for s in warm]):.3f} | |")
        print(rows[-1], flush=True)
    finally:
        empty_trash(args.work_dir)
    head = [
        f"# Installed packages: parse of {args.size} models with and without them",
        "",
        f"`python benchmarks/packages.py {' '.join(argv if argv is not None else sys.argv[1:])}`, "
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, load average {os.getloadavg()[0]:.1f} at the end. "
        f"Packages installed: {', '.join(installed)} (from `tests/data/packages/`). Median wall seconds of "
        f"{args.rounds} alternating runs each, start-up included; ratio = with packages ÷ without.",
        "",
        "| command | without packages (s) | with packages (s) | ratio |",
        "| --- | --- | --- | --- |",
    ]
    args.output.write_text("\n".join(head + rows) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
