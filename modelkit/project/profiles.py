"""Connections: dbt's ``profiles.yml`` shape, or an embedded DuckDB file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelkit.core import yamlio
from modelkit.core.errors import ProjectError
from modelkit.project.project import ProjectConfig, render_value

DEFAULT_EMBEDDED_THREADS = 4


@dataclass(frozen=True)
class Target:
    """The resolved connection target (``target`` in templates)."""

    profile_name: str
    name: str
    type: str
    schema: str
    database: str
    threads: int
    credentials: dict[str, Any] = field(default_factory=dict)
    origin: str = "embedded"  # where it came from: a profiles.yml path or "embedded"

    @property
    def path(self) -> str | None:
        return self.credentials.get("path")

    def to_context(self) -> dict[str, Any]:
        ctx = {k: v for k, v in self.credentials.items() if k not in ("password", "token")}
        ctx.update(
            name=self.name,
            target_name=self.name,
            type=self.type,
            schema=self.schema,
            database=self.database,
            threads=self.threads,
            profile_name=self.profile_name,
        )
        return ctx


def duckdb_database_name(path: str) -> str:
    """dbt-duckdb's rule: the file name up to its first dot; ``:memory:`` is ``memory``."""
    if path in (":memory:", "") or path.startswith(":memory:"):
        return "memory"
    base = os.path.basename(path).lstrip(".")
    return base.split(".", 1)[0] or "memory"


def profile_search_dirs(project: ProjectConfig, profiles_dir: str | Path | None) -> list[Path]:
    if profiles_dir:
        return [Path(profiles_dir).expanduser().resolve()]
    env = os.environ.get("MODELKIT_PROFILES_DIR") or os.environ.get("DBT_PROFILES_DIR")
    if env:
        return [Path(env).expanduser().resolve()]
    dirs = [Path.cwd().resolve(), project.root, Path.home() / ".dbt"]
    return list(dict.fromkeys(dirs))


def _build(
    profile: str, name: str, output: Mapping[str, Any], project: ProjectConfig, origin: str, threads: int | None
) -> Target:
    creds = dict(output)
    kind = str(creds.get("type", "duckdb"))
    if kind == "duckdb":
        path = str(creds.get("path", ":memory:"))
        if path != ":memory:" and not path.startswith(("md:", "motherduck:")) and not os.path.isabs(path):
            path = str(project.root / path)
        creds["path"] = path
        database = duckdb_database_name(path)
        explicit = creds.get("database")
        attached = {a.get("alias") for a in creds.get("attach") or [] if isinstance(a, Mapping)}
        if explicit and explicit != database and explicit not in attached:
            raise ProjectError(
                f"Inconsistency detected between 'path' and 'database' fields in profile '{profile}': "
                f"path gives database '{database}', database is '{explicit}'",
                path=origin,
            )
        database = explicit or database
        schema = str(creds.get("schema", "main"))
    elif kind == "spark":
        database, schema = "", _spark_schema(profile, creds, project, origin)
    else:
        database = str(creds.get("database") or creds.get("dbname") or "")
        schema = str(creds.get("schema") or "public")
    resolved_threads = threads or int(creds.get("threads") or 1)
    return Target(profile, name, kind, schema, database, resolved_threads, creds, origin)


def _spark_schema(profile: str, creds: dict[str, Any], project: ProjectConfig, origin: str) -> str:
    """dbt-spark's rules (a schema, a database only equal to it), and the local session's folders.

    Spark has no database above schemas: relations are ``schema.identifier``. ``warehouse_dir`` and
    ``metastore_dir`` (a local session's tables and its embedded metastore) are resolved against the
    project, by default under its target folder.
    """
    schema = str(creds.get("schema") or "")
    if not schema:
        raise ProjectError(f"Profile '{profile}' (type spark) must set `schema`", path=origin)
    if creds.get("database") and str(creds["database"]) != schema:
        raise ProjectError(
            f"Profile '{profile}': schema is {schema}, database is {creds['database']}; on Spark, "
            "database must be omitted or have the same value as schema.",
            path=origin,
        )
    for key, default in (("warehouse_dir", "spark-warehouse"), ("metastore_dir", "spark-metastore")):
        value = creds.get(key)
        creds[key] = str(project.root / os.path.expanduser(str(value))) if value else str(project.target_dir / default)
    return schema


def embedded_target(project: ProjectConfig, threads: int | None = None) -> Target:
    path = project.target_dir / f"{project.name}.duckdb"
    creds = {"type": "duckdb", "path": str(path), "schema": "main"}
    if project.connection:
        creds.update(project.connection)
    return _build(
        project.profile or project.name, "dev", creds, project, "embedded", threads or DEFAULT_EMBEDDED_THREADS
    )


def load_target(
    project: ProjectConfig,
    *,
    profiles_dir: str | Path | None = None,
    target: str | None = None,
    profile: str | None = None,
    threads: int | None = None,
    cli_vars: Mapping[str, Any] | None = None,
) -> Target:
    """Resolve the connection for a run.

    A project that names no profile (and a ``modelkit.yml`` with an inline
    ``connection:``) gets an embedded DuckDB file under its target folder.
    """
    profile_name = profile or project.profile
    if not profile_name:
        return embedded_target(project, threads)
    searched = profile_search_dirs(project, profiles_dir)
    for folder in searched:
        path = folder / "profiles.yml"
        if path.is_file():
            break
    else:
        if profiles_dir or project.connection:
            if project.connection and not profiles_dir:
                return embedded_target(project, threads)
            raise ProjectError(f"No profiles.yml found in {searched[0]}")
        return embedded_target(project, threads)
    raw = yamlio.load(path)
    if not isinstance(raw, Mapping) or profile_name not in raw:
        known = ", ".join(k for k in (raw or {}) if k != "config") if isinstance(raw, Mapping) else ""
        raise ProjectError(
            f"Profile '{profile_name}' not found in {path}" + (f" (it has: {known})" if known else ""), path=str(path)
        )
    entry = raw[profile_name] or {}
    outputs = entry.get("outputs") or {}
    target_name = target or entry.get("target") or "dev"
    if target_name not in outputs:
        raise ProjectError(
            f"Target '{target_name}' not found in profile '{profile_name}' (outputs: {', '.join(outputs) or 'none'})",
            path=str(path),
        )
    output = render_value(dict(outputs[target_name]), cli_vars or {})
    return _build(profile_name, target_name, output, project, str(path), threads)
