"""Global settings, read as dbt reads them.

A setting comes from its flag, else from an environment variable (``MODELKIT_<NAME>``, then dbt's
``DBT_<NAME>``), else from the project file's ``flags:`` mapping, else from its default. The CLI turns
global flags into ``MODELKIT_<NAME>`` variables, so the library sees one source of truth.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import yaml

from modelkit.core.errors import UsageError

# name: (kind, default). Kinds: "str", "bool", "int", or a tuple of the allowed values.
SETTINGS: dict[str, tuple[Any, Any]] = {
    "target_path": ("str", None),
    "log_path": ("str", None),
    "log_format": (("text", "json", "debug", "default"), "default"),
    "log_format_file": (("text", "json", "debug", "default"), "debug"),
    "log_level": (("debug", "info", "warn", "error", "none"), "info"),
    "log_level_file": (("debug", "info", "warn", "error", "none"), "debug"),
    "log_file_max_bytes": ("int", 10 * 1024 * 1024),
    "profiles_dir": ("str", None),
    "project_dir": ("str", None),
    "partial_parse": ("bool", True),
    "fail_fast": ("bool", False),
    "warn_error": ("bool", False),
    "warn_error_options": ("str", None),
    "use_colors": ("bool", None),
    "printer_width": ("int", 80),
    "quiet": ("bool", False),
    "debug": ("bool", False),
    "send_anonymous_usage_stats": ("bool", False),  # accepted, ignored: modelkit sends nothing
    "version_check": ("bool", True),  # accepted, ignored
    "indirect_selection": (("eager", "cautious", "buildable", "empty"), "eager"),
    "empty": ("bool", False),
    "store_failures": ("bool", None),
    "skip_unchanged": (("true", "false", "strict"), "false"),  # run/build: skip relations built from the same inputs
    "static_analysis": (("strict", "on", "off", "baseline"), None),  # None: each node's config
}

_TRUE = ("1", "true", "yes", "on", "t", "y")
_FALSE = ("0", "false", "no", "off", "f", "n", "")


def env_names(name: str) -> tuple[str, str]:
    """The environment variables of a setting, in the order they are read."""
    return f"MODELKIT_{name.upper()}", f"DBT_{name.upper()}"


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def convert(name: str, value: Any, origin: str) -> Any:
    """``value`` (text from a flag or env var, or YAML data) as the setting's type; a UsageError naming
    ``origin`` when it is not one."""
    kind = SETTINGS[name][0]
    if value is None:
        return None
    if isinstance(kind, tuple):
        text = str(value).strip().lower()
        if text not in kind:
            raise UsageError(f"Invalid value for {origin}: {value!r} is not one of {', '.join(kind)}")
        return text
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise UsageError(f"Invalid value for {origin}: {value!r} is not a boolean (true or false)")
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(f"Invalid value for {origin}: {value!r} is not a whole number") from None
    return str(value)


def resolve(name: str, flag: Any = None, project_flags: Mapping[str, Any] | None = None) -> Any:
    """The setting's value: ``flag`` if given, else its env vars, else the project's ``flags:``, else the default."""
    if flag is not None:
        return convert(name, flag, flag_name(name))
    for var in env_names(name):
        raw = os.environ.get(var)
        if raw is not None and raw != "":
            return convert(name, raw, f"the environment variable {var}")
    if project_flags and name in project_flags:
        return convert(name, project_flags[name], f"flags: {name} in the project file")
    return SETTINGS[name][1]


def warn_error_options_as_given(text: str | None) -> dict[str, Any]:
    """``--warn-error-options`` as dbt's run_results.json ``args`` records it: each key as given
    (``"error": "all"`` stays a string), ``include``/``exclude`` as ``error``/``warn``, missing keys empty."""
    warn_error_options(text)  # a bad value is a UsageError here too
    data = yaml.safe_load(text) if text else {}
    aliases = {"include": "error", "exclude": "warn"}
    given = {aliases.get(str(k), str(k)): v for k, v in data.items()}
    return {key: given.get(key, []) for key in ("error", "silence", "warn")}


def warn_error_options(text: str | None) -> dict[str, list[str]]:
    """``--warn-error-options`` (JSON or YAML mapping with ``error``/``include`` and ``warn``/``exclude`` lists)."""
    if not text:
        return {"error": [], "warn": [], "silence": []}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"--warn-error-options is not valid JSON or YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise UsageError(
            f'--warn-error-options must be a mapping such as \'{{"error": "all"}}\'; got {json.dumps(data, default=str)}'
        )
    out: dict[str, list[str]] = {"error": [], "warn": [], "silence": []}
    aliases = {"include": "error", "exclude": "warn"}
    for key, value in data.items():
        key = aliases.get(str(key), str(key))
        if key not in out:
            raise UsageError(f"--warn-error-options: unknown key {key!r} (known: error, warn, silence)")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"--warn-error-options: {key!r} must be 'all', '*' or a list of event names")
        out[key] = ["all" if v in ("all", "*") else v for v in value]
    return out
