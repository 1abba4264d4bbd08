#!/usr/bin/env python3
"""How `modelkit docs generate` and its site hold up on a large project.

    python benchmarks/docs_scale.py [--models 5000] [--no-build] [--json out.json]

Generates a project of N models with benchmarks/genproject.py under benchmarks/projects/docs-N/, builds
it (seed + run, so that the catalog is real; not timed as part of the docs), then measures:

- `docs generate` seconds: cold (no lineage cache), warm (cache from the cold run) and warm with
  --no-compile (reusing target/compiled/ from the run), with modelkit's own split of each run;
- the size of target/index.html in MB;
- in headless Chromium (/usr/bin/chromium): time to first render (navigation start to the first
  frame painted after the page is ready), and the lineage graph with every node: layout time,
  draw time of a full frame and of a frame while panning.

Targets: generate < 10 s, first render < 2 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GEN_PROJECT = REPO / "benchmarks" / "genproject.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def modelkit(project: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "modelkit.cli", *args, "-q"], cwd=project, check=True)
    return time.perf_counter() - start


def generate_in_process(project: Path, compile: bool) -> dict[str, Any]:
    """`docs generate` timed end to end, in a fresh interpreter, with modelkit's own split."""
    code = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "from modelkit.docs import generate\n"
        f"r = generate('.', compile={compile!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'timings': r.timings, 'nodes': r.nodes,"
        " 'columns': r.columns, 'unresolved': r.unresolved_columns}))\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=project, check=True, capture_output=True, text=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["wall_seconds"] = time.perf_counter() - start  # with interpreter start-up and imports
    return data


def browser_figures(index: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        renders = []
        for _ in range(3):
            page.goto(index.as_uri() + "#!/graph")
            page.wait_for_function("window.modelkitDocs && window.modelkitDocs.ready")
            renders.append(
                page.evaluate(
                    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"
                )
            )
            neighbourhood = page.evaluate("window.modelkitDocs.state.dag.stats")
        page.evaluate("() => { location.hash = '#!/graph?select='; }")
        page.wait_for_function("window.modelkitDocs.state.dag && window.modelkitDocs.state.dag.stats.nodes > 1000")
        page.wait_for_timeout(300)
        everything = page.evaluate("window.modelkitDocs.state.dag.stats")
        frames = {str(zoom): _pan_frames(page, zoom) for zoom in ("fit", 0.1, 0.8)}
        browser.close()
    return {
        "first_render_ms": round(min(renders)),
        "first_render_ms_all": [round(r) for r in renders],
        "default_view_nodes": neighbourhood["nodes"],
        "all_nodes": everything["nodes"],
        "all_edges": everything["edges"],
        "all_layout_ms": everything["layoutMs"],
        "pan_frames": frames,
        "page_errors": errors,
    }


PAN = """(zoom) => new Promise(done => {
  const d = window.modelkitDocs.state.dag; d.fit(null);
  if (zoom !== "fit") {
    const b = d.bounds(null); d.scale = zoom;
    d.tx = d.width / 2 - (b.x0 + (b.x1 - b.x0) * 0.3) * zoom; d.ty = d.height / 2 - ((b.y0 + b.y1) / 2) * zoom;
  }
  const stamps = [], seen = [];
  function frame(ts) {
    stamps.push(ts); d.tx -= 5; d.draw(); seen.push(d.stats.drawnNodes);
    if (stamps.length < 40) requestAnimationFrame(frame); else done({stamps, seen});
  }
  requestAnimationFrame(frame);
})"""


def _pan_frames(page: Any, zoom: Any) -> dict[str, Any]:
    """Frame intervals (ms, painted frames, not only the drawing calls) while panning at a zoom."""
    data = page.evaluate(PAN, zoom)
    stamps = data["stamps"]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    return {
        "nodes_on_screen": round(statistics.median(data["seen"])),
        "frame_ms_median": round(statistics.median(gaps), 1),
        "frame_ms_max": round(max(gaps), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=None, help="project folder (default benchmarks/projects/docs-N)")
    parser.add_argument("--no-build", action="store_true", help="skip seed + run (the catalog is then empty)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    project = args.dir or REPO / "benchmarks" / "projects" / f"docs-{args.models}"
    if not (project / "dbt_project.yml").exists():
        if project.exists():
            shutil.rmtree(project)
        subprocess.run(
            [sys.executable, str(GEN_PROJECT), "--models", str(args.models), "--out", str(project)], check=True
        )
    figures: dict[str, Any] = {"models": args.models}
    if not args.no_build:
        figures["build_seconds"] = round(modelkit(project, "seed") + modelkit(project, "run"), 1)
    (project / "target" / "lineage_cache.json").unlink(missing_ok=True)
    figures["cold"] = generate_in_process(project, compile=True)
    figures["warm"] = generate_in_process(project, compile=True)
    figures["warm_no_compile"] = generate_in_process(project, compile=False)
    index = project / "target" / "index.html"
    figures["site_mb"] = round(index.stat().st_size / 1e6, 2)
    if CHROMIUM.exists():
        figures["browser"] = browser_figures(index)
    else:
        figures["browser"] = "skipped: /usr/bin/chromium is not installed"

    def line(label: str, run: dict[str, Any]) -> str:
        split = ", ".join(f"{k} {v:.1f}" for k, v in run["timings"].items())
        return f"{label:<28}{run['seconds']:6.1f} s   ({split})"

    print(f"docs generate on {args.models} models ({figures['cold']['nodes']} nodes in the site)")
    print(line("  cold (no lineage cache)", figures["cold"]))
    print(line("  warm", figures["warm"]))
    print(line("  warm, --no-compile", figures["warm_no_compile"]))
    print(f"  columns traced: {figures['cold']['columns']} ({figures['cold']['unresolved']} unresolved)")
    print(f"  site size: {figures['site_mb']} MB")
    browser = figures["browser"]
    if isinstance(browser, dict):
        print(f"  first render: {browser['first_render_ms']} ms (runs: {browser['first_render_ms_all']})")
        print(
            f"  graph, all {browser['all_nodes']} nodes / {browser['all_edges']} edges: layout {browser['all_layout_ms']} ms"
        )
        for zoom, f in browser["pan_frames"].items():
            print(
                f"    panning at zoom {zoom}: {f['nodes_on_screen']} nodes on screen,"
                f" {f['frame_ms_median']} ms a frame (max {f['frame_ms_max']})"
            )
    else:
        print(f"  browser: {browser}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
