""" "Nothing changed since the last parse": the check that lets ``modelkit parse`` do no work.

After a parse writes ``manifest.json``, :func:`record` stores in ``target/modelkit_parse_state.json``
what that manifest was built from:

- a key over modelkit's version, the rendered project configuration, the rendered target, ``--vars``
  and the ``DBT_ENV_CUSTOM_ENV_*`` variables (which the manifest's metadata lists);
- every environment variable read while parsing, with its value;
- the status (size, modification and change times in nanoseconds, inode) of every input file under
  the project's folders and those of each installed package, and of the packages file, taken *before*
  the files were read;
- the status of the ``manifest.json`` it wrote (``semantic_manifest.json`` must be there too), and the
  "Found ..." summary.

:func:`unchanged` returns that summary only when all of it still holds. Like git's index, it trusts a
file whose status is identical: any write changes the change time, which no tool can set back. A file
written less than :data:`RACY_NS` before its status was taken is never trusted (its next write could
fall within the same clock tick), so it always sends the parse down the full path. Anything else that
differs does too; the full path then uses the per-file cache of :mod:`modelkit.parse.cache`, keyed by
content.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit import __version__
from modelkit.core import jsonio
from modelkit.core.errors import ModelkitError
from modelkit.parse.packages import PACKAGE_FILES, find_packages

if TYPE_CHECKING:
    from modelkit.project.profiles import Target
    from modelkit.project.project import ProjectConfig

STATE_FILE = "modelkit_parse_state.json"
FORMAT = 2  # 2: duplicate YAML keys are refused, so entries parsed before are read again
RACY_NS = 2_000_000_000
INPUT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md", ".jinja", ".py")

FileStatus = list[int]


def _status(st: os.stat_result) -> FileStatus:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def scan(project: ProjectConfig) -> dict[str, FileStatus]:
    """The status of every file a parse may read, by path relative to the project root: the project's
    own, the packages file, and those of each installed package (in the folders its project file names)."""
    found: dict[str, FileStatus] = {}
    _scan_project(project, "", found, {os.path.normpath(str(project.target_dir))})
    for name in PACKAGE_FILES:
        try:
            found[name] = _status((project.root / name).stat())
        except OSError:
            pass
    try:
        packages = find_packages(project)
    except ModelkitError:
        found["<packages>"] = []  # matches no recorded state: the parse reports the error
        return found
    for package in packages:
        _scan_project(package.config, package.prefix, found, set())
    return found


def _scan_project(project: ProjectConfig, prefix: str, found: dict[str, FileStatus], skip: set[str]) -> None:
    root = str(project.root)
    folders = (
        project.model_paths
        + project.seed_paths
        + project.macro_paths
        + project.test_paths
        + project.analysis_paths
        + project.snapshot_paths
        + project.docs_paths
    )
    try:
        found[prefix + project.project_file.name] = _status(project.project_file.stat())
    except OSError:
        pass
    stack = [(os.path.join(root, f), prefix + f.rstrip("/") + "/") for f in dict.fromkeys(folders)]
    while stack:
        folder, inner = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue
            if name.endswith(INPUT_SUFFIXES):
                if entry.is_file():
                    found[inner + name] = _status(entry.stat())
                    continue
            if entry.is_dir(follow_symlinks=False) and os.path.normpath(entry.path) not in skip:
                stack.append((entry.path, inner + name + "/"))


def key(project: ProjectConfig, target: Target, cli_vars: dict[str, Any]) -> str:
    config = {k: v for k, v in vars(project).items() if k != "root"}
    custom = {k: v for k, v in os.environ.items() if k.startswith("DBT_ENV_CUSTOM_ENV_")}
    payload = {
        "format": FORMAT,
        "modelkit": __version__,
        "root": str(project.root.resolve()),
        "project": config,
        # as dbt's partial parsing, --threads (which run and build often set) does not make a parse a full one
        "target": {k: v for k, v in target.to_context().items() if k != "threads"}
        | {"credentials": target.credentials},
        "vars": cli_vars,
        "custom_env": custom,
    }
    return hashlib.sha256(jsonio.dumps(payload)).hexdigest()


def _path(project: ProjectConfig) -> Path:
    return project.target_dir / STATE_FILE


def unchanged(project: ProjectConfig, target: Target, cli_vars: dict[str, Any]) -> str | None:
    """The recorded summary when nothing the last parse read has changed since; else None."""
    return check(project, target, cli_vars)[0]


def check(
    project: ProjectConfig,
    target: Target,
    cli_vars: dict[str, Any],
    scanned: Callable[[str], dict[str, FileStatus] | None] | None = None,
) -> tuple[str | None, dict[str, FileStatus] | None]:
    """(:func:`unchanged`'s answer, the files' status when it scanned them: what a parse that follows may
    take as its own scan, nothing having been read since). ``scanned(key)``: a scan taken already (by
    another process) of the project whose configuration has this :func:`key`, or None."""
    try:
        state = jsonio.read(_path(project))
    except (OSError, ValueError):
        return None, None
    current = key(project, target, cli_vars)
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("key") != current:
        return None, None
    for name, value in (state.get("env") or {}).items():
        if os.environ.get(name) != value:
            return None, None
    try:
        manifest = _status((project.target_dir / "manifest.json").stat())
    except OSError:
        return None, None
    if manifest != state.get("manifest") or not (project.target_dir / "semantic_manifest.json").is_file():
        return None, None
    files = scanned(current) if scanned is not None else None
    if files is None:
        files = scan(project)
    if files != state.get("files"):
        return None, files
    summary = state.get("summary")
    return (summary if isinstance(summary, str) else None), files


def record(
    project: ProjectConfig,
    target: Target,
    cli_vars: dict[str, Any],
    files: dict[str, FileStatus],
    env: dict[str, Any],
    summary: str,
) -> None:
    """Store what the manifest.json just written was built from (``files`` as scanned before parsing)."""
    now = time.time_ns()
    trusted = {
        rel: status if now - status[1] > RACY_NS and now - status[2] > RACY_NS else [] for rel, status in files.items()
    }
    try:
        manifest = _status((project.target_dir / "manifest.json").stat())
        state = {
            "format": FORMAT,
            "key": key(project, target, cli_vars),
            "env": env,
            "files": trusted,
            "manifest": manifest,
            "summary": summary,
        }
        jsonio.write(_path(project), state, spare=True)
    except OSError:
        pass  # a read-only target folder only costs speed


def forget(project: ProjectConfig) -> None:
    try:
        _path(project).unlink()
    except OSError:
        pass
