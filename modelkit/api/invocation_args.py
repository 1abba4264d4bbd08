"""The invocation's flags as dbt 1.11 records them: run_results.json's ``args`` and Jinja's ``invocation_args_dict``.

One dict per command, built here and nowhere else: the keys dbt writes for that command with their
defaults, then the values this invocation set. As in dbt, a flag left unset (None) is not written, and
``debug``, ``full_refresh``, ``fail_fast``, ``warn_error`` and ``store_failures`` only when true.

>>> args = invocation_args("run", {"select": ("orders",), "threads": 4}, invocation_command="modelkit run -s orders")
>>> args["which"], args["select"], args["threads"], args["invocation_command"]
('run', ['orders'], 4, 'modelkit run -s orders')
>>> "full_refresh" in args, "limit" in args
(False, False)
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The behaviour flags (dbt's ``flags:`` in dbt_project.yml) every command reports, with dbt 1.11's defaults.
BEHAVIOUR_FLAGS: dict[str, Any] = {
    "require_all_warnings_handled_by_warn_error": False,
    "require_batched_execution_for_custom_microbatch_strategy": False,
    "require_explicit_package_overrides_for_builtin_materializations": True,
    "require_generic_test_arguments_property": True,
    "require_nested_cumulative_type_params": False,
    "require_ref_searches_node_package_before_root": False,
    "require_resource_names_without_spaces": True,
    "require_unique_project_resource_names": False,
    "require_yaml_configuration_for_mf_time_spines": False,
    "skip_nodes_if_on_run_start_fails": False,
    "source_freshness_run_project_hooks": True,
    "state_modified_compare_more_unrendered_values": False,
    "state_modified_compare_vars": False,
    "validate_macro_args": False,
}

# What every command writes (run-operation leaves out the selection, paths and warn_error_options).
GLOBAL_FLAGS: dict[str, Any] = {
    "cache_selected_only": False,
    "defer": False,
    "favor_state": False,
    "indirect_selection": "eager",
    "introspect": True,
    "log_file_max_bytes": 10 * 1024 * 1024,
    "log_format": "default",
    "log_format_file": "debug",
    "log_level": "info",
    "log_level_file": "debug",
    "macro_debugging": False,
    "partial_parse": True,
    "partial_parse_file_diff": True,
    "populate_cache": True,
    "print": True,
    "printer_width": 80,
    "quiet": False,
    "send_anonymous_usage_stats": False,  # modelkit sends nothing
    "show_all_deprecations": False,
    "show_resource_report": False,
    "static_parser": True,
    "strict_mode": False,
    "upload_to_artifacts_ingest_api": False,
    "use_colors": True,
    "use_colors_file": True,
    "use_fast_test_edges": False,
    "vars": {},
    "version_check": True,
    "write_json": True,
    **BEHAVIOUR_FLAGS,
}

SELECTION_FLAGS: dict[str, Any] = {
    "exclude": [],
    "select": [],
    "warn_error_options": {"error": [], "silence": [], "warn": []},
}

SQLPARSE = {"sqlparse": {"MAX_GROUPING_DEPTH": None, "MAX_GROUPING_TOKENS": None}}
RESOURCE_TYPES = {"exclude_resource_types": [], "resource_types": []}

# Each command's own keys, beyond GLOBAL_FLAGS (+ SELECTION_FLAGS, log_path, project_dir for all but run-operation).
COMMAND_FLAGS: dict[str, dict[str, Any]] = {
    "run": {"empty": False, **SQLPARSE},
    "test": {**RESOURCE_TYPES, **SQLPARSE},
    "seed": {"show": False, **SQLPARSE},
    "snapshot": {"empty": False, **SQLPARSE},
    "build": {
        "empty": False,
        "export_saved_queries": False,
        "include_saved_query": False,
        "show": False,
        **RESOURCE_TYPES,
        **SQLPARSE,
    },
    "compile": {"empty": False, "inject_ephemeral_ctes": True, "output": "text", **SQLPARSE},
    "show": {"limit": 5, "output": "text", **SQLPARSE},
    "generate": {"compile": True, "empty_catalog": False, "static": False, **SQLPARSE},
    "clone": dict(RESOURCE_TYPES),
    "run-operation": {
        "debug": False,
        "fail_fast": False,
        "full_refresh": False,
        "log_cache_events": False,
        "single_threaded": False,
        "store_failures": False,
        "use_experimental_parser": False,
    },
}

# Written only when true (dbt's default_false_keys), unless the command's keys have them (run-operation).
FALSE_OMITTED = ("debug", "full_refresh", "fail_fast", "warn_error", "single_threaded", "store_failures")

# Written when the invocation sets them.
OPTIONAL_FLAGS = (
    "args", "defer_state", "event_time_end", "event_time_start", "inline", "macro", "profile", "selector",
    "state", "state_git", "target", "threads", "warn_error", "debug", "full_refresh", "fail_fast", "store_failures",
)  # fmt: skip


def command_keys(which: str) -> dict[str, Any]:
    """The keys dbt writes for ``which`` (``generate`` for docs generate) with their defaults."""
    keys = dict(GLOBAL_FLAGS)
    if which != "run-operation":
        keys.update(SELECTION_FLAGS)
    keys.update(COMMAND_FLAGS.get(which, {}))
    return keys


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime.datetime):  # as dbt writes a --event-time-start: no zone
        return value.replace(tzinfo=None).isoformat()
    return value


def invocation_args(
    which: str,
    flags: Mapping[str, Any],
    *,
    invocation_command: str | None = None,
    project_dir: str | Path | None = None,
    profiles_dir: str | Path | None = None,
    log_path: str | Path | None = None,
) -> dict[str, Any]:
    """run_results.json's ``args`` for command ``which``: its keys with their defaults, then ``flags``
    (by dbt's flag name; None values are not written). Paths are written absolute, as dbt does."""
    args = command_keys(which)
    for key, value in flags.items():
        if value is None or (key not in args and key not in OPTIONAL_FLAGS):
            continue
        if key in FALSE_OMITTED and value is False and key not in args:  # run-operation writes its own
            continue
        args[key] = _plain(value)
    if args.get("log_format") == "json" and "log_format_file" not in flags:
        args["log_format_file"] = "json"  # the log file follows the console's JSON, as in dbt
    if args.get("use_colors") is False and "use_colors_file" not in flags:
        args["use_colors_file"] = False
    if which != "run-operation":
        root = Path(project_dir or ".").resolve()
        args["project_dir"] = str(root)
        args["log_path"] = str(Path(log_path).resolve() if log_path else root / "logs")
    if profiles_dir is not None:
        args["profiles_dir"] = str(Path(profiles_dir).expanduser().resolve())
    args["invocation_command"] = invocation_command or f"modelkit {'docs generate' if which == 'generate' else which}"
    args["which"] = which
    return dict(sorted(args.items()))
