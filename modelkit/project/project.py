"""Reading the project file: ``modelkit.yml`` or, when absent, ``dbt_project.yml``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelkit.core import yamlio
from modelkit.core.errors import ProjectError, UsageError

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
    on_run_start: tuple[str, ...] = ()
    on_run_end: tuple[str, ...] = ()
    dispatch: tuple[dict[str, Any], ...] = ()
    quoting: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)  # `flags:`, behavior flags among them
    connection: dict[str, Any] | None = None  # modelkit.yml may inline a target

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


def load_project(project_dir: Path | str, cli_vars: Mapping[str, Any] | None = None) -> ProjectConfig:
    root = Path(project_dir).resolve()
    if not root.is_dir():
        raise ProjectError(f"Project folder not found: {root}")
    path = find_project_file(root)
    raw = yamlio.load(path, display=path.name)
    if not isinstance(raw, Mapping):
        raise ProjectError("The project file must be a YAML mapping", path=path.name)
    raw = render_value(raw, cli_vars or {})
    name = raw.get("name")
    if not name or not isinstance(name, str):
        raise ProjectError("The project file must set `name`", path=path.name)
    if not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise ProjectError(f"Project name {name!r} must be letters, digits and underscores", path=path.name)
    target_path = os.environ.get("MODELKIT_TARGET_PATH") or os.environ.get("DBT_TARGET_PATH")
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
        target_path=target_path,
        packages_install_path=str(raw.get("packages-install-path", raw.get("packages_install_path", "dbt_packages"))),
        clean_targets=_paths(raw, "clean-targets", [target_path]),
        vars=dict(raw.get("vars") or {}),
        models=dict(raw.get("models") or {}),
        seeds=dict(raw.get("seeds") or {}),
        snapshots=dict(raw.get("snapshots") or {}),
        data_tests=dict(raw.get("data_tests") or raw.get("tests") or {}),
        sources=dict(raw.get("sources") or {}),
        unit_tests=dict(raw.get("unit_tests") or {}),
        on_run_start=_hooks(raw.get("on-run-start", raw.get("on_run_start"))),
        on_run_end=_hooks(raw.get("on-run-end", raw.get("on_run_end"))),
        dispatch=tuple(raw.get("dispatch") or ()),
        quoting=dict(raw.get("quoting") or {}),
        flags=dict(raw.get("flags") or {}) if isinstance(raw.get("flags"), Mapping) else {},
        connection=dict(raw["connection"]) if isinstance(raw.get("connection"), Mapping) else None,
    )


def parse_vars(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``--vars`` as YAML or JSON text (or a mapping already)."""
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    try:
        data = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise UsageError(f"--vars is not valid YAML or JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UsageError(f"--vars must be a mapping, e.g. '{{key: value}}'; got {json.dumps(data, default=str)}")
    return dict(data)


def partial_parse_enabled(setting: bool | None = None) -> bool:
    """Whether parse results may be reused: ``setting`` if given, else MODELKIT_/DBT_PARTIAL_PARSE (default on)."""
    if setting is not None:
        return setting
    value = os.environ.get("MODELKIT_PARTIAL_PARSE", os.environ.get("DBT_PARTIAL_PARSE", "true"))
    return value.strip().lower() not in ("0", "false", "no", "off")
