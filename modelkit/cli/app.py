"""The Typer application, the options shared by every command, and error handling with exit codes.

The library is imported inside the functions here, so that ``modelkit --help`` starts without loading it.
"""

from __future__ import annotations

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
EventTimeStart = Annotated[
    Optional[str], typer.Option("--event-time-start", help="Microbatch models: build windows from this time (UTC).")
]
EventTimeEnd = Annotated[
    Optional[str], typer.Option("--event-time-end", help="Microbatch models: build windows up to this time (UTC).")
]

MULTI_VALUE_FLAGS = {"--select", "-s", "--models", "-m", "--exclude", "--resource-type", "--resource-types"}


def make_reporter(colors: Optional[bool], quiet: bool = False) -> Any:
    from modelkit.cli.output import ConsoleReporter

    return ConsoleReporter(use_colors=colors, quiet=quiet)


def open_project(
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


def fail(exc: BaseException, debug: bool) -> None:
    """Print an error and exit 2. A Python traceback is printed only with --debug."""
    import sys

    from modelkit.core.errors import ModelkitError
    from modelkit.core.secrets import scrub

    reporter = make_reporter(None)
    reporter.error("Encountered an error:")
    if isinstance(exc, ModelkitError):
        text = str(exc)
    else:
        text = f"Internal Error\n  {type(exc).__name__}: {exc}"
        if not debug:
            text += "\n  This is a bug in modelkit: run the command again with --debug to see where it happened."
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


def guard(func: Any, debug: bool) -> Any:
    """Run a command's work: modelkit errors (and the system's, such as a full disk) exit 2 with a message."""
    from modelkit.core.errors import ModelkitError

    try:
        return func()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        make_reporter(None).error("Interrupted.")
        raise typer.Exit(2) from None
    except ModelkitError as exc:
        fail(exc, debug)
    except OSError as exc:
        fail(os_failure(exc), debug)
    except Exception as exc:  # noqa: BLE001 - an internal error still exits non-zero
        fail(exc, debug)
