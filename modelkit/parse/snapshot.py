"""What incremental parsing starts from: the last parse's Manifest and what each of its nodes read.

Stored in ``target/`` as pickle files written by modelkit itself (like dbt's ``partial_parse.msgpack``,
they are as trusted as the project's own files):

- ``modelkit_parse_snapshot.pickle``: what a full parse built: the Manifest, the property files as read,
  the vars and environment variables read and where;
- ``modelkit_parse_overlay.pickle``: what incremental parses changed since: the nodes parsed again or
  removed, and the (small) tables they touch, so that an edit rewrites only them; once it holds more than
  :data:`OVERLAY_LIMIT` nodes, the whole snapshot is written again instead;
- ``modelkit_parse_files.pickle``: the status of every input file, so that a parse that changes no node
  rewrites only it.

Each carries the snapshot's token and the overlay's serial number; files that do not match are not used.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelkit import __version__
from modelkit.core import fsio, jsonio
from modelkit.core.errors import ModelkitError
from modelkit.core.manifest import Manifest
from modelkit.parse.schema_yaml import SchemaFiles

SNAPSHOT_FILE = "modelkit_parse_snapshot.pickle"
OVERLAY_FILE = "modelkit_parse_overlay.pickle"
FILES_FILE = "modelkit_parse_files.pickle"
FORMAT = 1
OVERLAY_LIMIT = 2000


@dataclass
class Snapshot:
    key: str
    cli_vars: dict[str, Any]
    outside_vars: set[str]  # vars read other than by a node's template (property files, hooks, tests...)
    outside_env: dict[str, str | None]  # likewise, environment variables, with the value read
    files: dict[str, list[Any]]  # path -> status (size, mtime, ctime, inode), plus a hash for racy files
    manifest: Manifest
    schemas: dict[str, SchemaFiles]  # package name -> its property files, as read
    versions: dict[str, dict[str, Any]]  # package name -> file stem -> model version
    node_vars: dict[str, list[str]]  # unique_id -> the vars its template read
    templated: set[str]  # nodes and sources whose descriptions held Jinja before rendering
    prefixes: dict[str, str]  # package name -> its folder relative to the root project ("" for the root)
    recorded_at: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    serial: int = 0  # of the overlay (0: none)
    changed: set[str] = field(default_factory=set)  # nodes parsed again since the full parse
    removed: set[str] = field(default_factory=set)  # nodes removed since


def key(project: Any, target: Any) -> str:
    """Everything that, changed, makes the snapshot unusable: modelkit, the project's rendered
    configuration and folder, the target, the ``DBT_ENV_CUSTOM_ENV_*`` variables."""
    config = {k: v for k, v in vars(project).items() if k not in ("root", "cli_vars")}  # --vars: compared apart
    custom = {k: v for k, v in os.environ.items() if k.startswith("DBT_ENV_CUSTOM_ENV_")}
    payload = {
        "format": FORMAT,
        "modelkit": __version__,
        "root": str(project.root.resolve()),
        "project": config,
        "target": target.to_context() | {"credentials": target.credentials},
        "custom_env": custom,
    }
    return hashlib.sha256(jsonio.dumps(payload)).hexdigest()


def load(target_dir: Path) -> Snapshot | None:
    try:
        with open(target_dir / FILES_FILE, "rb") as fh:
            files = pickle.load(fh)
        with open(target_dir / SNAPSHOT_FILE, "rb") as fh:
            snap = pickle.load(fh)
        if not isinstance(snap, Snapshot) or not isinstance(files, dict) or files.get("token") != snap.token:
            return None
        if files.get("serial"):
            with open(target_dir / OVERLAY_FILE, "rb") as fh:
                overlay = pickle.load(fh)
            if (overlay.get("token"), overlay.get("serial")) != (snap.token, files["serial"]):
                return None
            _apply(snap, overlay)
    except Exception:  # noqa: BLE001 - missing, truncated or from another version: parse everything
        return None
    snap.files = files["files"]
    snap.recorded_at = files["recorded_at"]
    return snap


_OVERLAY_TABLES = ("cli_vars", "node_vars", "templated")
_MANIFEST_TABLES = ("files", "macros", "docs")


def _apply(snap: Snapshot, overlay: dict[str, Any]) -> None:
    nodes = snap.manifest.nodes
    for uid in overlay["removed"]:
        nodes.pop(uid, None)
    nodes.update(overlay["nodes"])
    for name in _OVERLAY_TABLES:
        setattr(snap, name, overlay[name])
    for name in _MANIFEST_TABLES:
        setattr(snap.manifest, name, overlay[name])
    snap.serial = overlay["serial"]
    snap.changed, snap.removed = set(overlay["nodes"]), set(overlay["removed"])


def save(
    target_dir: Path,
    snap: Snapshot,
    *,
    files_only: bool = False,
    changed: set[str] | None = None,
    removed: set[str] | None = None,
) -> None:
    """Write the snapshot (each file atomically); an unwritable target folder only costs speed.

    With ``changed``/``removed`` (the nodes an incremental parse parsed again or removed), only the overlay
    is written, unless it has grown past :data:`OVERLAY_LIMIT` nodes.
    """
    snap.recorded_at = time.time_ns()
    try:
        if not files_only:
            if changed is not None or removed is not None:
                snap.changed.update(changed or ())
                snap.changed.difference_update(removed or ())
                snap.removed.update(removed or ())
                snap.removed.difference_update(changed or ())
            if changed is None or len(snap.changed) + len(snap.removed) > OVERLAY_LIMIT:
                _save_base(target_dir, snap)
            else:
                _save_overlay(target_dir, snap)
        files = {"token": snap.token, "serial": snap.serial, "files": snap.files, "recorded_at": snap.recorded_at}
        fsio.atomic_write(target_dir / FILES_FILE, pickle.dumps(files, protocol=pickle.HIGHEST_PROTOCOL))
    except (ModelkitError, OSError, pickle.PicklingError, TypeError, AttributeError):
        forget(target_dir)


def _save_base(target_dir: Path, snap: Snapshot) -> None:
    snap.token = secrets.token_hex(8)
    snap.serial = 0
    snap.changed, snap.removed = set(), set()
    schemas = {k: replace(v, renderer=None) for k, v in snap.schemas.items()}
    stored = replace(snap, files={}, schemas=schemas)
    fsio.atomic_write(target_dir / SNAPSHOT_FILE, pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL))


def _save_overlay(target_dir: Path, snap: Snapshot) -> None:
    snap.serial += 1
    nodes = snap.manifest.nodes
    overlay: dict[str, Any] = {
        "token": snap.token,
        "serial": snap.serial,
        "nodes": {uid: nodes[uid] for uid in snap.changed},
        "removed": set(snap.removed),
    }
    for name in _OVERLAY_TABLES:
        overlay[name] = getattr(snap, name)
    for name in _MANIFEST_TABLES:
        overlay[name] = getattr(snap.manifest, name)
    fsio.atomic_write(target_dir / OVERLAY_FILE, pickle.dumps(overlay, protocol=pickle.HIGHEST_PROTOCOL))


def forget(target_dir: Path) -> None:
    for name in (SNAPSHOT_FILE, OVERLAY_FILE, FILES_FILE):
        try:
            (target_dir / name).unlink()
        except OSError:
            pass
