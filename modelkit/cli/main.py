"""The ``modelkit`` command line. It parses arguments and prints; the work is in the library."""

from __future__ import annotations

import copy
import os
import sys
import time

import typer

from modelkit.cli import analysis, building, commands, diff, lsp  # noqa: F401 - register the commands, in the order --help lists them
from modelkit.cli.app import (
    ACTIVE,
    FLAG_VALUES,
    MULTI_VALUE_FLAGS,
    app,
    check_flag_values,
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


# Global settings that may stand anywhere on the line, as in dbt; each becomes MODELKIT_<NAME> for the library.
VALUE_SETTINGS = {
    "--target-path": "target_path", "--log-path": "log_path", "--log-format": "log_format",
    "--log-format-file": "log_format_file", "--log-level": "log_level", "--log-level-file": "log_level_file",
    "--printer-width": "printer_width", "--warn-error-options": "warn_error_options",
    "--indirect-selection": "indirect_selection", "--log-file-max-bytes": "log_file_max_bytes",
    "--static-analysis": "static_analysis",
}  # fmt: skip
SWITCH_SETTINGS = {
    "--partial-parse": ("partial_parse", "1"), "--no-partial-parse": ("partial_parse", "0"),
    "--warn-error": ("warn_error", "1"), "--fail-fast": ("fail_fast", "1"), "-x": ("fail_fast", "1"),
    "--no-fail-fast": ("fail_fast", "0"), "--quiet": ("quiet", "1"), "-q": ("quiet", "1"), "--no-quiet": ("quiet", "0"),
    "--use-colors": ("use_colors", "1"), "--no-use-colors": ("use_colors", "0"),
    "--debug": ("debug", "1"), "-d": ("debug", "1"), "--no-debug": ("debug", "0"),
    "--empty": ("empty", "1"), "--no-empty": ("empty", "0"),
    "--store-failures": ("store_failures", "1"),
    "--skip-unchanged": ("skip_unchanged", "true"), "--no-skip-unchanged": ("skip_unchanged", "false"),
    "--send-anonymous-usage-stats": ("send_anonymous_usage_stats", "1"),
    "--no-send-anonymous-usage-stats": ("send_anonymous_usage_stats", "0"),
    "--version-check": ("version_check", "1"), "--no-version-check": ("version_check", "0"),
}  # fmt: skip
# dbt flags modelkit accepts and has no use for.
IGNORED_SWITCHES = {
    "--static-parser", "--no-static-parser", "--use-experimental-parser", "--no-use-experimental-parser",
    "--write-json", "--no-write-json", "--introspect", "--no-introspect", "--print", "--no-print",
    "--cache-selected-only", "--no-cache-selected-only", "--populate-cache", "--no-populate-cache",
    "--log-cache-events", "--no-log-cache-events", "--partial-parse-file-diff", "--no-partial-parse-file-diff",
}  # fmt: skip


def prepare_args(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Arguments for the Typer app, and settings that reach the library through the environment.

    Global settings (``--log-format json``, ``--no-partial-parse``, ``--target-path DIR`` ...) may stand
    anywhere, as in dbt; each becomes a ``MODELKIT_<NAME>`` variable, which wins over ``DBT_<NAME>``.
    """
    args: list[str] = []
    env: dict[str, str] = {}
    FLAG_VALUES.clear()
    items = list(argv)
    i = 0
    while i < len(items):
        arg = items[i]
        flag, eq, inline = arg.partition("=")
        if flag in VALUE_SETTINGS and (eq or i + 1 < len(items)):
            value = inline if eq else items[i + 1]
            env[f"MODELKIT_{VALUE_SETTINGS[flag].upper()}"] = value
            FLAG_VALUES[VALUE_SETTINGS[flag]] = (flag, value)
            i += 1 if eq else 2
            continue
        if flag == "--skip-unchanged" and eq:  # --skip-unchanged=strict
            env["MODELKIT_SKIP_UNCHANGED"] = inline
        elif arg in SWITCH_SETTINGS:
            name, value = SWITCH_SETTINGS[arg]
            env[f"MODELKIT_{name.upper()}"] = value
        elif arg not in IGNORED_SWITCHES:
            args.append(arg)
        i += 1
    return _split_multi_values(args), env


def _command_name(args: list[str]) -> str:
    words = [a for a in args if not a.startswith("-")]
    return " ".join(words[:2]) if words[:1] in (["docs"], ["source"]) else (words[0] if words else "")


def app_for(args: list[str]) -> typer.Typer:
    """The app with only the command ``args`` runs (building every command's options takes about 20 ms
    on each invocation); the whole app when ``args`` names no plain command (help, a group, a typo)."""
    if not args or args[0].startswith("-"):
        return app
    chosen = [c for c in app.registered_commands if command_word(c) == args[0]]
    if len(chosen) != 1:
        return app
    only = copy.copy(app)
    only.registered_commands = chosen
    only.registered_groups = []
    return only


def command_word(info: typer.models.CommandInfo) -> str | None:
    if info.name:
        return info.name
    callback = info.callback
    return callback.__name__.lower().replace("_", "-") if callback is not None else None


def command_line(argv: list[str] | None) -> str:
    """The command as typed (run_results.json's ``invocation_command``): the program's name, then its
    arguments joined by spaces, as dbt writes ``dbt `` and its own."""
    program = os.path.basename(sys.argv[0]) if argv is None and sys.argv else ""
    if not program or program.endswith(".py") or program.startswith("python"):  # python -m modelkit, main([...])
        program = "modelkit"
    return " ".join([program, *(sys.argv[1:] if argv is None else argv)])


# How long a thread holding the GIL runs before one waiting for it gets it (Python's default: 5 ms).
# modelkit's threads mostly wait on DuckDB, on files and on the analysis worker's pipes, each of which
# releases the GIL: returning from one, a thread waits for the GIL while another computes, and with
# the default a statement's thread or the compiled-files writer sits idle for up to 5 ms each time.
SWITCH_INTERVAL = 0.0005


def tune_interpreter() -> None:
    """Settings of this process's Python interpreter for a command-line run (not for the library's
    callers, whose process this is not)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


def main(argv: list[str] | None = None) -> None:
    if argv is None:  # the modelkit process itself (main([...]) is the library's own entry point)
        tune_interpreter()
    ACTIVE["command_line"] = command_line(argv)
    args, env = prepare_args(list(sys.argv[1:] if argv is None else argv))
    os.environ.update(env)
    started = time.perf_counter()
    problem = check_flag_values() if FLAG_VALUES else None
    if problem is not None:
        print(f"Error: {problem}", file=sys.stderr)
        if argv is not None:
            raise SystemExit(2)
        os._exit(2)
    try:
        app_for(args)(args=args, prog_name="modelkit")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    ACTIVE.pop("command_line", None)
    reporter = ACTIVE.get("reporter")
    if reporter is not None:  # dbt's last event
        reporter.completed(_command_name(args), code == 0, time.perf_counter() - started)
    if argv is not None:
        raise SystemExit(code)
    # The command is over and its files are closed: leave without tearing down every object of a
    # large manifest one by one (a few hundred milliseconds at 10,000 models).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``modelkit ls | head``): nothing left to show
            pass
    os._exit(code)
