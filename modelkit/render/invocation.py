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


# The flags ``flags`` reads from the invocation's run_results.json ``args`` (once recorded).
FROM_ARGS = ("SELECT", "EXCLUDE", "VARS", "THREADS", "TARGET", "INVOCATION_COMMAND")


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
    args: dict[str, Any] = field(default_factory=dict)  # ``invocation_args_dict``: run_results.json's ``args``


class Flags:
    """``flags``: ``flags.FULL_REFRESH``, ``flags.WHICH``, ``flags.STORE_FAILURES``, ``flags.WARN_ERROR``, ...

    dbt's defaults, then the project's ``flags:`` (by upper-cased name), then the command's own.
    """

    def __init__(self, invocation: Invocation, project_flags: Mapping[str, Any] | None = None) -> None:
        values = dict(DEFAULT_FLAGS)
        values.update({str(k).upper(): v for k, v in (project_flags or {}).items()})
        values.update(FULL_REFRESH=invocation.full_refresh, WHICH=invocation.which)
        values.update({str(k).upper(): v for k, v in invocation.flags.items()})
        for name in FROM_ARGS:  # read from the invocation's args when asked (see __getattr__)
            values.pop(name, None)
        self.__dict__.update(values)
        self._invocation = invocation

    def __getattr__(self, name: str) -> Any:
        # INVOCATION_COMMAND and the flags only the invocation's args know (read when asked: they are
        # recorded once the command has its flags)
        if name.startswith("_") or not name.isupper():
            raise AttributeError(name)
        args = self.__dict__["_invocation"].args
        if name == "INVOCATION_COMMAND":
            return args.get("invocation_command") or f"modelkit {args.get('which', 'run')}"
        if name.lower() in args:
            return args[name.lower()]
        if name in FROM_ARGS:
            return DEFAULT_FLAGS.get(name)
        raise AttributeError(name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def __repr__(self) -> str:
        items = sorted((k, v) for k, v in self.__dict__.items() if not k.startswith("_"))
        return f"Namespace({', '.join(f'{k}={v!r}' for k, v in items)})"
