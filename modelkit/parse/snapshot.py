"""What incremental parsing starts from: the last parse's Manifest and what each of its nodes read.

Stored in ``target/`` as two pickle files written by modelkit itself (like dbt's ``partial_parse.msgpack``,
they are as trusted as the project's own files): ``modelkit_parse_snapshot.pickle`` holds the Manifest, the
property files as read, the vars and environment variables read and where; the small
``modelkit_parse_files.pickle`` holds the status of every input file, so that a parse that changes no
node rewrites only it. Both carry the same token; a pair that does not match is not used.
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
FILES_FILE = "modelkit_parse_files.pickle"
FORMAT = 1


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
    except Exception:  # noqa: BLE001 - missing, truncated or from another version: parse everything
        return None
    if not isinstance(snap, Snapshot) or not isinstance(files, dict) or files.get("token") != snap.token:
        return None
    snap.files = files["files"]
    snap.recorded_at = files["recorded_at"]
    return snap


def save(target_dir: Path, snap: Snapshot, *, files_only: bool = False) -> None:
    """Write the snapshot (atomically, each file); an unwritable target folder only costs speed."""
    snap.recorded_at = time.time_ns()
    try:
        if not files_only:
            snap.token = secrets.token_hex(8)
            stored = replace(snap, files={}, schemas={k: replace(v, renderer=None) for k, v in snap.schemas.items()})
            fsio.atomic_write(target_dir / SNAPSHOT_FILE, pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL))
        files = {"token": snap.token, "files": snap.files, "recorded_at": snap.recorded_at}
        fsio.atomic_write(target_dir / FILES_FILE, pickle.dumps(files, protocol=pickle.HIGHEST_PROTOCOL))
    except (ModelkitError, OSError, pickle.PicklingError, TypeError, AttributeError):
        forget(target_dir)


def forget(target_dir: Path) -> None:
    for name in (SNAPSHOT_FILE, FILES_FILE):
        try:
            (target_dir / name).unlink()
        except OSError:
            pass
