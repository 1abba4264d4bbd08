"""The Typer application, the options shared by every command, and error handling with exit codes.

The library is imported inside the functions here, so that ``modelkit --help`` starts without loading it.
"""

from __future__ import annotations

import functools
import inspect
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

ProjectDir = Annotated[
    Path,
    typer.Option(
        "--project-dir",
        envvar=["MODELKIT_PROJECT_DIR", "DBT_PROJECT_DIR"],
        show_envvar=False,
        help="Project folder (default: $DBT_PROJECT_DIR, else the current folder).",
    ),
]
ProfilesDir = Annotated[
    Optional[Path],
    typer.Option(
        "--profiles-dir",
        envvar=["MODELKIT_PROFILES_DIR", "DBT_PROFILES_DIR"],
        show_envvar=False,
        help="Folder holding profiles.yml.",
    ),
]
Target = Annotated[Optional[str], typer.Option("--target", "-t", help="Output of the profile to use.")]
Profile = Annotated[Optional[str], typer.Option("--profile", help="Profile to use instead of the project's.")]
Vars = Annotated[Optional[str], typer.Option("--vars", help="Variables as YAML or JSON, e.g. '{key: value}'.")]
Threads = Annotated[Optional[int], typer.Option("--threads", help="Models to build at once.", min=1)]
Select = Annotated[Optional[list[str]], typer.Option("--select", "-s", "--models", "-m", help="Nodes to include.")]
Exclude = Annotated[Optional[list[str]], typer.Option("--exclude", help="Nodes to leave out.")]
SelectorName = Annotated[
    Optional[str], typer.Option("--selector", help="A selector of selectors.yml (wins over --select/--exclude).")
]
ResourceTypes = Annotated[
    Optional[list[str]],
    typer.Option("--resource-type", "--resource-types", help="Only these kinds (model, seed, snapshot, test, ...)."),
]
ExcludeResourceTypes = Annotated[
    Optional[list[str]],
    typer.Option("--exclude-resource-type", "--exclude-resource-types", help="Leave out these kinds."),
]
FullRefresh = Annotated[
    bool, typer.Option("--full-refresh", "-f", help="Rebuild incremental models and seeds from scratch.")
]
FailFast = Annotated[bool, typer.Option("--fail-fast", "-x", help="Stop at the first failure.")]
Debug = Annotated[bool, typer.Option("--debug", "-d", help="Show tracebacks for errors.")]
Colors = Annotated[
    Optional[bool], typer.Option("--use-colors/--no-use-colors", help="Colour the output (default: when a terminal).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")]
EventTimeStart = Annotated[
    Optional[str], typer.Option("--event-time-start", help="Microbatch models: build windows from this time (UTC).")
]
EventTimeEnd = Annotated[
    Optional[str], typer.Option("--event-time-end", help="Microbatch models: build windows up to this time (UTC).")
]
Sample = Annotated[
    Optional[str],
    typer.Option(
        "--sample",
        envvar="DBT_SAMPLE",
        show_envvar=False,
        help="Read only this window of inputs with an event_time: '3 days' (back from now) or "
        "'{start: 2025-01-01, end: 2025-01-08}'.",
    ),
]

StateDir = Annotated[
    Optional[Path],
    typer.Option(
        "--state",
        envvar=["MODELKIT_STATE", "DBT_STATE"],
        show_envvar=False,
        help="Folder of a previous run's artifacts (manifest.json, run_results.json): for state:/result: "
        "selection and for --defer.",
    ),
]
StateGit = Annotated[
    Optional[str],
    typer.Option(
        "--state-git",
        envvar="MODELKIT_STATE_GIT",
        show_envvar=False,
        help="Compare against the project as committed at this git revision (e.g. origin/main), instead of --state.",
    ),
]
Defer = Annotated[
    bool,
    typer.Option(
        "--defer/--no-defer",
        envvar=["MODELKIT_DEFER", "DBT_DEFER"],
        show_envvar=False,
        help="Resolve ref() to unselected nodes that are not built here to the state's relations.",
    ),
]
DeferState = Annotated[
    Optional[Path],
    typer.Option(
        "--defer-state",
        envvar=["MODELKIT_DEFER_STATE", "DBT_DEFER_STATE"],
        show_envvar=False,
        help="Defer to the manifest.json of this folder instead of --state's.",
    ),
]
FavorState = Annotated[
    bool,
    typer.Option(
        "--favor-state/--no-favor-state",
        envvar=["MODELKIT_FAVOR_STATE", "DBT_FAVOR_STATE"],
        show_envvar=False,
        help="With --defer: use the state's relation for every unselected node, even one that exists here.",
    ),
]
STATE_FLAGS = {
    "state": StateDir,
    "state_git": StateGit,
    "defer": Defer,
    "defer_state": DeferState,
    "favor_state": FavorState,
}
STATE_DEFAULTS: dict[str, Any] = {
    "state": None,
    "state_git": None,
    "defer": False,
    "defer_state": None,
    "favor_state": False,
}


def with_state_options(func: Any) -> Any:
    """Give a command the state flags (``--state``, ``--state-git``, ``--defer``, ``--defer-state``,
    ``--favor-state``), defined once here; the command receives them as one dict, ``state_flags``."""
    signature = inspect.signature(func, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "state_flags"]
    for name, annotation in STATE_FLAGS.items():
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=STATE_DEFAULTS[name],
                                        annotation=annotation))  # fmt: skip

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        kwargs["state_flags"] = {name: kwargs.pop(name, STATE_DEFAULTS[name]) for name in STATE_FLAGS}
        return func(*args, **kwargs)

    command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return command


MULTI_VALUE_FLAGS = {
    "--select", "-s", "--models", "-m", "--exclude", "--resource-type", "--resource-types",
    "--exclude-resource-type", "--exclude-resource-types", "--output-keys",
}  # fmt: skip

# The reporter of the running command, for the last event (CommandCompleted) sent by ``main``.
ACTIVE: dict[str, Any] = {}
FLAG_VALUES: dict[str, tuple[str, str]] = {}  # setting -> (flag, value), as the last prepare_args found them


def check_flag_values() -> Optional[str]:
    """The error of the first global flag given a value it does not take (None when all are valid)."""
    from modelkit.core import settings
    from modelkit.core.errors import UsageError

    for name, (flag, value) in FLAG_VALUES.items():
        try:
            settings.convert(name, value, flag)
        except UsageError as exc:
            return exc.message
    return None


def version_text() -> str:
    """``modelkit --version``: modelkit's version first, then the dbt-core version it is compatible with."""
    from importlib.metadata import PackageNotFoundError, version

    from modelkit import DBT_COMPAT_VERSION, __version__

    def installed(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    return (
        f"modelkit version: {__version__}\n"
        f"Compatible with dbt-core: {DBT_COMPAT_VERSION}\n"
        f"Plugins:\n  - duckdb (embedded engine): {installed('duckdb')}\n"
        f"  - postgres (psycopg): {installed('psycopg')}\n"
        f"  - spark (pyspark): {installed('pyspark')}"
    )


def _show_version(value: bool) -> None:
    if value:
        print(version_text())
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_show_version,
            help="Show modelkit's version and the dbt-core version it is compatible with.",
        ),
    ] = False,
) -> None:
    """Build analytics SQL models: Jinja-templated SQL, run in dependency order.

    Global settings (anywhere on the line, or as MODELKIT_*/DBT_* environment variables, or under flags:
    in the project file): --target-path, --log-path, --log-format text|json|debug, --log-level,
    --log-format-file, --log-level-file, --printer-width, --[no-]partial-parse, --warn-error,
    --warn-error-options, --[no-]use-colors, --quiet, --fail-fast, --debug.
    """
    previous = ACTIVE.pop("reporter", None)
    if previous is not None:  # an earlier command in this process (the Python API, tests): its log is done
        previous.close()


def make_reporter(colors: Optional[bool], quiet: bool = False, project_dir: Optional[Path] = None) -> Any:
    """The command's reporter (console lines or JSON events, and the log file); a bad setting exits 2."""
    from modelkit.cli.logsetup import build_reporter
    from modelkit.core.errors import UsageError

    try:
        reporter = build_reporter(colors, quiet, project_dir)
    except UsageError as exc:
        print(f"Error: {check_flag_values() or exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None
    ACTIVE["reporter"] = reporter
    return reporter


def open_project(
    project_dir: Path,
    profiles_dir: Optional[Path],
    target: Optional[str],
    profile: Optional[str],
    vars: Optional[str],
    threads: Optional[int],
    reporter: Any,
    state_flags: Optional[dict[str, Any]] = None,
    scan: Any = None,
) -> Any:
    """The library's Project for a command (``scan``: a :class:`modelkit.cli.prescan.Prescan`, if one started)."""
    from modelkit.api.project import Project

    if profiles_dir is not None and getattr(reporter, "args", None):
        reporter.args["profiles_dir"] = str(profiles_dir)  # the flag, as dbt's MainReportArgs shows it
    shown = getattr(reporter, "args", None) or {}
    invocation = {key: shown[key] for key in ("quiet", "use_colors") if isinstance(shown.get(key), bool)}
    invocation["invocation_command"] = ACTIVE.get("command_line")
    return Project(
        project_dir,
        profiles_dir=profiles_dir,
        target=target,
        profile=profile,
        vars=vars,
        threads=threads,
        log=reporter.log,
        warn=reporter.warn,
        invocation_id=getattr(reporter, "invocation_id", None),
        invocation=invocation,
        scanned=scan.files if scan is not None else None,
        **(state_flags or {}),
    )


def fail(exc: BaseException, debug: bool) -> None:
    """Print an error and exit 2. A Python traceback is printed only with --debug."""
    import sys

    from modelkit.core.errors import ModelkitError
    from modelkit.core.secrets import scrub

    reporter = ACTIVE.get("reporter") or make_reporter(None)
    if isinstance(exc, ModelkitError):
        text = str(exc)
    else:
        text = f"Internal Error\n  {type(exc).__name__}: {exc}"
        if not debug:
            text += "\n  This is a bug in modelkit: run the command again with --debug to see where it happened."
    if getattr(reporter, "log_format", "text") == "json":  # one error event, as dbt sends it
        reporter.error(f"Encountered an error:\n{text}")
    else:
        reporter.error("Encountered an error:")
        for line in text.splitlines():
            reporter.line(line, always=True)
    if debug:
        print(scrub("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    raise typer.Exit(2)


def os_failure(exc: OSError) -> BaseException:
    """An operating-system error that reached the command: a located error when it names a file."""
    from modelkit.core.fsio import os_error

    if exc.filename is None:
        return exc
    return os_error(exc, exc.filename, "use")


def setting(name: str, value: Any, project_dir: Optional[Path] = None) -> Any:
    """A global setting: ``value`` when given (not None/False), else env vars, the project's flags:, default."""
    from modelkit.core import settings
    from modelkit.core.errors import UsageError
    from modelkit.project.project import project_flags

    flags: dict[str, Any] = {}
    if project_dir is not None:
        try:
            flags = project_flags(project_dir)
        except Exception:  # noqa: BLE001 - a broken project file is reported when the project loads
            flags = {}
    try:
        return settings.resolve(name, None if value is False else value, flags)
    except UsageError as exc:
        print(f"Error: {check_flag_values() or exc.message}", file=sys.stderr)
        raise typer.Exit(2) from None


def guard(func: Any, debug: bool) -> Any:
    """Run a command's work: modelkit errors (and the system's, such as a full disk) exit 2 with a message."""
    from modelkit.core.errors import ModelkitError

    debug = bool(setting("debug", debug))

    try:
        return func()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        (ACTIVE.get("reporter") or make_reporter(None)).error("Interrupted.")
        raise typer.Exit(2) from None
    except ModelkitError as exc:
        fail(exc, debug)
    except OSError as exc:
        fail(os_failure(exc), debug)
    except Exception as exc:  # noqa: BLE001 - an internal error still exits non-zero
        fail(exc, debug)
