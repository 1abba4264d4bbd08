"""What an invocation records and shares: its flags as run_results.json's ``args``, timestamps, inline SQL."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from modelkit.api.stategit import StateOptions
from modelkit.core import yamlio
from modelkit.core.batches import Window, as_utc, sample_window
from modelkit.core.errors import CompilationError, ModelkitError, UsageError
from modelkit.core.manifest import ModelNode

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


def command_args(command: str, **kwargs: Any) -> dict[str, Any]:
    return {"which": command, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()}}


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
