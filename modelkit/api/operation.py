"""``run-operation MACRO --args '{...}'``: call one macro with the database connected, as dbt does."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from modelkit.core.errors import CompilationError, ModelkitError, ProjectError, UsageError
from modelkit.core.results import NodeResult, RunResult, now
from modelkit.core.text import did_you_mean
from modelkit.render import templating

if TYPE_CHECKING:
    from modelkit.api.session import Session


@dataclass
class OperationResult:
    """What a run-operation did: the macro's return value, or the error that stopped it."""

    macro: str
    unique_id: str
    success: bool
    value: Any = None
    error: ModelkitError | None = None
    run: RunResult | None = None


def parse_args(text: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``--args`` as YAML or JSON (a mapping of the macro's keyword arguments)."""
    if text is None or text == "":
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"--args is not valid YAML or JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UsageError(f"--args must be a mapping of argument names to values, e.g. '{{key: value}}'; got {text!r}")
    return dict(data)


def run_operation(session: Session, macro_name: str, args: Mapping[str, Any]) -> OperationResult:
    """Call ``macro_name`` (``name`` or ``package.name``) with ``args``; a missing macro is a ProjectError."""
    manifest = session.manifest  # reads the project's macros into the registry
    registry = session.renderer.registry
    package, _, name = macro_name.rpartition(".")
    macro = registry.find(name, package) if package else registry.find_anywhere(name)
    if macro is None:
        names = sorted({m.name for m in manifest.macros.values()})
        raise ProjectError(
            f"dbt could not find a macro with the name '{macro_name}' in any package." + did_you_mean(name, names)
        )
    unique_id = f"macro.{macro.package_name}.{macro.name}"
    started, t0 = time.perf_counter(), now()
    run = RunResult(command="run-operation", started_at=t0)
    result = NodeResult(unique_id, "success", thread_id="main")
    outcome = OperationResult(macro_name, unique_id, True, run=run)
    try:
        # dbt renders an operation in its macro's package: the package's own macros are found unqualified
        home = None if macro.package_name == "dbt" else macro.package_name
        ctx = session.renderer.context(None, execute=True, path=macro.original_file_path, package=home)
        bare = not package and home in (None, registry.root_package)
        target = ctx[macro.name] if bare else getattr(ctx[macro.package_name], macro.name)
        try:
            outcome.value = target(**dict(args))
        except templating.MacroReturn as ret:
            outcome.value = ret.value
        result.adapter_response = {"_message": "OK"}
    except Exception as exc:  # noqa: BLE001 - whatever stops the macro fails the operation (exit 1)
        if not isinstance(exc, ModelkitError):
            exc = CompilationError(f"{type(exc).__name__}: {exc}", path=macro.original_file_path, node=f"macro {name}")
        outcome.success, outcome.error = False, exc
        result.status, result.error = "error", exc
        result.message = f"Encountered an error while running operation: {exc}"
    result.execution_time = time.perf_counter() - started
    result.timing = [
        {
            "name": "execute",
            "started_at": t0.isoformat().replace("+00:00", "Z"),
            "completed_at": now().isoformat().replace("+00:00", "Z"),
        }
    ]
    run.results = [result]
    run.elapsed_time = result.execution_time
    return outcome
