"""Choosing the reporter from the global settings, and the rotated debug log file (``logs/modelkit.log``)."""

from __future__ import annotations

import datetime
import json
import logging
import logging.handlers
from pathlib import Path
from typing import Any

from modelkit.cli.events import LEVELS, EventReporter
from modelkit.core import settings
from modelkit.project.project import project_flags

LOG_FILE = "modelkit.log"
BACKUPS = 5


class _EventFormatter(logging.Formatter):
    def __init__(self, log_format: str) -> None:
        super().__init__()
        self.log_format = log_format

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "event", None)
        if event is None:
            return record.getMessage()
        info = event["info"]
        if self.log_format == "json":
            return json.dumps(event, default=str)
        stamp = info["ts"][11:26]
        return f"{stamp} [{info['level']:<5}] [{info['thread']}]: {info['msg']}"


def open_log_file(log_dir: Path, log_format: str, level: str, max_bytes: int, invocation_id: str) -> logging.Logger:
    """A logger writing ``log_dir/modelkit.log``, rotated at ``max_bytes`` (5 old files kept)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    logger = logging.Logger(f"modelkit.events.{invocation_id}")  # not registered: closed with the command
    logger.propagate = False
    logger.setLevel(LEVELS[level] if level != "none" else logging.CRITICAL + 10)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / LOG_FILE, maxBytes=max(max_bytes, 0), backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(_EventFormatter(log_format))
    logger.addHandler(handler)
    if log_format != "json":
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")
        handler.stream.write(f"\n\n{'=' * 30} {stamp} | {invocation_id} {'=' * 30}\n")
    return logger


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
    if project_dir is not None and file_level != "none" and _is_project(project_dir):
        log_path = settings.resolve("log_path", None, flags)
        log_dir = Path(log_path) if log_path else Path(project_dir) / "logs"  # relative: from the current folder
        try:
            reporter.log_file = open_log_file(log_dir, file_format, file_level, max_bytes, reporter.invocation_id)
        except OSError:
            reporter.log_file = None  # a read-only folder: no log file, as dbt goes on without one
    return reporter


def _is_project(project_dir: Path) -> bool:
    return any((Path(project_dir) / name).is_file() for name in ("modelkit.yml", "dbt_project.yml"))
