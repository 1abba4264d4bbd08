"""``package-lock.yml``: every resolved package (transitive ones too) pinned, plus the hash of the
packages file it was resolved from, in the layout dbt writes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modelkit.core import yamlio
from modelkit.deps.base import DepsError, Origin
from modelkit.deps.spec import entry_lines

LOCK_FILE = "package-lock.yml"
HASH_KEY = "sha1_hash"
_KIND_KEYS = (("package", "hub"), ("git", "git"), ("local", "local"), ("tarball", "tarball"))


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as dbt writes its YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class LockEntry:
    kind: str  # hub | git | local | tarball
    name: str  # the folder it installs into
    data: dict[str, Any]  # as written in the lock file
    origin: Origin


@dataclass(frozen=True)
class LockFile:
    path: Path
    sha1_hash: str | None
    entries: list[LockEntry]

    @property
    def unnamed(self) -> bool:
        """Whether some entry has no ``name:`` (as dbt wrote lock files before 1.8)."""
        return any(not entry.name for entry in self.entries)


def read_lock(root: Path) -> LockFile | None:
    path = root / LOCK_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    data = yamlio.loads(text, LOCK_FILE)
    if data is None:
        return LockFile(path, None, [])
    if not isinstance(data, Mapping) or not isinstance(data.get("packages", []), list):
        raise DepsError(f"{LOCK_FILE} must be a mapping with a `packages:` list", path=LOCK_FILE, source=text)
    lines = entry_lines(text)
    entries = []
    for index, item in enumerate(data.get("packages") or []):
        origin = Origin(LOCK_FILE, lines[index] if index < len(lines) else None, text)
        if not isinstance(item, Mapping):
            raise origin.error(f"An entry of {LOCK_FILE} must be a mapping")
        kinds = [kind for key, kind in _KIND_KEYS if key in item]
        if len(kinds) != 1 or not isinstance(item.get("name", ""), str):
            raise origin.error(
                f"Invalid entry in {LOCK_FILE}: each needs one of `package:`, `git:`, `local:`, `tarball:` "
                "(and a `name:`); run `modelkit deps --upgrade` to write it again"
            )
        if kinds[0] == "hub" and not item.get("version"):
            raise origin.error(f"The hub package {item['package']} in {LOCK_FILE} has no `version:`")
        # older dbt versions wrote no `name:`; the package's own project file says it (see `unnamed`)
        entries.append(LockEntry(kinds[0], item.get("name", ""), dict(item), origin))
    sha = data.get(HASH_KEY)
    return LockFile(path, None if sha is None else str(sha), entries)


def write_lock(root: Path, packages: list[dict[str, Any]], sha1_hash: str) -> Path:
    path = root / LOCK_FILE
    write_text_atomic(path, dump_yaml({"packages": packages, HASH_KEY: sha1_hash}))
    return path
