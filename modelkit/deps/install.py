"""Installing the packages of a lock file under ``packages-install-path``, all or nothing.

Every package that is not already in place is first staged in the run's workspace (a folder next to
the install folder); only when all of them are staged are they renamed into place, and the previous
folders (and those of packages no longer locked) are moved aside and deleted afterwards. A failure
before that leaves the previous installation as it was. ``.modelkit-deps.json`` in the install folder
records what each folder was installed from, so a later run skips packages already in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelkit.deps.base import DepsError, Origin, Renderer, scrub_secrets
from modelkit.deps.lockfile import LockEntry, write_text_atomic
from modelkit.deps.resolver import check_dbt_version
from modelkit.deps.sources import Workspace, copy_package, link_or_copy
from modelkit.deps.spec import PackageSpec, git_key, read_package

STATE_FILE = ".modelkit-deps.json"


@dataclass(frozen=True)
class InstallItem:
    """One lock entry, rendered, with what is needed to install it."""

    kind: str
    name: str
    display: str  # as dbt names it in "Installing ..."
    entry: dict[str, Any]  # the rendered lock entry
    origin: Origin

    @property
    def fingerprint(self) -> str:
        return hashlib.sha1(json.dumps(self.entry, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def version_name(self) -> str:
        e = self.entry
        if self.kind == "hub":
            return f"version {e['version']}"
        if self.kind == "git":
            return "HEAD (default revision)" if e["revision"] == "HEAD" else f"revision {e['revision']}"
        if self.kind == "local":
            return f"<local @ {e['local']}>"
        return f"tarball (url: {scrub_secrets(str(e['tarball']))})"


def plan(
    entries: Sequence[LockEntry], root: Path, renderer: Renderer, specs: Sequence[PackageSpec]
) -> list[InstallItem]:
    """Install items for the lock entries; errors point at the packages file entry when there is one."""
    by_key = {spec.key: spec.origin for spec in specs}
    items = []
    for lock in entries:
        entry = renderer.render(lock.data, lock.origin)
        if lock.kind == "hub":
            key, display = "hub:" + str(entry["package"]), str(entry["package"])
        elif lock.kind == "git":
            subdirectory = entry.get("subdirectory")
            key = git_key(str(entry["git"]), subdirectory)
            display = f"{entry['git']}/{subdirectory}" if subdirectory else str(entry["git"])
            if not entry.get("revision"):
                raise lock.origin.error(f"The git package {display} in the lock file has no `revision:`")
        elif lock.kind == "local":
            key, display = "local:" + str((root / str(entry["local"])).resolve()), str(entry["local"])
        else:
            key, display = "tarball:" + str(entry["tarball"]), lock.name
        items.append(InstallItem(lock.kind, lock.name, scrub_secrets(display), entry, by_key.get(key, lock.origin)))
    return items


def read_state(install_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((install_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _in_place(item: InstallItem, install_dir: Path, root: Path, state: Mapping[str, str]) -> bool:
    dest = install_dir / item.name
    if state.get(item.name) != item.fingerprint:
        return False
    if item.kind == "local":  # a symlink follows its source; a copy may be stale
        return dest.is_symlink() and dest.resolve() == (root / str(item.entry["local"])).resolve()
    return dest.is_dir() and not dest.is_symlink()


def _stage(item: InstallItem, root: Path, workspace: Workspace, dest: Path) -> Path:
    """Put the package's files at ``dest`` (in the workspace); returns the folder to check."""
    e = item.entry
    if item.kind == "local":
        source = (root / str(e["local"])).resolve()
        if not source.is_dir():
            raise item.origin.error(f"Local package {e['local']} not found (looked in {source})")
        link_or_copy(source, dest)
        return source
    if item.kind == "git":
        folder, _ = workspace.git(str(e["git"]), str(e["revision"]), item.origin)
        content = folder / str(e["subdirectory"]) if e.get("subdirectory") else folder
        if not content.is_dir():
            raise item.origin.error(f"Subdirectory '{e['subdirectory']}' not found in {e['git']}")
    elif item.kind == "tarball":
        content = workspace.tarball(str(e["tarball"]), item.name, item.origin)
    else:
        package, version = str(e["package"]), str(e["version"])
        versions = workspace.hub.versions(package, item.origin)
        if version not in versions:
            raise item.origin.error(
                f"Version {version} of package {package} is not in the package index; "
                "run `modelkit deps --upgrade` to resolve the packages again"
            )
        url = str(versions[version]["downloads"]["tarball"])
        content = workspace.tarball(url, item.name, item.origin)
    copy_package(content, dest)
    return dest


def installed_names(install_dir: Path) -> list[str]:
    if not install_dir.is_dir():
        return []
    return sorted(p.name for p in install_dir.iterdir() if not p.name.startswith("."))


def install(
    root: Path,
    install_dir: Path,
    items: Sequence[InstallItem],
    workspace: Workspace,
    renderer: Renderer,
    log: Callable[[str], None],
    latest: Mapping[str, str] | None = None,
) -> list[str]:
    """Install ``items`` (skipping those in place) and remove other packages; returns the names installed."""
    state = read_state(install_dir)
    staged: dict[str, Path] = {}
    for item in items:
        log(f"Installing {item.display}")
        if _in_place(item, install_dir, root, state):
            log(f"Installed from {item.version_name} (already installed)")
        else:
            dest = workspace.new_dir(item.name)
            checked = _stage(item, root, workspace, dest)
            info = read_package(checked, root, renderer, item.origin, item.display)
            check_dbt_version(info.name, info.require_dbt_version, item.origin)
            staged[item.name] = dest
            log(f"Installed from {item.version_name}")
        known = (latest or {}).get(item.name)
        if item.kind == "hub" and known:
            version = str(item.entry["version"])
            log("Up to date!" if known == version else f"Updated version available: {known}")
        if item.kind == "git" and item.entry.get("subdirectory"):
            log(f"and subdirectory {item.entry['subdirectory']}")
    keep = {item.name for item in items}
    stale = [name for name in installed_names(install_dir) if name not in keep]
    if staged or stale:
        swap(install_dir, staged, stale, workspace)
    new_state = {item.name: item.fingerprint for item in items}
    if new_state != state and (items or install_dir.is_dir()):
        install_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(install_dir / STATE_FILE, json.dumps(new_state, indent=2, sort_keys=True) + "\n")
    return sorted(staged)


def _exists(path: Path) -> bool:
    return path.is_symlink() or path.exists()


def swap(install_dir: Path, staged: Mapping[str, Path], remove: Sequence[str], workspace: Workspace) -> None:
    """Rename the staged folders into place and move replaced or ``remove``d ones aside, or undo it all."""
    install_dir.mkdir(parents=True, exist_ok=True)
    aside = workspace.new_dir("previous")
    aside.mkdir()
    done: list[tuple[str, bool]] = []  # (name, whether an older one was moved aside)
    try:
        for name in remove:
            os.rename(install_dir / name, aside / name)
            done.append((name, True))
        for name, folder in staged.items():
            dest = install_dir / name
            moved = _exists(dest)
            if moved:
                os.rename(dest, aside / name)
            done.append((name, moved))
            os.rename(folder, dest)
    except OSError as exc:
        for name, moved in reversed(done):
            dest = install_dir / name
            if name in staged and _exists(dest):
                if dest.is_symlink() or not dest.is_dir():
                    dest.unlink()
                else:
                    shutil.rmtree(dest)
            if moved:
                os.rename(aside / name, dest)
        raise DepsError(f"Could not move the packages into {install_dir}: {exc}") from None
