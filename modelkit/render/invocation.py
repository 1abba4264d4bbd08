"""One command's invocation as templates see it: ``invocation_id``, ``run_started_at``, ``flags``."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# dbt's global flags with their defaults when a command does not set them.
DEFAULT_FLAGS: dict[str, Any] = {
    "CACHE_SELECTED_ONLY": False,
    "DEBUG": False,
    "DEFER": False,
    "EMPTY": False,
    "EXCLUDE": None,
    "FAIL_FAST": False,
    "FULL_REFRESH": False,
    "INDIRECT_SELECTION": "eager",
    "INTROSPECT": True,
    "LOG_CACHE_EVENTS": False,
    "LOG_FORMAT": "default",
    "LOG_PATH": "logs",
    "MACRO_DEBUGGING": False,
    "PARTIAL_PARSE": True,
    "POPULATE_CACHE": True,
    "PRINT": True,
    "PRINTER_WIDTH": 80,
    "PROFILES_DIR": None,
    "PROJECT_DIR": None,
    "QUIET": False,
    "SELECT": None,
    "SEND_ANONYMOUS_USAGE_STATS": False,
    "STATE": None,
    "STATIC_PARSER": True,
    "STORE_FAILURES": False,
    "TARGET": None,
    "TARGET_PATH": "target",
    "THREADS": None,
    "USE_COLORS": True,
    "USE_EXPERIMENTAL_PARSER": False,
    "VARS": {},
    "VERSION_CHECK": True,
    "WARN_ERROR": False,
    "WARN_ERROR_OPTIONS": {"include": [], "exclude": []},
    "WHICH": "run",
    "WRITE_JSON": True,
}


@dataclass
class Invocation:
    """What one command tells templates about itself.

    ``selected_resources`` is filled in by the runner once it has chosen its nodes;
    ``flags`` holds the command's other settings by dbt's flag name (``{"EMPTY": True}``).
    """

    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.timezone.utc))
    full_refresh: bool = False
    which: str = "run"
    log: Callable[[str], None] = lambda msg: None
    warn: Callable[[str], None] = lambda msg: None  # exceptions.warn()
    selected_resources: tuple[str, ...] = ()
    empty: bool = False  # --empty: every ref() and source() reads zero rows
    flags: dict[str, Any] = field(default_factory=dict)


class Flags:
    """``flags``: ``flags.FULL_REFRESH``, ``flags.WHICH``, ``flags.STORE_FAILURES``, ``flags.WARN_ERROR``, ...

    dbt's defaults, then the project's ``flags:`` (by upper-cased name), then the command's own.
    """

    def __init__(self, invocation: Invocation, project_flags: Mapping[str, Any] | None = None) -> None:
        values = dict(DEFAULT_FLAGS)
        values.update({str(k).upper(): v for k, v in (project_flags or {}).items()})
        values.update(FULL_REFRESH=invocation.full_refresh, WHICH=invocation.which)
        values.update({str(k).upper(): v for k, v in invocation.flags.items()})
        values.setdefault("INVOCATION_COMMAND", f"dbt {invocation.which}")
        self.__dict__.update(values)

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def __repr__(self) -> str:
        return f"Namespace({', '.join(f'{k}={v!r}' for k, v in sorted(self.__dict__.items()))})"
