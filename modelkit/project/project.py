"""Reading the project file: ``modelkit.yml`` or, when absent, ``dbt_project.yml``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelkit.core import settings, yamlio
from modelkit.core.errors import ModelkitError, ProjectError, UsageError
from modelkit.project.rendering import TARGET_KEYS, project_key_rendered, render_text, render_tree

PROJECT_FILES = ("modelkit.yml", "dbt_project.yml")
# Keys whose values hold Jinja that must be rendered later, per node or per run.
_DEFERRED_KEYS = frozenset({"on-run-start", "on-run-end", "pre-hook", "post-hook", "+pre-hook", "+post-hook"})


def env_var(name: str, default: Any = None, *, seen: dict[str, str | None] | None = None) -> str:
    """dbt's ``env_var()``: the variable's value, the default, or an error."""
    value = os.environ.get(name)
    if seen is not None:
        seen[name] = value
    if value is not None:
        return value
    if default is not None:
        return str(default)
    raise ProjectError(f"Env var required but not provided: '{name}'")


def render_value(value: Any, cli_vars: Mapping[str, Any], key: str = "") -> Any:
    if key in _DEFERRED_KEYS:
        return value
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        from jinja2.sandbox import SandboxedEnvironment  # only for values holding Jinja: keeps start-up light

        env = SandboxedEnvironment()

        def var(name: str, default: Any = None) -> Any:
            return cli_vars.get(name, default)

        return env.from_string(value).render(env_var=env_var, var=var)
    if isinstance(value, Mapping):
        return {k: render_value(v, cli_vars, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, cli_vars, key) for v in value]
    return value


def _paths(raw: Mapping[str, Any], key: str, default: list[str]) -> tuple[str, ...]:
    value = raw.get(key, raw.get(key.replace("-", "_"), default))
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).rstrip("/") for v in value or [])


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    project_file: Path
    name: str
    version: str = "1.0.0"
    profile: str | None = None
    model_paths: tuple[str, ...] = ("models",)
    seed_paths: tuple[str, ...] = ("seeds",)
    macro_paths: tuple[str, ...] = ("macros",)
    test_paths: tuple[str, ...] = ("tests",)
    analysis_paths: tuple[str, ...] = ("analyses",)
    snapshot_paths: tuple[str, ...] = ("snapshots",)
    docs_paths: tuple[str, ...] = ()
    asset_paths: tuple[str, ...] = ()  # `asset-paths:`: folders `docs generate` copies into the target folder
    target_path: str = "target"
    packages_install_path: str = "dbt_packages"
    clean_targets: tuple[str, ...] = ("target",)
    vars: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    seeds: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, Any] = field(default_factory=dict)
    data_tests: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)
    unit_tests: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    semantic_models: dict[str, Any] = field(default_factory=dict)  # `semantic-models:`
    saved_queries: dict[str, Any] = field(default_factory=dict)  # `saved-queries:`
    restrict_access: bool = False  # `restrict-access:`: its protected models are ref'd only from itself
    on_run_start: tuple[str, ...] = ()
    on_run_end: tuple[str, ...] = ()
    dispatch: tuple[dict[str, Any], ...] = ()
    quoting: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] | None = None  # modelkit.yml may inline a target
    flags: dict[str, Any] = field(default_factory=dict)  # `flags:`: defaults for global settings, behavior flags
    dialect: str | None = None  # `dialect:`: the SQL dialect the project's models are written in (None: the target's)
    cli_vars: dict[str, Any] = field(default_factory=dict)
    # The config trees and vars as written; with_target renders them into the fields above.
    raw_trees: dict[str, Any] = field(default_factory=dict)

    @property
    def target_dir(self) -> Path:
        return self.root / self.target_path

    @property
    def all_doc_paths(self) -> tuple[str, ...]:
        if self.docs_paths:
            return self.docs_paths
        return (
            self.model_paths
            + self.seed_paths
            + self.macro_paths
            + self.test_paths
            + self.snapshot_paths
            + self.analysis_paths
        )

    def with_target(self, target: Mapping[str, Any]) -> ProjectConfig:
        """This project with its config trees and vars rendered with ``target`` in context.

        As dbt renders ``dbt_project.yml``: natively (``"{{ target.name == 'prod' }}"`` is a boolean),
        hooks left for run time; vars as text, each when it is read.
        """
        context = {**_first_pass_context(self.cli_vars), "target": dict(target)}
        try:
            trees = render_tree({k: v for k, v in self.raw_trees.items() if k != "vars"}, context, project_key_rendered)
            trees["vars"] = {k: _render_var(v, context) for k, v in (self.raw_trees.get("vars") or {}).items()}
        except ModelkitError as exc:
            exc.path = exc.path or self.project_file.name
            raise
        return replace(self, **_trees(trees))

    def project_vars(self) -> dict[str, Any]:
        """Global vars plus vars scoped to this project (which win)."""
        merged = {k: v for k, v in self.vars.items() if not (k == self.name and isinstance(v, Mapping))}
        scoped = self.vars.get(self.name)
        if isinstance(scoped, Mapping):
            merged.update(scoped)
        return merged


def find_project_file(project_dir: Path) -> Path:
    for name in PROJECT_FILES:
        candidate = project_dir / name
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(project_dir / n) for n in PROJECT_FILES)
    raise ProjectError(
        f"No project file found. Looked for {looked}.\n"
        "Run modelkit from a project folder, pass --project-dir, or create one with `modelkit init NAME`."
    )


def _hooks(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _render_var(value: Any, context: Mapping[str, Any]) -> Any:
    """A var's value as ``var()`` returns it: text rendered (also one level down, for package scopes)."""
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, Mapping):
        return {k: render_text(v, context) if isinstance(v, str) else v for k, v in value.items()}
    return value


def _first_pass_context(cli_vars: Mapping[str, Any]) -> dict[str, Any]:
    def var(name: str, default: Any = None) -> Any:
        return cli_vars.get(name, default)

    return {"env_var": env_var, "var": var}


def load_project(project_dir: Path | str, cli_vars: Mapping[str, Any] | None = None) -> ProjectConfig:
    """The project file, rendered as far as it can be before the target is known.

    The config trees (``models:``, ``seeds:``, ...) and ``vars:`` may use ``target``: they are kept
    as written until :meth:`ProjectConfig.with_target` renders them; hooks stay unrendered.
    """
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise ProjectError(f"Project folder not found: {root}")
    path = find_project_file(root)
    raw = yamlio.load(path, display=path.name)
    if not isinstance(raw, Mapping):
        raise ProjectError("The project file must be a YAML mapping", path=path.name)
    cli_vars = cli_vars or {}
    later = {k: raw[k] for k in TARGET_KEYS if k in raw}
    now = {k: v for k, v in raw.items() if k not in later and k != "name"}
    try:
        raw = {**render_tree(now, _first_pass_context(cli_vars), project_key_rendered), "name": raw.get("name")}
    except ModelkitError as exc:
        exc.path = exc.path or path.name
        raise
    name = raw.get("name")
    if not name or not isinstance(name, str):
        raise ProjectError("The project file must set `name`", path=path.name)
    if not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise ProjectError(f"Project name {name!r} must be letters, digits and underscores", path=path.name)
    flags = raw.get("flags") or {}
    if not isinstance(flags, Mapping):
        raise ProjectError("`flags:` must be a mapping of setting names to values", path=path.name)
    dialect = raw.get("dialect")
    if dialect is not None and (not isinstance(dialect, str) or not dialect.strip()):
        raise ProjectError("`dialect:` must name a SQL dialect, such as duckdb or postgres", path=path.name)
    target_path = settings.resolve("target_path", None, flags)  # --target-path / env var / flags:
    target_path = target_path or str(raw.get("target-path", raw.get("target_path", "target")))
    return ProjectConfig(
        root=root,
        project_file=path,
        name=name,
        version=str(raw.get("version", "1.0.0")),
        profile=raw.get("profile"),
        model_paths=_paths(raw, "model-paths", ["models"]),
        seed_paths=_paths(raw, "seed-paths", ["seeds"]),
        macro_paths=_paths(raw, "macro-paths", ["macros"]),
        test_paths=_paths(raw, "test-paths", ["tests"]),
        analysis_paths=_paths(raw, "analysis-paths", ["analyses"]),
        snapshot_paths=_paths(raw, "snapshot-paths", ["snapshots"]),
        docs_paths=_paths(raw, "docs-paths", []),
        asset_paths=_paths(raw, "asset-paths", []),
        target_path=target_path,
        packages_install_path=str(raw.get("packages-install-path", raw.get("packages_install_path", "dbt_packages"))),
        clean_targets=_paths(raw, "clean-targets", [target_path]),
        on_run_start=_hooks(raw.get("on-run-start", raw.get("on_run_start"))),
        on_run_end=_hooks(raw.get("on-run-end", raw.get("on_run_end"))),
        dispatch=tuple(raw.get("dispatch") or ()),
        quoting=dict(raw.get("quoting") or {}),
        connection=dict(raw["connection"]) if isinstance(raw.get("connection"), Mapping) else None,
        flags=dict(flags),
        dialect=dialect.strip().lower() if dialect else None,
        restrict_access=raw.get("restrict-access", raw.get("restrict_access")) is True,
        cli_vars=dict(cli_vars),
        raw_trees=dict(later),
        **_trees(later),
    )


def _trees(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The ProjectConfig fields of the keys rendered with the target."""
    return {
        "vars": dict(raw.get("vars") or {}),
        "models": dict(raw.get("models") or {}),
        "seeds": dict(raw.get("seeds") or {}),
        "snapshots": dict(raw.get("snapshots") or {}),
        "data_tests": dict(raw.get("data_tests") or raw.get("tests") or {}),
        "sources": dict(raw.get("sources") or {}),
        "unit_tests": dict(raw.get("unit_tests") or {}),
        "metrics": dict(raw.get("metrics") or {}),
        "semantic_models": dict(raw.get("semantic-models") or raw.get("semantic_models") or {}),
        "saved_queries": dict(raw.get("saved-queries") or raw.get("saved_queries") or {}),
    }


def parse_vars(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``--vars`` as YAML or JSON text (or a mapping already)."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    try:
        data = yamlio.loads(value, "--vars")
    except ProjectError as exc:
        raise UsageError(f"--vars is not valid YAML or JSON: {exc.message}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UsageError(f"--vars must be a mapping, e.g. '{{key: value}}'; got {json.dumps(data, default=str)}")
    return dict(data)


def partial_parse_enabled(setting: bool | None = None, project_flags: Mapping[str, Any] | None = None) -> bool:
    """Whether parse results may be reused: ``setting`` if given, else MODELKIT_/DBT_PARTIAL_PARSE, else the
    project's ``flags: {partial_parse: ...}`` (default on)."""
    return bool(settings.resolve("partial_parse", setting, project_flags))


def project_flags(project_dir: Path | str) -> dict[str, Any]:
    """The project file's ``flags:`` mapping, read before anything else (empty when there is no project file)."""
    root = Path(project_dir)
    for name in PROJECT_FILES:
        path = root / name
        if path.is_file():
            raw = yamlio.load(path, display=name)
            flags = raw.get("flags") if isinstance(raw, Mapping) else None
            return dict(flags) if isinstance(flags, Mapping) else {}
    return {}
