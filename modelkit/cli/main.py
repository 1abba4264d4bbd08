"""The ``modelkit`` command line. It parses arguments and prints; the work is in the library."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

app = typer.Typer(
    name="modelkit",
    help="Build analytics SQL models: Jinja-templated SQL, run in dependency order.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
docs_app = typer.Typer(help="Generate or serve the documentation site.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")

ProjectDir = Annotated[Path, typer.Option("--project-dir", help="Project folder (default: current folder).")]
ProfilesDir = Annotated[Optional[Path], typer.Option("--profiles-dir", help="Folder holding profiles.yml.")]
Target = Annotated[Optional[str], typer.Option("--target", "-t", help="Output of the profile to use.")]
Profile = Annotated[Optional[str], typer.Option("--profile", help="Profile to use instead of the project's.")]
Vars = Annotated[Optional[str], typer.Option("--vars", help="Variables as YAML or JSON, e.g. '{key: value}'.")]
Threads = Annotated[Optional[int], typer.Option("--threads", help="Models to build at once.", min=1)]
Select = Annotated[Optional[list[str]], typer.Option("--select", "-s", "--models", "-m", help="Nodes to include.")]
Exclude = Annotated[Optional[list[str]], typer.Option("--exclude", help="Nodes to leave out.")]
FullRefresh = Annotated[
    bool, typer.Option("--full-refresh", "-f", help="Rebuild incremental models and seeds from scratch.")
]
FailFast = Annotated[bool, typer.Option("--fail-fast", "-x", help="Stop at the first failure.")]
Debug = Annotated[bool, typer.Option("--debug", "-d", help="Show tracebacks for errors.")]
Colors = Annotated[
    Optional[bool], typer.Option("--use-colors/--no-use-colors", help="Colour the output (default: when a terminal).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")]

MULTI_VALUE_FLAGS = {"--select", "-s", "--models", "-m", "--exclude", "--resource-type", "--resource-types"}


def _reporter(colors: Optional[bool], quiet: bool = False) -> Any:
    from modelkit.cli.output import ConsoleReporter

    return ConsoleReporter(use_colors=colors, quiet=quiet)


def _project(
    project_dir: Path,
    profiles_dir: Optional[Path],
    target: Optional[str],
    profile: Optional[str],
    vars: Optional[str],
    threads: Optional[int],
    reporter: Any,
) -> Any:
    from modelkit.api.project import Project

    return Project(
        project_dir,
        profiles_dir=profiles_dir,
        target=target,
        profile=profile,
        vars=vars,
        threads=threads,
        log=reporter.log,
    )


def _fail(exc: BaseException, debug: bool) -> None:
    """Print a user error (a traceback only with --debug) and exit 2."""
    from modelkit.core.errors import ModelkitError

    reporter = _reporter(None)
    reporter.error("Encountered an error:")
    if isinstance(exc, ModelkitError):
        for line in str(exc).splitlines():
            reporter.line(line, always=True)
    else:
        reporter.line(f"{type(exc).__name__}: {exc}", always=True)
    if debug or not isinstance(exc, ModelkitError):
        traceback.print_exception(exc)
    raise typer.Exit(2)


def _guard(func: Any, debug: bool) -> Any:
    from modelkit.core.errors import ModelkitError

    try:
        return func()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        _reporter(None).error("Interrupted.")
        raise typer.Exit(2) from None
    except ModelkitError as exc:
        _fail(exc, debug)
    except Exception as exc:  # noqa: BLE001 - an internal error still exits non-zero, with a traceback
        _fail(exc, True)


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
) -> None:
    reporter = _reporter(colors, quiet)

    def go() -> Any:
        project = _project(project_dir, profiles_dir, target, profile, vars, threads, reporter)

        def on_start(session: Any, selected: list[str]) -> None:
            reporter.header(session.manifest, session.adapter.info())
            for term in session.unmatched(select):
                reporter.line(f"The selection criterion '{term}' does not match any enabled nodes", style="yellow")
            reporter.line("")
            if not selected:
                reporter.line("Nothing to do. Try checking your model configs and model specification args")
                return
            reporter.line(f"Concurrency: {threads or session.target.threads} threads (target='{session.target.name}')")
            reporter.line("")
            reporter.begin(len(selected))

        run = project._execute(
            command,
            select or (),
            exclude or (),
            threads=threads,
            full_refresh=full_refresh,
            fail_fast=fail_fast,
            reporter=reporter,
            on_start=on_start,
        )
        reporter.end()
        if run.results or run.interrupted:
            reporter.summary(run, run.manifest)
        return run

    run = _guard(go, debug)
    if run is not None and run.interrupted:
        raise typer.Exit(2)
    if run is not None and not run.success:
        raise typer.Exit(1)


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
        full_refresh: FullRefresh = False,
        fail_fast: FailFast = False,
        debug: Debug = False,
        use_colors: Colors = None,
        quiet: Quiet = False,
    ) -> None:
        _execute(command, project_dir, profiles_dir, target, profile, vars, threads, select, exclude,
                 full_refresh, fail_fast, debug, use_colors, quiet)  # fmt: skip

    execute_nodes.__doc__ = help_text
    return app.command(command)(execute_nodes)


run = _node_command("run", "Build the selected models in dependency order.")
seed = _node_command("seed", "Load the CSV files under seeds/ into tables.")
snapshot = _node_command("snapshot", "Record changes to the snapshots under snapshots/ (type-2 history tables).")
test = _node_command("test", "Run data tests and unit tests (of the selected models, or selected directly).")
build = _node_command(
    "build", "Seed, build, snapshot and test the selected nodes in one DAG: each node's tests run right after it."
)


@app.command()
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
) -> None:
    """Render models to SQL under target/compiled/ (or print one --inline query)."""
    reporter = _reporter(use_colors, quiet)

    def go() -> None:
        project = _project(project_dir, profiles_dir, target, profile, vars, threads, reporter)
        if inline is not None:
            sql = project.compile(inline=inline)["inline"]
            reporter.line("Compiled inline node is:")
            print(sql)
            return
        compiled = project.compile(select or (), exclude or ())
        reporter.line(f"Compiled {len(compiled)} nodes into target/compiled/")
        # one node selected (its tests come along, as in dbt): show its SQL
        main = {uid: sql for uid, sql in compiled.items() if not uid.startswith(("test.", "unit_test."))}
        if select and len(main) == 1:
            uid, sql = next(iter(main.items()))
            reporter.line(f"Compiled node '{uid.split('.')[2]}' is:")
            print(sql)

    _guard(go, debug)


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

    reporter = _reporter(use_colors, quiet)

    def go() -> None:
        start = time.perf_counter()
        project = _project(project_dir, profiles_dir, target, profile, vars, None, reporter)
        reporter.line(f"Found {project.parse_summary()}")
        reporter.line(f"Performance info: parsed in {time.perf_counter() - start:.2f}s; wrote target/manifest.json")

    _guard(go, debug)


def _split_multi_values(argv: list[str]) -> list[str]:
    """``-s a b`` as dbt reads it: every following word up to the next flag."""
    out: list[str] = []
    flag: str | None = None
    for arg in argv:
        if arg.startswith("-"):
            flag = arg if arg in MULTI_VALUE_FLAGS else None
            out.append(arg)
            continue
        if flag is not None and out and out[-1] != flag and not out[-1].startswith("-"):
            out.extend([flag, arg])
        else:
            out.append(arg)
    return out


def prepare_args(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Arguments for the Typer app, and settings that reach the library through the environment.

    ``--no-partial-parse`` may stand anywhere, as in dbt; it becomes ``MODELKIT_PARTIAL_PARSE=0``.
    """
    args = _split_multi_values(list(argv))
    env: dict[str, str] = {}
    for flag, value in (("--no-partial-parse", "0"), ("--partial-parse", "1")):
        while flag in args:
            args.remove(flag)
            env["MODELKIT_PARTIAL_PARSE"] = value
    return args, env


def main(argv: list[str] | None = None) -> None:
    args, env = prepare_args(list(sys.argv[1:] if argv is None else argv))
    os.environ.update(env)
    if argv is not None:
        app(args=args, prog_name="modelkit")
        return
    try:
        app(args=args, prog_name="modelkit")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    # The command is over and its files are closed: leave without tearing down every object of a
    # large manifest one by one (a few hundred milliseconds at 10,000 models).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``modelkit ls | head``): nothing left to show
            pass
    os._exit(code)


from modelkit.cli import commands as _cli_commands  # noqa: E402,F401 - registers source, ls, show, debug, clean, init, docs
