"""``debug``: the checks dbt's ``dbt debug`` makes, in its order and words.

The profile, the project file and git are checked, then the connection (``--connection`` checks the
connection alone). Each failed check adds its summary after the ``N check(s) failed:`` line; the
command fails when one did.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from modelkit.adapters import get_adapter
from modelkit.core import yamlio
from modelkit.core.errors import ModelkitError
from modelkit.core.text import pluralize
from modelkit.project.profiles import Target, load_target
from modelkit.project.project import ProjectConfig, load_project

PROFILE_DOCS = "https://docs.getdbt.com/docs/configure-your-profile"
MISSING_PROFILE = (
    "dbt looked for a profiles.yml file in {path}, but did\n"
    "not find one. For more information on configuring your profile, consult the\n"
    "documentation:\n\n{url}\n"
)
COULD_NOT_CONNECT = (
    "dbt was unable to connect to the specified database.\n"
    "The database returned the following error:\n\n  >{err}\n\n"
    "Check your database credentials and try again. For more information, visit:\n{url}\n"
)


@dataclass(frozen=True)
class Check:
    log_msg: str  # what the check's line shows between brackets
    status: str  # success | error | skipped
    summary: str  # shown after "N checks failed:" when it failed


def _profiles_dir(profiles_dir: str | Path | None, project_dir: Path) -> Path:
    """The folder the profile is read from, searched as a run searches it: the flag, the environment
    variable, the current folder, the project's, ~/.dbt."""
    if profiles_dir:
        return Path(profiles_dir)
    env = os.environ.get("MODELKIT_PROFILES_DIR") or os.environ.get("DBT_PROFILES_DIR")
    if env:
        return Path(env).expanduser()
    searched = list(dict.fromkeys([Path.cwd().resolve(), project_dir.resolve(), Path.home() / ".dbt"]))
    return next((d for d in searched if (d / "profiles.yml").is_file()), searched[0])


def _connection_info(target: Target) -> list[tuple[str, Any]]:
    """What the connection section lists: where the target's relations go, and how it connects."""
    creds = target.credentials
    if target.type == "duckdb":
        return [("database", target.database), ("schema", target.schema), ("path", target.path)]
    found = [(key, creds.get(key)) for key in ("host", "port", "user")]
    return [*found, ("database", target.database), ("schema", target.schema)]


def run_debug(
    emit: Callable[[str], None],
    project_dir: Path | str = ".",
    *,
    profiles_dir: str | Path | None = None,
    target: str | None = None,
    profile: str | None = None,
    cli_vars: Mapping[str, Any] | None = None,
    connection_only: bool = False,
    version: str = "",
) -> bool:
    """Run dbt's debug checks, reporting each line through ``emit``; True when all passed."""
    root = Path(project_dir)
    emit(f"modelkit version: {version}")
    emit(f"python version: {sys.version.split()[0]}")
    emit(f"python path: {sys.executable}")
    emit(f"os info: {platform.platform()}")
    folder = _profiles_dir(profiles_dir, root)
    profile_path = folder / "profiles.yml"
    shown_profile_path = os.path.join(str(profiles_dir) if profiles_dir else str(folder), "profiles.yml")
    project_path = root / "dbt_project.yml"
    project: ProjectConfig | None = None
    project_error: str | None = None
    if project_path.is_file() or (root / "modelkit.yml").is_file():
        try:
            project = load_project(root, cli_vars)
        except ModelkitError as exc:
            project_error = str(exc)
    resolved: Target | None = None
    profile_name = profile or (project.profile if project is not None else None)
    if project is not None and not profile_name:  # no profile: the project's embedded DuckDB file
        resolved = load_target(project, cli_vars=cli_vars)
        profile_check = Check("OK none needed", "success", "The project builds in its embedded DuckDB file")
    elif not profile_path.is_file():
        profile_check = Check(
            "ERROR not found", "error", MISSING_PROFILE.format(path=shown_profile_path, url=PROFILE_DOCS)
        )
    else:
        try:
            resolved = _load_target(project, profile_path, profile_name, target, cli_vars, folder)
            profile_check = Check("OK found and valid", "success", "Profile is valid")
        except ModelkitError as exc:
            details = exc.message
            profile_check = Check(
                "ERROR invalid", "error", f"Profile loading failed for the following reason:\n{details}\n"
            )
    emit(f"Using profiles dir at {profiles_dir if profiles_dir else folder}")
    emit(f"Using profiles.yml file at {shown_profile_path}")
    emit(f"Using dbt_project.yml file at {project.project_file if project is not None else project_path.resolve()}")
    if resolved is not None:
        emit(f"adapter type: {resolved.type}")
        emit(f"adapter version: {_adapter_version(resolved.type)}")
    if project is not None:
        project_check = Check("OK found and valid", "success", "Project is valid")
    elif project_error is not None:
        project_check = Check(
            "ERROR invalid", "error", f"Project loading failed for the following reason:\n{project_error}\n"
        )
    else:
        project_check = Check(
            "ERROR not found",
            "error",
            f"Project loading failed for the following reason:\n project path <{project_path}> not found",
        )
    checks = [profile_check, project_check]
    if connection_only:
        emit("Skipping steps before connection verification")
    else:
        emit("Configuration:")
        emit(f"  profiles.yml file [{profile_check.log_msg}]")
        emit(f"  dbt_project.yml file [{project_check.log_msg}]")
        emit("Required dependencies:")
        git = shutil.which("git") is not None
        checks.append(
            Check("OK found", "success", "git is installed and on the path")
            if git
            else Check("ERROR", "error", "Error from git --help: git was not found on the path")
        )
        emit(f" - git [{checks[-1].log_msg}]\n")
    checks.append(_test_connection(resolved, emit))
    failed = [c for c in checks if c.status == "error"]
    if failed:
        emit(f"{pluralize(len(failed), 'check')} failed:")
        for check in failed:
            emit(f"{check.summary}\n")
        return False
    emit("All checks passed!")
    return True


def _load_target(
    project: ProjectConfig | None,
    profile_path: Path,
    profile_name: str | None,
    target: str | None,
    cli_vars: Mapping[str, Any] | None,
    folder: Path,
) -> Target | None:
    if project is not None:
        return load_target(project, profiles_dir=folder, target=target, profile=profile_name, cli_vars=cli_vars)
    raw = yamlio.load(profile_path)  # no project: the named profile (else every one) read as it is written
    names = [profile_name] if profile_name else [k for k in (raw or {}) if k != "config"]
    for name in names:
        if not isinstance(raw, Mapping) or name not in raw:
            raise ModelkitError(f"Could not find profile named '{name}'")
        outputs = (raw[name] or {}).get("outputs") or {}
        chosen = target or (raw[name] or {}).get("target") or "dev"
        if not isinstance(outputs.get(chosen), Mapping):
            raise ModelkitError(f"The profile '{name}' does not have a valid target named '{chosen}'")
    return None


def _adapter_version(kind: str) -> str:
    try:
        return metadata.version({"duckdb": "duckdb", "postgres": "psycopg"}.get(kind, kind))
    except metadata.PackageNotFoundError:
        return "not installed"


def _test_connection(target: Target | None, emit: Callable[[str], None]) -> Check:
    if target is None:
        emit("Connection test skipped since no profile was found")
        return Check("SKIPPED", "skipped", "Connection test skipped since no profile was found")
    emit("Connection:")
    for key, value in _connection_info(target):
        emit(f"  {key}: {value}")
    error: str | None = None
    try:
        adapter = get_adapter(target)
        adapter.open()
        try:
            adapter.execute(adapter.sql.connection_check(), fetch=True)
        finally:
            adapter.close()
    except ModelkitError as exc:
        error = exc.message
    except OSError as exc:
        error = str(exc)
    check = (
        Check("OK connection ok", "success", "Connection test passed")
        if error is None
        else Check("ERROR", "error", COULD_NOT_CONNECT.format(err=error, url=PROFILE_DOCS))
    )
    emit(f"  Connection test: [{check.log_msg}]\n")
    return check
