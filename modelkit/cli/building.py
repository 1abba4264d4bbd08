"""The commands that build and parse: run, seed, snapshot, test, build, compile, parse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from modelkit.cli import prescan
from modelkit.cli.analysis import report_analysis
from modelkit.cli.app import (
    Colors,
    Debug,
    EventTimeEnd,
    EventTimeStart,
    Exclude,
    ExcludeResourceTypes,
    FailFast,
    FullRefresh,
    Profile,
    ProfilesDir,
    ProjectDir,
    Quiet,
    ResourceTypes,
    Sample,
    Select,
    SelectorName,
    StateDir,
    Target,
    Threads,
    Vars,
    app,
    guard,
    make_reporter,
    open_project,
    setting,
    with_state_options,
)


def _execute(
    command: str,
    project_dir: Path,
    profiles_dir: Optional[Path],
    target: Optional[str],
    profile: Optional[str],
    vars: Optional[str],
    threads: Optional[int],
    select: Optional[list[str]],
    exclude: Optional[list[str]],
    full_refresh: bool,
    fail_fast: bool,
    debug: bool,
    colors: Optional[bool],
    quiet: bool,
    event_time: tuple[Optional[str], Optional[str]] = (None, None),
    selector: Optional[str] = None,
    resource_types: Optional[list[str]] = None,
    exclude_resource_types: Optional[list[str]] = None,
    state_flags: Optional[dict[str, Any]] = None,
    sample: Optional[str] = None,
) -> None:
    reporter = make_reporter(colors, quiet, project_dir)
    fail_fast = bool(setting("fail_fast", fail_fast, project_dir))
    scan = prescan.start(project_dir, profiles_dir, target, profile, vars, threads)  # (see cli/prescan.py)

    def go() -> Any:
        project = open_project(project_dir, profiles_dir, target, profile, vars, threads, reporter, state_flags, scan)
        return project._execute(
            command,
            select or (),
            exclude or (),
            threads=threads,
            full_refresh=full_refresh,
            fail_fast=fail_fast,
            reporter=_NoNodeLines(reporter) if command == "clone" else reporter,
            on_start=_on_start(reporter, threads, None if selector else select),
            event_time_start=event_time[0],
            event_time_end=event_time[1],
            sample=sample,
            selector=selector,
            resource_types=resource_kinds(resource_types),
            exclude_resource_types=resource_kinds(exclude_resource_types),
            on_analysis=lambda report: report_analysis(reporter, report, debug),
        )

    try:
        _finish(reporter, go, debug)
    finally:
        if scan is not None:
            scan.close()


class _NoNodeLines:
    """The reporter of ``clone``, which (as dbt's) prints no START/OK line per node, only the summary."""

    def __init__(self, reporter: Any) -> None:
        self._reporter = reporter

    def start(self, index: int, total: int, node: Any) -> None:
        pass

    def result(self, index: int, total: int, node: Any, result: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reporter, name)


def _on_start(reporter: Any, threads: Optional[int], select: Optional[list[str]]) -> Any:
    """What the console shows once the nodes are chosen: the header, unmatched selectors, the concurrency."""

    def on_start(session: Any, selected: list[str]) -> None:
        reporter.header(session.manifest, session.adapter_info())  # the connection may still be opening
        for term in session.unmatched(select):
            if session.warning_is_error("NoNodesForSelectionCriteria"):  # --warn-error: dbt stops here
                from modelkit.core.errors import SelectionError

                raise SelectionError(f"The selection criterion '{term}' does not match any enabled nodes")
            reporter.no_match(term)
        reporter.line("")
        if not selected:
            reporter.nothing_to_do()
            return
        reporter.concurrency(threads or session.target.threads, session.target.name, len(selected))
        reporter.line("")
        reporter.begin(len(selected))

    return on_start


def _finish(reporter: Any, go: Any, debug: bool) -> None:
    """Run the command's work (``go`` returns its RunResult), print the summary, exit as the results say."""

    def work() -> Any:
        run = go()
        reporter.end()
        if run.results or run.interrupted:
            reporter.summary(run, run.manifest)
        return run

    run = guard(work, debug)
    if run is not None and run.interrupted:
        raise typer.Exit(2)
    if run is not None and not run.success:
        raise typer.Exit(1)


def resource_kinds(values: Optional[list[str]]) -> tuple[str, ...]:
    """``--resource-type model seed`` or ``--resource-type model,seed``; dbt's ``unit_test`` spelled either way."""
    kinds = [k.strip().replace("-", "_") for v in values or () for k in v.replace(",", " ").split()]
    return tuple("unit_test" if k == "unit_tests" else k for k in kinds)


def _node_command(command: str, help_text: str) -> Any:
    """A command that executes selected nodes (run, seed, snapshot, test, build): one signature for all."""

    def execute_nodes(
        project_dir: ProjectDir = Path("."),
        profiles_dir: ProfilesDir = None,
        target: Target = None,
        profile: Profile = None,
        vars: Vars = None,
        threads: Threads = None,
        select: Select = None,
        exclude: Exclude = None,
        selector: SelectorName = None,
        resource_type: ResourceTypes = None,
        exclude_resource_type: ExcludeResourceTypes = None,
        full_refresh: FullRefresh = False,
        fail_fast: FailFast = False,
        debug: Debug = False,
        use_colors: Colors = None,
        quiet: Quiet = False,
        event_time_start: EventTimeStart = None,
        event_time_end: EventTimeEnd = None,
        sample: Sample = None,
        state_flags: Optional[dict[str, Any]] = None,
    ) -> None:
        _execute(command, project_dir, profiles_dir, target, profile, vars, threads, select, exclude,
                 full_refresh, fail_fast, debug, use_colors, quiet, (event_time_start, event_time_end), selector,
                 resource_type, exclude_resource_type, state_flags, sample)  # fmt: skip

    execute_nodes.__doc__ = help_text
    return app.command(command)(with_state_options(execute_nodes))


run = _node_command("run", "Build the selected models in dependency order.")
seed = _node_command("seed", "Load the CSV files under seeds/ into tables.")
snapshot = _node_command("snapshot", "Record changes to the snapshots under snapshots/ (type-2 history tables).")
test = _node_command("test", "Run data tests and unit tests (of the selected models, or selected directly).")
clone = _node_command(
    "clone",
    "Create each selected model, seed and snapshot in the target from the --state manifest's relation "
    "(a view over it); existing relations stay unless --full-refresh.",
)
build = _node_command(
    "build", "Seed, build, snapshot and test the selected nodes in one DAG: each node's tests run right after it."
)


@app.command()
def retry(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    vars: Vars = None,
    threads: Threads = None,
    state: StateDir = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Run again what errored, failed or was skipped in the previous invocation (its run_results.json)."""
    reporter = make_reporter(use_colors, quiet, project_dir)

    def go() -> Any:
        project = open_project(project_dir, profiles_dir, None, None, None, None, reporter)
        warn_error = bool(setting("warn_error", False, project_dir))
        on_start = _on_start(reporter, threads, None)
        return project.retry(state=state, threads=threads, vars=vars, warn_error=warn_error, reporter=reporter,
                             on_start=on_start)  # fmt: skip

    _finish(reporter, go, debug)


@app.command()
@with_state_options
def compile(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    threads: Threads = None,
    select: Select = None,
    exclude: Exclude = None,
    inline: Annotated[
        Optional[str], typer.Option("--inline", help="Compile this SQL instead of project nodes.")
    ] = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
    state_flags: Optional[dict[str, Any]] = None,
) -> None:
    """Render models to SQL under target/compiled/ (or print one --inline query)."""
    reporter = make_reporter(use_colors, quiet, project_dir)
    scan = prescan.start(project_dir, profiles_dir, target, profile, vars, threads)  # (see cli/prescan.py)

    def go() -> None:
        project = open_project(project_dir, profiles_dir, target, profile, vars, threads, reporter, state_flags, scan)
        if inline is not None:
            sql = project.compile(inline=inline)["inline"]
            reporter.line("Compiled inline node is:")
            reporter.print_out("CompiledNode", sql, {"node_name": "inline_query", "compiled": sql, "is_inline": True})
            return
        compiled = project.compile(
            select or (), exclude or (), on_analysis=lambda report: report_analysis(reporter, report, debug)
        )
        reporter.line(f"Compiled {len(compiled)} nodes into target/compiled/")
        # one node selected (its tests come along, as in dbt): show its SQL
        main = {uid: sql for uid, sql in compiled.items() if not uid.startswith(("test.", "unit_test."))}
        if select and len(main) == 1:
            uid, sql = next(iter(main.items()))
            reporter.line(f"Compiled node '{uid.split('.')[2]}' is:")
            reporter.print_out(
                "CompiledNode", sql, {"node_name": uid.split(".")[2], "compiled": sql, "is_inline": False}
            )

    try:
        guard(go, debug)
    finally:
        if scan is not None:
            scan.close()


@app.command()
def parse(
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Read the project and write target/manifest.json."""
    import time

    reporter = make_reporter(use_colors, quiet, project_dir)
    # the files' status, taken by a forked process while this one imports the parser (see cli/prescan.py)
    scan = prescan.start(project_dir, profiles_dir, target, profile, vars)

    def go() -> None:
        from modelkit.api.parsing import parse_summary  # not Project: parsing loads no execution modules

        start = time.perf_counter()
        stats = parse_summary(
            project_dir,
            profiles_dir=profiles_dir,
            target=target,
            profile=profile,
            vars=vars,
            log=reporter.log,
            warn=reporter.warn,
            invocation_id=getattr(reporter, "invocation_id", None),
            scanned=scan.files if scan is not None else None,
        )
        reporter.emit("FoundStats", f"Found {stats}", {"stat_line": stats})
        reporter.line(f"Performance info: parsed in {time.perf_counter() - start:.2f}s; wrote target/manifest.json")

    try:
        guard(go, debug)
    finally:
        if scan is not None:
            scan.close()


@app.command("run-operation")
def run_operation(
    macro: Annotated[str, typer.Argument(help="The macro to call: name or package.name.")],
    project_dir: ProjectDir = Path("."),
    profiles_dir: ProfilesDir = None,
    target: Target = None,
    profile: Profile = None,
    vars: Vars = None,
    args: Annotated[
        Optional[str], typer.Option("--args", help="The macro's keyword arguments as YAML or JSON, e.g. '{n: 1}'.")
    ] = None,
    debug: Debug = False,
    use_colors: Colors = None,
    quiet: Quiet = False,
) -> None:
    """Call a macro with the database connected (statement, run_query ...); exit 1 when it fails."""
    reporter = make_reporter(use_colors, quiet, project_dir)

    def go() -> Any:
        project = open_project(project_dir, profiles_dir, target, profile, vars, None, reporter)
        return project.run_operation(macro, args)

    outcome = guard(go, debug)
    if outcome is not None and not outcome.success:
        text = f"Encountered an error while running operation: {outcome.error}"
        reporter.emit("RunningOperationCaughtError", text, {"exc": str(outcome.error)}, always=True, style="red")
        raise typer.Exit(1)
