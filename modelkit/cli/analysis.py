"""Static analysis on the console, and ``modelkit lineage``.

Warnings and notes of the analysis are printed as they are found, before anything runs; its errors
reach the console as the command's error (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modelkit.cli.app import (
    Colors,
    Debug,
    Profile,
    ProfilesDir,
    ProjectDir,
    Quiet,
    Target,
    Vars,
    app,
    guard,
    make_reporter,
    open_project,
)
from modelkit.core import settings
from modelkit.core.text import pluralize


def report_analysis(reporter: Any, report: Any, debug: bool = False) -> None:
    """Print a static analysis report's warnings and notes (errors come as the command's error)."""
    debug = debug or bool(settings.resolve("debug"))
    for diagnostic in report.diagnostics:
        if diagnostic.severity == "error":
            continue
        if diagnostic.severity == "warn":
            text = f"[WARNING]: Static analysis of {diagnostic.where}: {diagnostic.message}"
            reporter.emit("Note", text, {"msg": text}, level="warn", style="yellow")
        else:
            text = f"Static analysis of {diagnostic.where}: {diagnostic.message}"
            reporter.emit("Note", text, {"msg": text}, level="info")
        if debug and diagnostic.detail:
            for line in diagnostic.detail.rstrip().splitlines():
                reporter.emit("Note", line, {"msg": line}, level="debug", always=True)
    shared = f" ({report.on_worker} on a worker process)" if report.workers else ""
    timing = (
        f"Static analysis: {pluralize(report.analysed, 'node')} analysed{shared}, "
        f"{report.cached} from the cache, in {report.seconds:.2f}s"
    )
    reporter.emit("Note", timing, {"msg": timing}, level="debug")
    if report.errors:
        reporter.end()  # the error follows: no progress bar under it


@app.command()
def lineage(
    node: Annotated[str, typer.Argument(help="NODE or NODE.COLUMN: a model, seed, snapshot or source (source.table).")],
    upstream: Annotated[bool, typer.Option("--upstream", help="What it comes from (default: both ways).")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="What comes from it (default: both ways).")] = False,
    depth: Annotated[Optional[int], typer.Option("--depth", min=1, help="Hops to follow (default: all).")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="text, json or dot.")] = "text",
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Column lineage of NODE.COLUMN (copied, transformed, aggregated, filtered-by), or the node graph of NODE."""
    from modelkit.analysis.graphs import OUTPUTS, render

    reporter = make_reporter(use_colors, quiet, project_dir)
    if output not in OUTPUTS:
        reporter.error(f"--output must be one of {', '.join(OUTPUTS)}, not {output!r}")
        raise typer.Exit(2)

    def go() -> None:
        project = open_project(project_dir, profiles_dir, target, profile, vars, None, reporter)
        both = not upstream and not downstream
        graph = project.lineage(node, upstream=upstream or both, downstream=downstream or both, depth=depth)
        text = render(graph, output)
        reporter.print_out("PrintEvent", text, {"msg": text})

    guard(go, debug)
