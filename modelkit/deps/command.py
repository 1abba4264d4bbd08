"""The ``deps`` command: add a package if asked, resolve into ``package-lock.yml`` when the packages
file changed (or with ``upgrade``), then install what the lock file pins."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modelkit.deps.addpackage import add_package as add_package_entry
from modelkit.deps.base import DepsError, Renderer, scrub_secrets
from modelkit.deps.hub import Hub
from modelkit.deps.install import install, plan
from modelkit.deps.lockfile import LOCK_FILE, LockEntry, LockFile, read_lock, write_lock
from modelkit.deps.resolver import Resolver
from modelkit.deps.sources import Workspace
from modelkit.deps.spec import parse_entries, read_spec_file, spec_hash
from modelkit.project.project import load_project


@dataclass(frozen=True)
class DepsResult:
    lock_path: Path | None  # None when there is no package
    resolved: bool  # whether the packages were resolved and the lock file written
    packages: tuple[str, ...]  # the names of the locked packages
    installed: tuple[str, ...]  # the packages (re)installed by this run


def _install_dir(root: Path, setting: str) -> Path:
    path = Path(os.path.normpath(root / setting))
    if path == root or path in root.parents:
        raise DepsError(f"packages-install-path must be a folder of its own, not {setting!r}", path="dbt_project.yml")
    return path


def _scrubbing(log: Callable[[str], None]) -> Callable[[str], None]:
    """``log`` with the values of ``DBT_ENV_SECRET_*`` variables masked (they may be in URLs)."""

    def scrubbed(message: str) -> None:
        log(scrub_secrets(message))

    return scrubbed


def _name_entries(lock: LockFile, resolver: Resolver, renderer: Renderer) -> LockFile:
    """The lock file's entries, each named after its package's project file (the file is left as it is)."""
    data = {"packages": [entry.data for entry in lock.entries]}
    specs = parse_entries(data, resolver.root, renderer, path=LOCK_FILE, text=lock.path.read_text(encoding="utf-8"))
    named = [LockEntry(p.kind, p.name, p.lock, p.origin) for p in resolver.resolve(specs)]
    return replace(lock, entries=named)


def run_deps(
    project_dir: Path | str,
    *,
    cli_vars: Mapping[str, Any] | None = None,
    upgrade: bool = False,
    add_package: str | None = None,
    source: str = "hub",
    lock_only: bool = False,
    log: Callable[[str], None] = print,
) -> DepsResult:
    """Install the project's packages into its ``packages-install-path`` (dbt's ``deps``).

    ``add_package`` (``NAME@VERSION``, from ``source`` hub, git or local) is first added to the packages
    file; ``upgrade`` resolves again even when the lock file matches; ``lock_only`` writes the lock
    file without installing. Progress lines go to ``log``.
    """
    log = _scrubbing(log)
    project = load_project(project_dir, cli_vars)
    root = project.root
    install_dir = _install_dir(root, project.packages_install_path)
    renderer = Renderer(cli_vars)
    if add_package:
        add_package_entry(root, add_package, source, log)
    spec = read_spec_file(root, renderer)
    with Workspace(install_dir.parent, Hub()) as workspace:
        if not spec.entries:
            log(f"Warning: No packages were found in {spec.display}")
            if not lock_only:
                install(root, install_dir, [], workspace, renderer, log)
            return DepsResult(None, False, (), ())
        sha = spec_hash(spec.entries)
        lock = read_lock(root)
        latest: dict[str, str] = {}
        resolved = lock is None or upgrade or lock.sha1_hash != sha
        if resolved:
            packages = Resolver(root, project.name, renderer, workspace, log).resolve(spec.entries)
            path = write_lock(root, [p.lock for p in packages], sha)
            log(f"Updating lock file in file path: {path}")
            latest = {p.name: p.latest for p in packages if p.latest}
            lock = read_lock(root)
        assert lock is not None
        if lock.unnamed:
            lock = _name_entries(lock, Resolver(root, project.name, renderer, workspace, log), renderer)
        names = tuple(entry.name for entry in lock.entries)
        if lock_only:
            return DepsResult(lock.path, resolved, names, ())
        items = plan(lock.entries, root, renderer, spec.entries)
        installed = install(root, install_dir, items, workspace, renderer, log, latest)
        updates = [
            i.display for i in items if i.kind == "hub" and latest.get(i.name, i.entry["version"]) != i.entry["version"]
        ]
        if updates:
            log("")
            log(
                f"Updates available for packages: {updates} \nUpdate your versions in packages.yml, then run modelkit deps"
            )
        return DepsResult(lock.path, resolved, names, tuple(installed))
