"""What incremental parsing starts from: the last parse's Manifest and what each of its nodes read.

Stored in ``target/`` by modelkit itself (like dbt's ``partial_parse.msgpack``, these files are as trusted
as the project's own files):

- ``modelkit_parse_snapshot.pickle``: what a full parse built, in sections read one at a time (the file is
  memory-mapped): the Manifest without its nodes, the nodes in chunks of :data:`CHUNK` (unpickled only
  when a node of the chunk is read, see :class:`modelkit.core.lazynodes.LazyNodes`), each field of
  :data:`modelkit.core.lazynodes.FIELDS` (kind, parents, file, ... of every node), the property files as
  read, and the vars and environment variables read and where;
- ``modelkit_parse_overlay.pickle``: what incremental parses changed since: the nodes parsed again or
  removed, and the (small) tables they touch, so that an edit rewrites only them; once it holds more than
  :data:`OVERLAY_LIMIT` nodes, the whole snapshot is written again instead;
- ``modelkit_parse_files.pickle``: the status of every input file (JSON, whatever its name says), so that a
  parse that changes no node rewrites only it.

Each carries the snapshot's token and the overlay's serial number; files that do not match are not used.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import marshal
import mmap
import os
import pickle
import secrets
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelkit import __version__
from modelkit.core import fsio, jsonio
from modelkit.core.errors import ModelkitError
from modelkit.core.forked import Forked, run_forked
from modelkit.core.lazynodes import LazyNodes, field_maps
from modelkit.core.manifest import Manifest, Node
from modelkit.parse.schema_yaml import Patch, SchemaFiles

SNAPSHOT_FILE = "modelkit_parse_snapshot.pickle"
OVERLAY_FILE = "modelkit_parse_overlay.pickle"
FILES_FILE = "modelkit_parse_files.pickle"
FORMAT = 5  # 5: stored fields are their values in the nodes' order
OVERLAY_LIMIT = 2000
CHUNK = 64  # nodes per stored chunk: reading one node reads its chunk
MAGIC = b"modelkit parse snapshot\n"
_PICKLE = pickle.HIGHEST_PROTOCOL


class Layered:
    """A table by unique id: the stored one (read on first use) and the changes made since it was stored."""

    def __init__(self, load: Callable[[], dict[str, Any]], changes: dict[str, Any] | None = None) -> None:
        self._load = load
        self._all: dict[str, Any] | None = None
        self.changes: dict[str, Any] = dict(changes or {})  # unique id -> new value (None: removed)

    def set(self, uid: str, value: Any) -> None:
        self.changes[uid] = value
        if self._all is not None:
            if value is None:
                self._all.pop(uid, None)
            else:
                self._all[uid] = value

    def get(self, uid: str) -> Any:
        if uid in self.changes:
            return self.changes[uid]
        return self.all().get(uid)

    def all(self) -> dict[str, Any]:
        if self._all is None:
            found = dict(self._load())
            for uid, value in self.changes.items():
                if value is None:
                    found.pop(uid, None)
                else:
                    found[uid] = value
            self._all = found
        return self._all


@dataclass
class Snapshot:
    key: str
    cli_vars: dict[str, Any]
    outside_vars: set[str]  # vars read other than by a node's template (property files, hooks, tests...)
    outside_env: dict[str, str | None]  # likewise, environment variables, with the value read
    files: dict[str, list[Any]]  # path -> status (size, mtime, ctime, inode), plus a hash for racy files
    manifest: Manifest
    versions: dict[str, dict[str, Any]]  # package name -> file stem -> model version
    node_vars: Layered  # unique_id -> the vars its template read
    templated: Layered  # nodes and sources whose descriptions held Jinja before rendering -> True
    prefixes: dict[str, str]  # package name -> its folder relative to the root project ("" for the root)
    schemas_loader: Callable[[], dict[str, SchemaFiles]] = dict
    patches_loader: Callable[[], dict[str, Any]] | None = None
    recorded_at: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    serial: int = 0  # of the overlay (0: none)
    changed: set[str] = field(default_factory=set)  # nodes parsed again since the full parse
    removed: set[str] = field(default_factory=set)  # nodes removed since
    added: list[str] = field(default_factory=list)  # nodes not in the stored chunks, in their order
    _schemas: dict[str, SchemaFiles] | None = None
    _patches: dict[str, Any] | None = None

    @property
    def schemas(self) -> dict[str, SchemaFiles]:
        """Package name -> its property files, as read (read from the snapshot file on first use)."""
        if self._schemas is None:
            self._schemas = self.schemas_loader()
        return self._schemas

    def patch(self, package: str, key: str, name: str) -> Patch | None:
        """The YAML entry under ``key`` (e.g. ``models``) of package ``package`` describing node ``name``."""
        if self._schemas is None and self.patches_loader is not None:
            if self._patches is None:
                self._patches = self.patches_loader()
            blob = self._patches.get(package, {}).get(key, {}).get(name)
            return pickle.loads(blob) if blob is not None else None
        schema = self.schemas.get(package)
        return schema.patches[key].get(name) if schema is not None else None


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


# -- the snapshot file: sections ----------------------------------------------------------------
class Store:
    """The sections of a snapshot file, memory-mapped and decoded one at a time."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        start = len(MAGIC) + 8
        if self._map[: len(MAGIC)] != MAGIC:
            raise ValueError("not a snapshot file")
        size = int.from_bytes(self._map[len(MAGIC) : start], "little")
        self.toc: dict[str, tuple[int, int]] = marshal.loads(self._map[start : start + size])

    def raw(self, name: str) -> bytes | None:
        where = self.toc.get(name)
        if where is None:
            return None
        return self._map[where[0] : where[0] + where[1]]

    def marshalled(self, name: str) -> Any:
        raw = self.raw(name)
        return None if raw is None else marshal.loads(raw)

    def pickled(self, name: str) -> Any:
        raw = self.raw(name)
        if raw is None:
            return None
        enabled = gc.isenabled()
        gc.disable()  # many long-lived objects at once: collecting midway only costs time
        try:
            return pickle.loads(raw)
        finally:
            if enabled:
                gc.enable()


def _write_store(path: Path, sections: dict[str, bytes]) -> None:
    toc: dict[str, tuple[int, int]] = {}
    offset = 0
    for name, blob in sections.items():
        toc[name] = (offset, len(blob))
        offset += len(blob)
    # offsets are from the start of the file: the header's size depends on them, so fix it first
    head = marshal.dumps(toc)
    base = len(MAGIC) + 8 + len(head) + 64  # room for the offsets growing the table's encoding
    toc = {name: (start + base, size) for name, (start, size) in toc.items()}
    head = marshal.dumps(toc)
    pad = base - (len(MAGIC) + 8 + len(head))
    if pad < 0:
        raise ValueError("snapshot table of contents outgrew its room")
    chunks = [MAGIC, len(head).to_bytes(8, "little"), head, b"\0" * pad, *sections.values()]
    fsio.atomic_write(path, chunks)


def _sections(snap: Snapshot) -> dict[str, bytes]:
    manifest = snap.manifest
    nodes = manifest.nodes
    order = list(nodes)
    sections: dict[str, bytes] = {}
    meta = {
        "token": snap.token,
        "key": snap.key,
        "cli_vars": snap.cli_vars,
        "outside_vars": snap.outside_vars,
        "outside_env": snap.outside_env,
        "versions": snap.versions,
        "prefixes": snap.prefixes,
    }
    sections["meta"] = pickle.dumps(meta, protocol=_PICKLE)
    sections["shell"] = pickle.dumps(replace(manifest, nodes={}), protocol=_PICKLE)
    sections["order"] = marshal.dumps(order)
    position = {uid: i for i, uid in enumerate(order)}
    for name, values in field_maps(nodes).items():
        sections[f"field:{name}"] = _field_section(values, order, position)
    sections["vars"] = marshal.dumps(snap.node_vars.all())
    sections["templated"] = marshal.dumps(snap.templated.all())
    schemas = {k: replace(v, renderer=None) for k, v in snap.schemas.items()}
    sections["schemas"] = pickle.dumps(schemas, protocol=_PICKLE)
    patches = {
        package: {
            k: {name: pickle.dumps(p, protocol=_PICKLE) for name, p in entries.items()}
            for k, entries in s.patches.items()
        }
        for package, s in schemas.items()
    }
    sections["patches"] = marshal.dumps(patches)
    for number, start in enumerate(range(0, len(order), CHUNK)):
        chunk = [nodes[uid] for uid in order[start : start + CHUNK]]
        sections[f"chunk:{number}"] = pickle.dumps(chunk, protocol=_PICKLE)
    return sections


def _field_section(values: dict[str, Any], order: list[str], position: dict[str, int]) -> bytes:
    """A stored field: the positions in ``order`` of the nodes that have it (None: every node, in order)
    and their values, equal ones stored once. Read back (:func:`_field`), its keys are the order's own
    strings: far fewer objects to make than a dict's own keys."""
    same: dict[Any, Any] = {}

    def shared(value: Any) -> Any:
        try:
            return same.setdefault(value, value)
        except TypeError:  # (a list: stored as it is)
            return value

    listed = [shared(v) for v in values.values()]
    if len(values) == len(order) and list(values) == order:
        return marshal.dumps((None, listed))
    return marshal.dumps((array("i", [position[uid] for uid in values]).tobytes(), listed))


def _field(store: Store, name: str, order: list[str]) -> dict[str, Any] | None:
    stored = store.marshalled(f"field:{name}")
    if stored is None:
        return None
    positions, values = stored
    if positions is None:
        return dict(zip(order, values))
    index = array("i")
    index.frombytes(positions)
    return dict(zip(map(order.__getitem__, index), values))


def _nodes(store: Store, overlay: dict[str, Any] | None) -> LazyNodes:
    order: list[str] = store.marshalled("order")
    numbers = itertools.chain.from_iterable(itertools.repeat(n, CHUNK) for n in range(len(order) // CHUNK + 1))
    slots: dict[str, Any] = dict(zip(order, numbers))
    touched: set[str] = set()
    if overlay is not None:
        changed: dict[str, Node] = overlay["nodes"]
        for uid in overlay["removed"]:
            slots.pop(uid, None)
        for uid, node in changed.items():
            if uid in slots:
                slots[uid] = node
        for uid in overlay["added"]:
            slots[uid] = changed[uid]
        touched = set(changed) | set(overlay["removed"])

    def chunk(number: int) -> list[Node]:
        return store.pickled(f"chunk:{number}")  # type: ignore[no-any-return]

    return LazyNodes(slots, chunk, lambda name: _field(store, name, order), touched)


def load(target_dir: Path) -> Snapshot | None:
    try:
        files = jsonio.read(target_dir / FILES_FILE)
        store = Store(target_dir / SNAPSHOT_FILE)
        meta = store.pickled("meta")
        if not isinstance(files, dict) or not isinstance(meta, dict) or files.get("token") != meta["token"]:
            return None
        overlay = None
        if files.get("serial"):
            with open(target_dir / OVERLAY_FILE, "rb") as fh:
                overlay = pickle.load(fh)
            if (overlay.get("token"), overlay.get("serial")) != (meta["token"], files["serial"]):
                return None
        shell: Manifest = overlay["shell"] if overlay is not None else store.pickled("shell")
        manifest = replace(shell, nodes=_nodes(store, overlay))
        snap = Snapshot(
            key=meta["key"],
            cli_vars=overlay["cli_vars"] if overlay is not None else meta["cli_vars"],
            outside_vars=meta["outside_vars"],
            outside_env=meta["outside_env"],
            files=files["files"],
            manifest=manifest,
            versions=meta["versions"],
            node_vars=Layered(lambda: store.marshalled("vars"), overlay["vars"] if overlay else None),
            templated=Layered(lambda: store.marshalled("templated"), overlay["templated"] if overlay else None),
            prefixes=meta["prefixes"],
            schemas_loader=lambda: store.pickled("schemas"),
            patches_loader=lambda: store.marshalled("patches"),
            recorded_at=files["recorded_at"],
            token=meta["token"],
        )
        if overlay is not None:
            snap.serial = overlay["serial"]
            snap.changed, snap.removed = set(overlay["nodes"]), set(overlay["removed"])
            snap.added = list(overlay["added"])
    except Exception:  # noqa: BLE001 - missing, truncated or from another version: parse everything
        return None
    return snap


def save(
    target_dir: Path,
    snap: Snapshot,
    *,
    files_only: bool = False,
    changed: set[str] | None = None,
    removed: set[str] | None = None,
    background: bool = False,
) -> Forked | None:
    """Write the snapshot (each file atomically); an unwritable target folder only costs speed.

    With ``changed``/``removed`` (the nodes an incremental parse parsed again or removed), only the overlay
    is written, unless it has grown past :data:`OVERLAY_LIMIT` nodes.

    With ``background``, a whole snapshot is written by a forked process (see :mod:`modelkit.core.forked`)
    while this one goes on, and that process is returned: the caller waits for it before it exits. The
    files are the same; what this process keeps of the snapshot (its token, ...) is set before the fork.
    """
    snap.recorded_at = time.time_ns()
    if not files_only and (changed is not None or removed is not None):
        snap.changed.update(changed or ())
        snap.changed.difference_update(removed or ())
        snap.removed.update(removed or ())
        snap.removed.difference_update(changed or ())
    base = not files_only and (changed is None or len(snap.changed) + len(snap.removed) > OVERLAY_LIMIT)
    if base:
        snap.token = secrets.token_hex(8)
        snap.serial = 0
        snap.changed, snap.removed, snap.added = set(), set(), []
    elif not files_only:
        snap.serial += 1
    files = {"token": snap.token, "serial": snap.serial, "files": snap.files, "recorded_at": snap.recorded_at}

    def write() -> None:
        try:
            if base:
                _write_store(target_dir / SNAPSHOT_FILE, _sections(snap))
            elif not files_only:
                _save_overlay(target_dir, snap)
            fsio.atomic_write(target_dir / FILES_FILE, jsonio.dumps(files), spare=True)
        except (ModelkitError, OSError, pickle.PicklingError, TypeError, AttributeError, ValueError):
            forget(target_dir)

    forked = run_forked(write) if background and base else None
    if forked is None:
        write()
    if base:
        for table in (snap.node_vars, snap.templated):
            table.changes = {}
    return forked


def _save_overlay(target_dir: Path, snap: Snapshot) -> None:
    nodes = snap.manifest.nodes
    added = [uid for uid in snap.added if uid in nodes]
    overlay: dict[str, Any] = {
        "token": snap.token,
        "serial": snap.serial,
        "nodes": {uid: nodes[uid] for uid in snap.changed},
        "removed": sorted(snap.removed),
        "added": added,
        "shell": replace(snap.manifest, nodes={}),
        "cli_vars": snap.cli_vars,
        "vars": snap.node_vars.changes,
        "templated": snap.templated.changes,
    }
    fsio.atomic_write(target_dir / OVERLAY_FILE, pickle.dumps(overlay, protocol=_PICKLE), spare=True)


def forget(target_dir: Path) -> None:
    for name in (SNAPSHOT_FILE, OVERLAY_FILE, FILES_FILE):
        try:
            (target_dir / name).unlink()
        except OSError:
            pass
