"""The ``modelkit`` command line. It parses arguments and prints; the work is in the library."""

from __future__ import annotations

import os
import sys

from modelkit.cli import building, commands  # noqa: F401 - register the commands, in the order --help lists them
from modelkit.cli.app import (
    MULTI_VALUE_FLAGS,
    app,
)


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
