"""Choosing the reporter from the global settings, and the rotated debug log file (``logs/modelkit.log``)."""

from __future__ import annotations

import datetime
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from modelkit.cli.events import LEVELS, EventReporter, thread_label
from modelkit.core import settings
from modelkit.project.project import project_flags

LOG_FILE = "modelkit.log"
BACKUPS = 5


class EventLogFile:
    """``logs/modelkit.log``: one line per event at or above ``level``, rotated past ``max_bytes``.

    Written directly (not through :mod:`logging`, whose per-record caller lookup and size checks cost
    more than the rest of a run's console output); lines are buffered and flushed when the command ends.
    """

    def __init__(self, path: Path, log_format: str, level: str, max_bytes: int) -> None:
        self.path = path
        self.log_format = log_format
        self.min_level = LEVELS[level] if level != "none" else LEVELS["none"] + 1
        self.max_bytes = max(max_bytes, 0)
        self._lock = threading.Lock()
        self._file = path.open("a", encoding="utf-8")
        self._size = self._file.tell()

    def log(self, level: int, event: dict[str, Any]) -> None:
        if level < self.min_level:
            return
        info = event["info"]
        if self.log_format == "json":
            line = json.dumps(event, default=str)
        else:
            line = f"{info['ts'][11:26]} [{info['level']:<5}] [{thread_label(info['thread'])}]: {info['msg']}"
        with self._lock:
            if self._file is None:
                return
            if self.max_bytes and self._size + len(line) + 1 > self.max_bytes and self._size > 0:
                self._rotate()
            self._file.write(line + "\n")
            self._size += len(line.encode("utf-8")) + 1

    def write_raw(self, text: str) -> None:
        with self._lock:
            if self._file is not None:
                self._file.write(text)
                self._size += len(text.encode("utf-8"))

    def _rotate(self) -> None:
        """modelkit.log -> .1 -> .2 ... (``BACKUPS`` kept), as logging's RotatingFileHandler names them."""
        assert self._file is not None
        self._file.close()
        for index in range(BACKUPS - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{index + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._file = self.path.open("a", encoding="utf-8")
        self._size = 0

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def open_log_file(log_dir: Path, log_format: str, level: str, max_bytes: int, invocation_id: str) -> EventLogFile:
    """The log file ``log_dir/modelkit.log``, rotated at ``max_bytes`` (5 old files kept)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = EventLogFile(log_dir / LOG_FILE, log_format, level, max_bytes)
    if log_format != "json":
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")
        log.write_raw(f"\n\n{'=' * 30} {stamp} | {invocation_id} {'=' * 30}\n")
    return log


def build_reporter(use_colors: bool | None, quiet: bool, project_dir: Path | None) -> EventReporter:
    """The reporter for one command: flags (turned into MODELKIT_* variables by ``main``), env vars, the
    project's ``flags:``, defaults. A bad value raises a UsageError naming the flag or variable."""
    flags: dict[str, Any] = {}
    if project_dir is not None:
        try:
            flags = project_flags(project_dir)
        except Exception:  # noqa: BLE001 - a broken project file is reported by the command itself
            flags = {}
    fmt = settings.resolve("log_format", None, flags)
    level = settings.resolve("log_level", None, flags)
    file_format = settings.resolve("log_format_file", None, flags)
    file_level = settings.resolve("log_level_file", None, flags)
    colors = settings.resolve("use_colors", use_colors, flags)
    quiet = bool(settings.resolve("quiet", True if quiet else None, flags))
    width = settings.resolve("printer_width", None, flags)
    max_bytes = settings.resolve("log_file_max_bytes", None, flags)
    settings.resolve("send_anonymous_usage_stats", None, flags)  # validated, then ignored
    reporter = EventReporter(use_colors=colors, quiet=quiet, log_format=fmt, log_level=level, printer_width=width)
    log_path = settings.resolve("log_path", None, flags)
    log_dir = Path(log_path) if log_path else Path(project_dir or ".") / "logs"  # relative: from the current folder
    reporter.args = report_args(flags, fmt, colors, quiet, width, log_dir)
    if project_dir is not None and file_level != "none" and _is_project(project_dir):
        try:
            reporter.log_file = open_log_file(log_dir, file_format, file_level, max_bytes, reporter.invocation_id)
        except OSError:
            reporter.log_file = None  # a read-only folder: no log file, as dbt goes on without one
    return reporter


def report_args(
    flags: dict[str, Any], log_format: str, colors: bool | None, quiet: bool, width: int, log_dir: Path
) -> dict[str, str]:
    """The settings of this command under the names of dbt's flags, as text (dbt's ``MainReportArgs``)."""

    def value(name: str) -> Any:
        return settings.resolve(name, None, flags)

    options = settings.warn_error_options(value("warn_error_options"))
    args: dict[str, Any] = {
        "cache_selected_only": False,
        "debug": value("debug"),
        "empty": value("empty"),
        "fail_fast": value("fail_fast"),
        "indirect_selection": value("indirect_selection"),
        "introspect": True,
        "invocation_command": " ".join(["modelkit", *sys.argv[1:]]),
        "log_cache_events": False,
        "log_format": log_format,
        "log_path": log_dir.resolve(),
        "no_print": None,
        "partial_parse": value("partial_parse"),
        "printer_width": width,
        "profiles_dir": value("profiles_dir") or _default_profiles_dir(),
        "quiet": quiet,
        "send_anonymous_usage_stats": value("send_anonymous_usage_stats"),
        "static_parser": True,
        "target_path": value("target_path"),
        "use_colors": True if colors is None else colors,
        "use_experimental_parser": False,
        "version_check": value("version_check"),
        "warn_error": True if value("warn_error") else None,
        "warn_error_options": "WarnErrorOptionsV2("
        + ", ".join(f"{key}={options[key]}" for key in ("error", "warn", "silence"))
        + ")",
        "write_json": True,
    }
    return {key: str(args[key]) for key in sorted(args)}


def _default_profiles_dir() -> Path:
    """Where profiles.yml is looked for without --profiles-dir: the current folder if it has one, else ~/.dbt."""
    return Path.cwd() if (Path.cwd() / "profiles.yml").is_file() else Path.home() / ".dbt"


def _is_project(project_dir: Path) -> bool:
    return any((Path(project_dir) / name).is_file() for name in ("modelkit.yml", "dbt_project.yml"))
