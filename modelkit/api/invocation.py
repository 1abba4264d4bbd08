"""What an invocation records and shares: its flags as run_results.json's ``args``, timestamps, inline SQL."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit.api.invocation_args import BEHAVIOUR_FLAGS, invocation_args
from modelkit.api.stateoptions import StateOptions
from modelkit.core import settings, yamlio
from modelkit.core.batches import Window, as_utc, sample_window
from modelkit.core.errors import CompilationError, ModelkitError, UsageError
from modelkit.core.manifest import ModelNode
from modelkit.core.results import NodeResult, RunResult

if TYPE_CHECKING:
    from modelkit.api.session import Session


def timestamp(flag: str, value: str | datetime.datetime | None) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except ValueError:
        raise UsageError(
            f"{flag} must be a date or timestamp (e.g. 2024-01-31 or 2024-01-31T12:00:00), got {value!r}"
        ) from None


def sample(value: str | Window | None) -> Window | None:
    """``--sample``: ``"N grain"`` (back from now) or ``{start: ..., end: ...}``, as a (start, end) window."""
    if value is None or isinstance(value, tuple):
        return value
    try:
        spec: Any = yamlio.loads(value, "--sample") if value.lstrip().startswith("{") else value
        return sample_window(spec, datetime.datetime.now(datetime.timezone.utc))
    except (ValueError, ModelkitError) as exc:
        message = exc.message if isinstance(exc, ModelkitError) else str(exc)
        raise UsageError(f"Invalid value for '--sample': {message}") from None


def iso(value: str | datetime.datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def state_args(options: StateOptions) -> dict[str, Any]:
    """The state flags as run_results.json's ``args`` records them (for ``retry``)."""
    found: dict[str, Any] = {"defer": options.defer, "favor_state": options.favor_state}
    for key in ("state", "defer_state", "state_git"):
        value = getattr(options, key)
        if value is not None:
            found[key] = str(value)
    return found


def compile_inline(session: Session, sql: str) -> str:
    manifest = session.manifest
    node = ModelNode(
        unique_id=f"sql_operation.{manifest.project_name}.inline_query",
        resource_type="sql_operation",
        package_name=manifest.project_name,
        name="inline_query",
        path="inline_query.sql",
        original_file_path="<inline>",
        fqn=[manifest.project_name, "inline_query"],
        raw_code=sql,
        checksum="",
        config={"materialized": "ephemeral"},
        database=session.target.database,
        schema=session.target.schema,
        alias="inline_query",
    )
    try:
        return session.compiler.compile(node)
    except CompilationError as exc:
        exc.node = "inline query"
        raise


# The global settings run_results.json's ``args`` reports, as resolved for this invocation.
RESOLVED_SETTINGS = (
    "log_format", "log_format_file", "log_level", "log_level_file", "log_file_max_bytes", "partial_parse",
    "printer_width", "quiet", "use_colors", "debug", "fail_fast", "warn_error", "store_failures",
    "send_anonymous_usage_stats", "version_check", "indirect_selection",
)  # fmt: skip


def record_args(session: Session, which: str, flags: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Fill ``session.invocation.args`` (Jinja's ``invocation_args_dict``, the same dict) with the
    command's run_results.json ``args``: the settings as resolved (flag, env var, project ``flags:``),
    the session's own (vars, target, threads, state), then ``flags``, then the command line's."""
    project_flags = session.project.flags
    found: dict[str, Any] = {}
    for name in RESOLVED_SETTINGS:
        value = settings.resolve(name, None, project_flags)
        if value is not None and (name != "log_format_file" or value != settings.SETTINGS[name][1]):
            found[name] = value  # an unset log_format_file follows log_format, as in dbt
    found["warn_error_options"] = settings.warn_error_options_as_given(
        settings.resolve("warn_error_options", None, project_flags)
    )
    found["vars"] = dict(session.cli_vars)
    found.update(target=session.cli_target, profile=session.cli_profile, threads=session.cli_threads)
    found.update(state_args(session.state_options))
    found.update({k: v for k, v in project_flags.items() if k in BEHAVIOUR_FLAGS})
    explicit = {**(flags or {}), **session.invocation_flags}
    found.update({k: v for k, v in explicit.items() if v is not None})
    if found.get("indirect_selection") is None:
        found["indirect_selection"] = "eager"
    origin = Path(session.target.origin)
    built = invocation_args(
        which,
        found,
        invocation_command=explicit.get("invocation_command"),
        project_dir=session.project.root,
        profiles_dir=origin.parent if origin.name.endswith((".yml", ".yaml")) else None,
        log_path=settings.resolve("log_path", None, project_flags),
    )
    args = session.invocation.args
    args.clear()
    args.update(built)
    return args


def show_run(
    session: Session, uid: str, relation_name: str | None, sql: str, times: tuple[datetime.datetime, ...]
) -> RunResult:
    """``show``'s run_results.json, as dbt writes it: the previewed node (or ``inline_query``) with the
    query run, its compile and execute timings (``times``: started, compiled, done)."""
    started, _, done = times
    stamp = [t.isoformat().replace("+00:00", "Z") for t in times]
    timing = [
        {"name": "compile", "started_at": stamp[0], "completed_at": stamp[1]},
        {"name": "execute", "started_at": stamp[1], "completed_at": stamp[2]},
    ]
    elapsed = (done - started).total_seconds()
    result = NodeResult(uid, "success", None, elapsed, timing=timing, compiled_code=sql)
    result.adapter_response, result.relation_name = {"_message": "OK"}, relation_name
    return RunResult("show", [result], elapsed, started_at=started, args=session.invocation.args)
