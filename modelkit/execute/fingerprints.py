"""Skipping unchanged builds (``run``/``build --skip-unchanged``): what each built relation was built from.

Every ``run``, ``build`` and ``seed`` records, for each model and seed it builds, a *fingerprint* in
``target/modelkit_build_state.json`` (under a key naming the target's connection, so two databases never
share records):

- the fingerprint: a hash of the node's compiled SQL (a seed's: its file's checksum), its whole config
  (materialization, hooks, ...), its relation name, its contract's columns when it has one, and the
  fingerprints of its parents (through ephemeral models, to theirs);
- what its compiled SQL was made from (see :meth:`BuildState.sql_inputs`): its file, config and relation,
  its parents' relations, the target, the project's configuration, the macros that exist and the code of
  those its render called, the vars and environment variables it read. When all of that is as recorded,
  the next run takes the recorded SQL hash instead of rendering the model again: a model whose render
  read anything else (the database, ``graph``, the time, ``model``, ...) or inlined an ephemeral model
  is rendered every time;
- the relation's state as the engine's metadata shows it right after the build (e.g. a table's columns
  and estimated row count, a view's columns and SQL; see ``Adapter.relation_states``).

With ``--skip-unchanged`` (or ``flags: skip_unchanged: true``, or ``MODELKIT_SKIP_UNCHANGED=true``) a
view, table or seed is not built again (it reports ``NO-OP``, as dbt reports nodes it does not run) when
its fingerprint is the recorded one and its relation's state is the recorded one: a relation that is gone,
or was altered outside modelkit in a way the metadata shows, is built again. What a fingerprint cannot see:

- a source's data: a model reading a source is built again on every run, unless the source has a
  ``loaded_at_field`` (its own or from ``freshness``): then the latest ``max(loaded_at_field)`` is part
  of the fingerprint, and the model is skipped while no row newer than at its last build exists;
- incremental models and snapshots take in new data whenever they run: they always run, and whatever
  reads them is built again after them; ``--skip-unchanged=strict`` treats them as the others (their
  fingerprint then ignores new data);
- a relation replaced outside modelkit by one with the same columns and row count (or the same view SQL).

Skipped nodes run no hooks.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelkit import __version__
from modelkit.adapters.base import Adapter, Capability
from modelkit.core import jsonio
from modelkit.core.lazynodes import field_map
from modelkit.core.manifest import Manifest, Node, SourceDefinition
from modelkit.core.text import sql_hash  # noqa: F401 - what the fingerprint keeps of a compiled SQL
from modelkit.render.inputs import MadeFrom, RenderInputs

if TYPE_CHECKING:
    from modelkit.render.context import Renderer

STATE_FILE = "modelkit_build_state.json"
FORMAT = 2  # 2: fingerprints over the compiled SQL's hash; what the SQL was made from
SKIPPABLE = ("view", "table", "seed")
MODES = ("true", "strict")


class BuildState:
    """The recorded builds of one target, and this run's fingerprints."""

    def __init__(self, target_dir: Path, target_key: str, manifest: Manifest, mode: str | None) -> None:
        self.path = target_dir / STATE_FILE
        self.target_key = target_key
        self.manifest = manifest
        self.mode = mode if mode in MODES else None  # None: record only
        self._lock = threading.Lock()
        self.current: dict[str, str] = {}  # unique_id -> fingerprint in this run
        self.built: dict[str, dict[str, Any]] = {}  # unique_id -> its new record
        self.relation_states: dict[tuple[str, str, str], str] = {}
        self._freshness: dict[str, str] = {}
        self._made: MadeFrom | None = None
        self._any_built = False  # whether a node was built (not skipped) in this run
        try:
            data = jsonio.read(self.path)
        except (OSError, ValueError):
            data = {}
        usable = isinstance(data, dict) and data.get("modelkit") == __version__ and data.get("format") == FORMAT
        self.all = data if usable else {}
        self.records: dict[str, dict[str, Any]] = dict(self.all.get("targets", {}).get(target_key, {}))

    # -- before the run ------------------------------------------------------
    def load_relation_states(self, adapter: Adapter, nodes: Iterable[Node]) -> None:
        """What the selected nodes' relations look like now, in one query (when the engine can tell)."""
        if self.mode is None or Capability.RELATION_STATE not in adapter.capabilities:
            return
        schemas = sorted({(n.database, n.schema) for n in nodes if n.schema is not None}, key=str)
        self.relation_states = adapter.relation_states(schemas)  # type: ignore[arg-type]

    # -- what a model's SQL is made from ----------------------------------------
    def sql_inputs(self, node: Node, renderer: Renderer, inputs: RenderInputs) -> str | None:
        """A hash of what ``node``'s compiled SQL was made from, when its render read only that (``inputs``:
        what the render read beyond the node); None when its SQL may differ from one render to the next."""
        made = self._made
        if made is None or made.renderer is not renderer:
            made = self._made = MadeFrom(self.manifest, renderer)
        return made.key(node, inputs)

    def reusable_sql(self, node: Node, renderer: Renderer, answers: dict[str, str | None] | None = None) -> str | None:
        """The recorded hash of ``node``'s compiled SQL, when it was made from what it would be made from now.

        ``answers`` keeps the answer by unique_id, for whoever asks again in the same invocation (the
        static analysis asks before the run does)."""
        if self.mode is None:
            return None
        if answers is not None:
            if node.unique_id not in answers:
                answers[node.unique_id] = self.reusable_sql(node, renderer)
            return answers[node.unique_id]
        record = self.records.get(node.unique_id)
        if record is None or not record.get("inputs") or not record.get("sql"):
            return None
        read = record.get("read") or {}
        inputs = RenderInputs.recorded(read)
        if self.sql_inputs(node, renderer, inputs) != record["inputs"]:
            return None
        return str(record["sql"])

    # -- each node -------------------------------------------------------------
    def fingerprint(self, node: Node, sql: str, adapter: Adapter) -> str:
        """The node's fingerprint, from its compiled SQL's hash (:func:`sql_hash`; a seed: ignored)."""
        parents = [self._parent(uid, adapter) for uid in node.depends_on_nodes]
        payload = {
            "sql": sql if node.resource_type != "seed" else node.checksum,
            "config": node.config,
            "relation": node.relation_name,
            "contract": {c.name: c.data_type for c in node.columns.values()} if _enforced(node) else None,
            "parents": parents,
        }
        value = hashlib.sha256(jsonio.dumps(payload)).hexdigest()
        if not self._skippable(node, strict=self.mode == "strict"):
            value = f"{value}@{time.time_ns()}"  # it took in new data: its children see a new fingerprint
        with self._lock:
            self.current[node.unique_id] = value
        return value

    def _parent(self, uid: str, adapter: Adapter) -> str:
        manifest = self.manifest
        with self._lock:
            known = self.current.get(uid)
        if known is not None:
            return known
        if uid in manifest.sources:
            return self._source(manifest.sources[uid], adapter)
        node = manifest.nodes.get(uid)
        if node is not None and node.is_ephemeral:
            return "ephemeral:" + ",".join(self._parent(p, adapter) for p in node.depends_on_nodes)
        record = self.records.get(uid)
        if record is not None:
            return str(record["fingerprint"])  # not in this run: as it was last built
        return f"unbuilt:{uid}@{time.time_ns()}"

    def _source(self, source: SourceDefinition, adapter: Adapter) -> str:
        """A source's latest ``loaded_at_field`` value; a new value each run when it has none."""
        with self._lock:
            known = self._freshness.get(source.unique_id)
        if known is not None:
            return known
        field = source.loaded_at_field or (source.freshness or {}).get("loaded_at_field")
        value = f"source:{source.unique_id}@{time.time_ns()}"
        if field:
            try:
                latest, _ = adapter.max_loaded_at(source.relation, field, (source.freshness or {}).get("filter"))
                if latest is not None:
                    value = f"source:{source.unique_id}:{latest}"
            except Exception:  # noqa: BLE001 - unreadable: built again, as without the field
                pass
        with self._lock:
            self._freshness[source.unique_id] = value
        return value

    @staticmethod
    def _skippable(node: Node, strict: bool) -> bool:
        if node.is_ephemeral:
            return False
        if node.materialized in SKIPPABLE:
            return True
        return strict and (node.materialized == "incremental" or node.resource_type == "snapshot")

    def unchanged(self, node: Node, fingerprint: str) -> bool:
        """Whether ``node`` may be skipped: same fingerprint, and its relation as it was left."""
        if self.mode is None or not self._skippable(node, strict=self.mode == "strict"):
            return False
        record = self.records.get(node.unique_id)
        if record is None or record.get("fingerprint") != fingerprint or record.get("state") is None:
            return False
        key = _key(node)
        return key is not None and self.relation_states.get(key) == record["state"]

    def skipped(self, node: Node, made_from: dict[str, Any] | None = None) -> None:
        """``node`` was not built again; ``made_from`` (of :meth:`made_from`), when it was compiled anew."""
        with self._lock:
            entry = dict(self.records[node.unique_id])
            if made_from is not None:
                entry.update(made_from)
            self.built[node.unique_id] = entry

    def record(self, node: Node, fingerprint: str, made_from: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._any_built = True
            self.built[node.unique_id] = {
                "fingerprint": fingerprint,
                "relation": node.relation_name,
                **(made_from or {}),
            }

    def made_from(self, node: Node, sql: str, renderer: Renderer, inputs: RenderInputs | None) -> dict[str, Any]:
        """What to record of a model just compiled: its SQL's hash, and what that SQL was made from."""
        key = self.sql_inputs(node, renderer, inputs) if inputs is not None else None
        if key is None:
            return {"sql": sql, "inputs": None}
        return {"sql": sql, "inputs": key, "read": inputs.read()}  # type: ignore[union-attr]

    # -- after the run -------------------------------------------------------
    def save(self, adapter: Adapter | None) -> None:
        """Record what was built, with its relation's state now (one query); an unwritable file only costs speed."""
        if not self.built:
            return
        nodes = [self.manifest.nodes[uid] for uid in self.built if uid in self.manifest.nodes]
        states: dict[tuple[str, str, str], str] = {}
        hooks = "operation" in field_map(self.manifest.nodes, "kind").values()
        if not self._any_built and self.relation_states and not hooks:
            states = self.relation_states  # nothing ran: every relation is as it was before the run
        elif adapter is not None and Capability.RELATION_STATE in adapter.capabilities:
            schemas = sorted({(n.database, n.schema) for n in nodes if n.schema is not None}, key=str)
            try:
                states = adapter.relation_states(schemas)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 - recorded without a state: never skipped
                states = {}
        for node in nodes:
            key = _key(node)
            entry = self.built[node.unique_id]
            entry["state"] = states.get(key) if key is not None else None
            self.records[node.unique_id] = entry
        targets = dict(self.all.get("targets", {}))
        targets[self.target_key] = self.records
        try:
            jsonio.write(self.path, {"modelkit": __version__, "format": FORMAT, "targets": targets}, spare=True)
        except OSError:
            pass


def _enforced(node: Node) -> bool:
    return bool((node.config.get("contract") or {}).get("enforced"))


def _key(node: Node) -> tuple[str, str, str] | None:
    if node.schema is None:
        return None
    database = node.database or ""
    return (database.lower(), node.schema.lower(), (node.alias or node.name).lower())


def target_key(target: Any) -> str:
    """The connection a target names (engine, database file or host and database), as a short key."""
    creds = {k: v for k, v in (target.credentials or {}).items() if k in ("path", "host", "port", "dbname", "database")}
    text = jsonio.dumps({"type": target.type, "database": target.database, "credentials": creds})
    return hashlib.sha256(text).hexdigest()[:16]
