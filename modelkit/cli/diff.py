"""``modelkit diff``: the column changes of modified models against ``--state`` / ``--state-git``.

Text output is a log of lines, one block per modified model; ``--output json`` prints one JSON
document (the shape of :meth:`modelkit.api.impact.ImpactReport.to_json`, documented in the README).
"""

from __future__ import annotations

import json
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
    with_state_options,
)

MARKS = {"added": "+", "removed": "-", "renamed": ">", "retyped": "~"}


def _typed(name: str, type_: str | None) -> str:
    return f"{name} ({type_})" if type_ else name


def describe(change: dict[str, Any]) -> str:
    kind = change["change"]
    if kind == "added":
        text = f"added column {_typed(change['column'], change['new_type'])}"
    elif kind == "removed":
        text = f"removed column {_typed(change['column'], change['old_type'])}"
    elif kind == "renamed":
        text = f"renamed column {change['column']} -> {change['new_name']}"
    else:
        text = f"retyped column {change['column']}: {change['old_type']} -> {change['new_type']}"
    verdict = "BREAKING" if change["breaking"] else "non-breaking"
    return f"  {MARKS[kind]} {text} [{verdict}]"


def text_lines(report: dict[str, Any]) -> list[str]:
    """The report as the console shows it."""
    models = report["models"]
    breaking = sum(1 for m in models for c in m["changes"] if c["breaking"])
    changes = sum(len(m["changes"]) for m in models)
    lines = [
        f"Compared with {report['state']}: {len(models)} modified model{'s' * (len(models) != 1)}, "
        f"{changes} column change{'s' * (changes != 1)}, {breaking} breaking"
    ]
    for model in models:
        lines += ["", f"model {model['name']} ({'breaking' if model['breaking'] else 'non-breaking'})"]
        if not model["columns_known"]:
            lines.append(f"  ? columns not compared: {model['reason']}")
        if model["columns_known"] and not model["changes"]:
            lines.append("  no column changes")
        for change in model["changes"]:
            lines.append(describe(change))
            readers = [f"{r['name']}.{r['column']}" for r in change["downstream_columns"]]
            if readers:
                lines.append(f"      read by: {', '.join(readers)}")
            if change["tests"]:
                lines.append(f"      tested by: {', '.join(change['tests'])}")
        if model["exposures"]:
            lines.append(f"  exposures: {', '.join(model['exposures'])}")
    return lines


@app.command()
@with_state_options
def diff(
    output: Annotated[str, typer.Option("--output", "-o", help="text or json.")] = "text",
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
    state_flags: Optional[dict[str, Any]] = None,
) -> None:
    """Column changes of each modified model against --state / --state-git, and what downstream they break."""
    reporter = make_reporter(use_colors, quiet or output == "json", project_dir)
    if output not in ("text", "json"):
        reporter.error(f"--output must be text or json, not {output!r}")
        raise typer.Exit(2)

    def go() -> None:
        project = open_project(project_dir, profiles_dir, target, profile, vars, None, reporter, state_flags)
        report = project.diff().to_json()
        if output == "json":
            text = json.dumps(report, indent=2)
            reporter.print_out("PrintEvent", text, {"msg": text})
            return
        for line in text_lines(report):
            reporter.line(line, always=True)

    guard(go, debug)
