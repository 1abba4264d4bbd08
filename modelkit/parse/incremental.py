"""Incremental parsing: after an edit, parse only what the edit can change and reuse the rest.

A full parse leaves ``target/modelkit_parse_snapshot.pickle`` (see :mod:`modelkit.parse.snapshot`): the
Manifest it built, the property files as read, and what each node's parse read beyond its own file (the
macros it called, the vars and environment variables it read, whether its descriptions used ``doc()``).
The next parse compares the project's files with the snapshot's and re-parses only the nodes an edit can
reach; whenever an edit can reach further than this module follows, it answers None and the parse is a
full one (which records a new snapshot). The rules, edit by edit:

================================  ============================================================================
edit                              what is parsed again
================================  ============================================================================
a model, analysis or seed file    that node (its YAML patch, as read before, applied again), its edges; a
                                  change of ``enabled``, ``access`` or ``group`` parses everything
a macro file                      the macro entries, and the models and analyses whose parse called a macro
                                  that is, or calls, one that changed; a macro added or removed, a
                                  ``generate_*_name`` / test / materialization macro, or one that a test,
                                  snapshot, hook, property file or docs file uses parses everything
a docs (``.md``) file             the docs blocks, and every model, analysis and seed whose description
                                  used Jinja
a file added, deleted, renamed    a model, analysis or seed file that no YAML entry names, no node refers to
                                  and whose name no other package uses: that node alone; anything else
                                  parses everything
``--vars``                        the nodes whose template read a var that changed; a var read anywhere else
                                  (property files, hooks, tests, ``dbt_project.yml``) parses everything
an environment variable           the nodes whose template read it; one read elsewhere parses everything
property (YAML) files,            everything (their entries feed tests, sources, exposures and patches)
``dbt_project.yml``, the target,
snapshots, singular tests,
packages installed or removed
================================  ============================================================================

A file whose status (size, times, inode) is unchanged is trusted, as in :mod:`modelkit.parse.state`; one
written within the clock granularity of the snapshot (racy) is compared by content hash instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

from modelkit.core.errors import ModelkitError
from modelkit.core.lazynodes import FILE_KINDS, field_map
from modelkit.core.manifest import AnalysisNode, Manifest, ModelNode, Node
from modelkit.graph.graph import link
from modelkit.graph.resolve import Resolver
from modelkit.parse import snapshot as snapshots
from modelkit.parse.contracts import check_contracts
from modelkit.parse.descriptions import render_descriptions
from modelkit.parse.files import load_docs, load_macros
from modelkit.parse.packages import Package, check_relations, find_packages, ref_searches_package_first
from modelkit.parse.resources import check_groups
from modelkit.parse.schema_yaml import PATCH_KEYS, SchemaFiles
from modelkit.parse.snapshot import Layered, Snapshot
from modelkit.parse.state import RACY_NS, scan

REBUILT = FILE_KINDS  # the kinds of node re-parsed alone
FULL_PARSE_MACROS = ("generate_", "test_", "materialization_")


class FullParse(Exception):
    """An edit this module does not follow: parse everything."""


def _where() -> str:
    """Which rule sent the parse down the full path (function and line, for tests and profiling)."""
    frame = sys._getframe(1)
    return f"{frame.f_code.co_name}:{frame.f_lineno}"


def templated_descriptions(manifest: Manifest) -> set[str]:
    """The nodes and sources whose descriptions (their own or a column's) hold Jinja, before rendering."""
    found: set[str] = set()
    for item in [*manifest.nodes.values(), *manifest.sources.values()]:
        texts = [item.description, getattr(item, "source_description", "") or ""]
        texts += [c.description for c in item.columns.values()]
        if any("{{" in t or "{%" in t for t in texts):
            found.add(item.unique_id)
    return found


def record(parser: Any) -> None:
    """After a full parse: store the snapshot the next parse starts from."""
    renderer = parser.renderer
    outside_env = dict(renderer.env_reads)
    renderer.env_reads.update(parser.inside_env)  # the parse read them all (see modelkit.parse.state)
    node_vars = parser.node_vars
    templated = dict.fromkeys(parser.templated, True)
    snap = Snapshot(
        key=snapshots.key(parser.root, renderer.target),
        cli_vars=dict(renderer.cli_vars),
        outside_vars=set(renderer.var_reads),
        outside_env=outside_env,
        files=parser.scanned,
        manifest=parser.manifest,
        versions=parser.versions,
        node_vars=Layered(lambda: node_vars),
        templated=Layered(lambda: templated),
        prefixes={p.name: p.prefix for p in [Package(parser.root), *parser.packages]},
        _schemas=parser.schemas,
    )
    parser.snapshot_writer = snapshots.save(parser.root.target_dir, snap, background=parser.background_snapshot)
    parser.snapshot_ids = (None, (snap.token, snap.serial))


def update(parser: Any) -> Manifest | None:
    """The manifest brought up to date from the last snapshot, or None when a full parse is needed."""
    project = parser.root
    renderer = parser.renderer
    parser.scanned = scan_with_hashes(project, parser.prescanned)
    snap = snapshots.load(project.target_dir)
    if snap is None or snap.key != snapshots.key(project, renderer.target):
        return None
    env_reads, var_reads = dict(renderer.env_reads), set(renderer.var_reads)
    parser.snapshot_ids = ((snap.token, snap.serial), None)
    try:
        return Update(parser, snap).run()
    except (FullParse, ModelkitError) as exc:  # a ModelkitError is reported by the full parse, with all it finds
        parser.full_parse_reason = str(exc) if isinstance(exc, FullParse) else "error"
        parser.manifest = Manifest(project_name=project.name)
        parser.reset()
        parser.reparsed = None
        parser.edges_changed = True
        parser.snapshot_ids = (None, None)
        renderer.env_reads, renderer.var_reads = env_reads, var_reads
        renderer.resolver = None
        return None


def scan_with_hashes(project: Any, scanned: dict[str, list[Any]] | None = None) -> dict[str, list[Any]]:
    """:func:`modelkit.parse.state.scan` (or ``scanned``, taken by it before anything was read), with the
    content hash of each file written too recently to trust."""
    files = scan(project) if scanned is None else scanned
    now = time.time_ns()
    out: dict[str, list[Any]] = {}
    for rel, status in files.items():
        if status and (now - status[1] <= RACY_NS or now - status[2] <= RACY_NS):
            out[rel] = [*status, file_hash(project.root, rel)]
        else:
            out[rel] = list(status)
    return out


def file_hash(root: Any, rel: str) -> str | None:
    try:
        with open(os.path.join(root, rel), "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def changed_files(root: Any, old: dict[str, list[Any]], new: dict[str, list[Any]], recorded_at: int) -> set[str]:
    """The files added, deleted or changed since the snapshot (racy ones compared by content)."""
    changed: set[str] = set()
    for rel, status in new.items():
        before = old.get(rel)
        if before == status and len(before) == 4:
            continue  # trusted when recorded (not racy then: see scan_with_hashes), and the same now
        if before is None:
            changed.add(rel)
            continue
        racy = len(before) < 4 or recorded_at - before[1] <= RACY_NS or recorded_at - before[2] <= RACY_NS
        if not racy and before[:4] == status[:4]:
            continue
        recorded = before[4] if len(before) > 4 else None
        if recorded is not None and recorded == (status[4] if len(status) > 4 else file_hash(root, rel)):
            continue
        changed.add(rel)
    changed.update(rel for rel in old if rel not in new)
    return changed


class Update:
    """One incremental parse: classify the edits, re-parse what they reach, check, and save the snapshot.

    It reads the snapshot's fields (kind, file, parents, ... of every node) rather than its nodes, so
    that only the nodes parsed again, and those they name, are unpickled.
    """

    def __init__(self, parser: Any, snap: Snapshot) -> None:
        self.parser = parser
        self.snap = snap
        self.manifest: Manifest = snap.manifest
        self.renderer = parser.renderer
        self.dirty: set[str] = set()  # nodes to parse again
        self.added: list[tuple[Package, str, str, str]] = []  # (unit, kind, folder, rel) of new files
        self.deleted: set[str] = set()  # unique ids of nodes whose file is gone
        self.old_parents: dict[str, list[str]] = {}  # nodes parsed again -> their parents before
        self.disabled = [n for ns in self.manifest.disabled.values() for n in ns]

    # -- the whole update --------------------------------------------------------
    def run(self) -> Manifest:
        parser, manifest, renderer = self.parser, self.manifest, self.renderer
        root = parser.root
        packages = find_packages(root, renderer.cli_vars)
        if {p.name: p.prefix for p in packages} != {k: v for k, v in self.snap.prefixes.items() if v}:
            raise FullParse(_where())
        parser.packages = packages
        self.units = [Package(root), *packages]
        renderer.var_scope.set_packages({p.name: p.config for p in packages})
        load_macros(renderer, packages)
        changed = changed_files(root.root, self.snap.files, parser.scanned, self.snap.recorded_at)
        self.rebuildable = field_map(manifest.nodes, "file")  # the models, analyses and seeds
        self.file_nodes = self._file_nodes(changed)
        self.unit_tested = set(field_map(manifest.nodes, "tested").values())
        renderer.env_reads.update(self.snap.outside_env)  # what the manifest was built from
        macros_changed = docs_changed = False
        for rel in sorted(changed):
            kind = self._classify(rel)
            if kind == "macro":
                macros_changed = True
            elif kind == "docs":
                docs_changed = True
        if macros_changed:
            self._macros()
        if docs_changed:
            self._docs()
        self._vars()
        self._env()
        parser.reparsed = []
        parser.edges_changed = False
        package_first = bool(packages) and ref_searches_package_first(root)
        if not self.dirty and not self.added and not self.deleted and not macros_changed and not docs_changed:
            renderer.resolver = Resolver(manifest, package_first=package_first, log=renderer.invocation.log)
            self._save(files_only=True)  # a node-free edit (or none): only the files' status is new
            return manifest
        self._delete()
        rebuilt = self._rebuild(package_first)
        parser.reparsed = sorted(n.unique_id for n in rebuilt)
        self._check(rebuilt)
        parser.edges_changed = bool(self.added or self.deleted) or any(
            self.old_parents.get(n.unique_id) != n.depends_on_nodes for n in rebuilt
        )
        renderer.resolver = Resolver(manifest, package_first=package_first, log=renderer.invocation.log)
        self._save(rebuilt=rebuilt)
        return manifest

    # -- what changed ----------------------------------------------------------------
    def _file_nodes(self, changed: set[str]) -> dict[str, list[str | Node]]:
        """Changed file (relative to the root project) -> the models, analyses and seeds parsed from it: the
        unique ids of enabled ones, the disabled ones themselves."""
        prefixes = self.snap.prefixes
        found: dict[str, list[str | Node]] = {}
        for uid, (package, path) in self.rebuildable.items():
            rel = prefixes[package] + path if package in prefixes else path
            if rel in changed:
                found.setdefault(rel, []).append(uid)
        for node in self.disabled:
            rel = prefixes.get(node.package_name, "") + node.original_file_path
            if rel in changed:
                found.setdefault(rel, []).append(node)
        return found

    def _unit_of(self, rel: str) -> tuple[Package, str]:
        for unit in self.units[1:]:
            if rel.startswith(unit.prefix):
                return unit, rel[len(unit.prefix) :]
        return self.units[0], rel

    def _classify(self, rel: str) -> str:
        """Note what ``rel``'s edit reaches; "macro" and "docs" edits are followed after every file is seen."""
        if rel in ("packages.yml", "dependencies.yml", "<packages>"):
            raise FullParse(_where())
        unit, inner = self._unit_of(rel)
        config = unit.config
        if inner == config.project_file.name or inner.endswith((".yml", ".yaml", ".py")):
            raise FullParse(_where())
        if inner.endswith(".md"):
            return "docs"

        def under(folders: Iterable[str], suffixes: tuple[str, ...]) -> str | None:
            for folder in folders:
                base = folder.rstrip("/") + "/"
                if inner.startswith(base) and inner.endswith(suffixes):
                    return folder
            return None

        if under(config.macro_paths, (".sql", ".jinja")) is not None:
            return "macro"
        if under([f.rstrip("/") + "/generic" for f in config.test_paths], (".sql",)) is not None:
            raise FullParse(_where())  # generic tests are macros that tests use
        kinds = (
            ("model", config.model_paths, (".sql",)),
            ("analysis", config.analysis_paths, (".sql",)),
            ("seed", config.seed_paths, (".csv",)),
        )
        others = [*config.snapshot_paths, *config.test_paths]
        if under(others, (".sql", ".csv")) is not None:
            raise FullParse(_where())  # snapshots, singular tests, fixture files
        for kind, folders, suffixes in kinds:
            folder = under(folders, suffixes)
            if folder is None:
                continue
            nodes = self.file_nodes.get(rel)
            exists = os.path.exists(os.path.join(self.parser.root.root, rel))
            if nodes and exists:
                for node in nodes:
                    self._mark(node)
            elif nodes:
                if not all(isinstance(n, str) for n in nodes):
                    raise FullParse(_where())  # a disabled node's file
                self.deleted.update(nodes)  # type: ignore[arg-type]
            elif exists:
                self.added.append((unit, kind, folder, inner))
            return kind
        raise FullParse(_where())  # a file of no kind followed here

    def _mark(self, node: str | Node) -> None:
        """Parse ``node`` (a unique id) again: only enabled models, analyses and seeds are re-parsed alone."""
        if not isinstance(node, str) or node not in self.rebuildable:
            raise FullParse(_where())
        if node in self.unit_tested:
            raise FullParse(_where())
        self.dirty.add(node)

    def _macros(self) -> None:
        manifest, renderer = self.manifest, self.renderer
        new = {m.unique_id: m for m in renderer.registry.all_macros()}
        old = manifest.macros
        if set(new) != set(old) or list(new) != list(old):
            raise FullParse(_where())
        changed = {uid for uid, m in new.items() if m != old[uid]}
        if not changed:
            manifest.macros = new
            return
        names = {new[uid].name for uid in changed}
        callers: dict[str, set[str]] = {}
        for macro in new.values():
            for ref in macro.references:
                callers.setdefault(ref, set()).add(macro.name)
        affected, stack = set(names), list(names)
        while stack:
            for caller in callers.get(stack.pop(), ()):
                if caller not in affected:
                    affected.add(caller)
                    stack.append(caller)
        if any(name.startswith(FULL_PARSE_MACROS) for name in affected):
            raise FullParse(_where())
        affected_ids = {uid for uid, m in new.items() if m.name in affected}
        for uid, macros in field_map(manifest.nodes, "macros").items():
            if affected_ids.intersection(macros):
                self._mark(uid)
        for node in self.disabled:
            if affected_ids.intersection(node.depends_on_macros):
                self._mark(node)
        self._uses_anywhere(affected)
        manifest.macros = new

    def _uses_anywhere(self, names: set[str]) -> None:
        """Parse everything when Jinja in a property file, a project file or a docs file names one of ``names``."""
        root = self.parser.root.root
        words = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names)) + r")\b")
        for rel in self.parser.scanned:
            if not rel.endswith((".yml", ".yaml", ".md")):
                continue
            try:
                with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
            except OSError:
                raise FullParse(_where()) from None
            if any(words.search(block) for block in _JINJA.findall(text)):
                raise FullParse(_where())

    def _docs(self) -> None:
        manifest = self.manifest
        old = manifest.docs
        manifest.docs = {}
        for unit in self.units:
            load_docs(self.renderer, manifest, unit.config)
        if old == manifest.docs:
            return
        for uid in self.snap.templated.all():
            if uid not in manifest.nodes:
                raise FullParse(_where())  # a source, or a disabled node
            self._mark(uid)
        for schema in self.snap.schemas.values():
            for value in schema.raw.values():
                if not isinstance(value, dict):
                    continue
                text = repr({k: v for k, v in value.items() if k not in ("models", "seeds", "analyses")})
                if "doc(" in text:
                    raise FullParse(_where())  # exposures, groups, sources, ... described with doc()

    def _vars(self) -> None:
        old, new = self.snap.cli_vars, self.renderer.cli_vars
        changed = {k for k in old.keys() | new.keys() if old.get(k, _ABSENT) != new.get(k, _ABSENT)}
        if not changed:
            return
        if changed & self.snap.outside_vars:
            raise FullParse(_where())
        for uid, names in self.snap.node_vars.all().items():
            if changed.intersection(names):
                if uid not in self.manifest.nodes:
                    raise FullParse(_where())
                self._mark(uid)

    def _env(self) -> None:
        environ = os.environ
        for name, value in self.snap.outside_env.items():
            if environ.get(name) != value:
                raise FullParse(_where())
        for uid, env in field_map(self.manifest.nodes, "env").items():
            if any(environ.get(name) != value for name, value in env.items()):
                self._mark(uid)
        for node in self.disabled:
            if any(environ.get(name) != value for name, value in node.env_vars.items()):
                self._mark(node)

    # -- parsing again -------------------------------------------------------------
    def _delete(self) -> None:
        manifest = self.manifest
        if not self.deleted:
            return
        for uid in self.deleted:
            node = manifest.nodes.get(uid)
            if node is None or node.resource_type not in REBUILT or node.patch_path:
                raise FullParse(_where())
        for uid, parents in field_map(manifest.nodes, "parents").items():
            if uid not in self.deleted and self.deleted.intersection(parents):
                raise FullParse(_where())  # its children report the missing ref
        for exposure in manifest.exposures.values():
            if self.deleted.intersection((exposure.get("depends_on") or {}).get("nodes") or ()):
                raise FullParse(_where())
        for uid in self.deleted:
            node = manifest.nodes.pop(uid)
            prefix = self.snap.prefixes.get(node.package_name, "")
            manifest.files.pop(prefix + node.original_file_path, None)
            self.snap.node_vars.set(uid, None)
            self.snap.templated.set(uid, None)
            if uid in self.snap.added:
                self.snap.added.remove(uid)

    def _schema(self, unit: Package) -> SchemaFiles:
        """The unit's property files as the parse of a node reads them: its YAML patch, found by name."""
        schema = SchemaFiles()
        schema.patches = {key: _Patches(self.snap, unit.name, key) for key in PATCH_KEYS}  # type: ignore[misc]
        return schema

    def _rebuild(self, package_first: bool) -> list[Node]:
        parser, manifest = self.parser, self.manifest
        parser.manifest = manifest
        renderer = self.renderer
        renderer.resolver = Resolver(manifest, package_first=package_first)
        rebuilt: list[Node] = []
        todo: list[tuple[Package, str, str, str, Node | None]] = []
        for uid in sorted(self.dirty):
            node = manifest.nodes[uid]
            unit = self._unit_by_name(node.package_name)
            todo.append((unit, node.resource_type, self._folder(unit, node), node.original_file_path, node))
        todo += [(unit, kind, folder, inner, None) for unit, kind, folder, inner in self.added]
        names = self._refable_names() if self.added else set()
        schemas: dict[str, SchemaFiles] = {}
        for unit, kind, folder, rel, old in todo:
            if unit.name not in schemas:
                schemas[unit.name] = self._schema(unit)
            parser._enter(unit, schemas[unit.name])
            parser._versions = self.snap.versions.get(unit.name, {})
            inner = rel[len(folder.rstrip("/")) + 1 :]
            if kind == "seed":
                node = parser._seed(folder, inner, rel)
            elif kind == "model":
                node = parser._sql_node(ModelNode, "model", unit.config.models, folder, inner, rel)
            else:
                node = parser._sql_node(AnalysisNode, "analysis", {}, folder, inner, rel)
            if not node.config.get("enabled", True):
                raise FullParse(_where())
            if old is None:
                self._check_new(unit, node, names)
                self.snap.added.append(node.unique_id)
            else:
                self._check_same(old, node)
                self.old_parents[node.unique_id] = list(old.depends_on_nodes)
            manifest.nodes[node.unique_id] = node
            manifest.files[unit.prefix + node.original_file_path] = node.checksum
            if node.unique_id in parser.node_vars:
                self.snap.node_vars.set(node.unique_id, parser.node_vars[node.unique_id])
            rebuilt.append(node)
        self.renderer.env_reads.update(parser.inside_env)
        return rebuilt

    def _unit_by_name(self, name: str) -> Package:
        for unit in self.units:
            if unit.name == name:
                return unit
        raise FullParse(_where())

    def _folder(self, unit: Package, node: Node) -> str:
        config = unit.config
        folders = {"model": config.model_paths, "analysis": config.analysis_paths, "seed": config.seed_paths}
        for folder in folders[node.resource_type]:
            if node.original_file_path.startswith(folder.rstrip("/") + "/"):
                return folder
        raise FullParse(_where())

    def _refable_names(self) -> set[str]:
        """The names a new model, analysis or seed may not take."""
        names = {value[0] for value in field_map(self.manifest.nodes, "name").values()}
        names.update(n.name for n in self.disabled)
        return names

    def _check_new(self, unit: Package, node: Node, names: set[str]) -> None:
        """A new node stands alone: no other node, YAML entry or version names it."""
        if node.name in names or node.unique_id in self.manifest.nodes or self.snap.versions.get(unit.name):
            raise FullParse(_where())
        for schema in self.snap.schemas.values():
            if any(node.name in patches for patches in schema.patches.values()):
                raise FullParse(_where())
            if node.name in repr(schema.raw):
                raise FullParse(_where())  # tests, exposures, unit tests naming it
        names.add(node.name)

    def _check_same(self, old: Node, node: Node) -> None:
        """A node parsed again keeps what other nodes' parse depended on."""
        if node.unique_id != old.unique_id:
            raise FullParse(_where())
        for key in ("access", "group", "enabled", "contract"):
            if old.config.get(key) != node.config.get(key):
                raise FullParse(_where())
        if (old.database, old.schema, old.alias) != (node.database, node.schema, node.alias):
            self.relations_moved = True
            for semantic_model in self.manifest.semantic_models.values():
                if node.unique_id in semantic_model["depends_on"]["nodes"]:
                    raise FullParse(_where())  # its node_relation names the relation

    relations_moved = False

    def _check(self, rebuilt: list[Node]) -> None:
        manifest, renderer = self.manifest, self.renderer
        part = Manifest(project_name=manifest.project_name, docs=manifest.docs, groups=manifest.groups)
        part.nodes = {n.unique_id: n for n in rebuilt}
        check_groups(part)
        check_contracts(part)
        if self.relations_moved or self.added:
            check_relations(manifest.nodes.values())
        templated = templated_descriptions(part)
        for uid in part.nodes:
            self.snap.templated.set(uid, True if uid in templated else None)
        if templated:
            render_descriptions(part, renderer)
        link(part, renderer.resolver, {unit.name for unit in self.units if unit.config.restrict_access})
        for node in rebuilt:
            manifest.nodes[node.unique_id] = node  # again: its parents are known now
        for node in rebuilt:
            if self.old_parents.get(node.unique_id) == node.depends_on_nodes:
                continue  # the same edges: no new cycle
            if _reaches(manifest, node.depends_on_nodes, node.unique_id):
                raise FullParse(_where())  # the full parse names the cycle

    def _save(self, files_only: bool = False, rebuilt: Iterable[Node] = ()) -> None:
        snap = self.snap
        snap.files = self.parser.scanned
        snap.cli_vars = dict(self.renderer.cli_vars)
        snap.manifest = self.manifest
        changed = {n.unique_id for n in rebuilt}
        target_dir = self.parser.root.target_dir
        snapshots.save(target_dir, snap, files_only=files_only, changed=changed, removed=set(self.deleted))
        self.parser.snapshot_ids = (self.parser.snapshot_ids[0], (snap.token, snap.serial))


class _Patches:
    """One kind of YAML patch (``models:``, ``seeds:``, ...) of one package, looked up by name in the snapshot."""

    def __init__(self, snap: Snapshot, package: str, key: str) -> None:
        self.snap, self.package, self.key = snap, package, key

    def get(self, name: str, default: Any = None) -> Any:
        found = self.snap.patch(self.package, self.key, name)
        return default if found is None else found


_ABSENT = object()
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def _reaches(manifest: Manifest, starts: list[str], goal: str) -> bool:
    """Whether ``goal`` is among ``starts`` or their ancestors."""
    parents = field_map(manifest.nodes, "parents")
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        uid = stack.pop()
        if uid == goal:
            return True
        if uid in seen:
            continue
        seen.add(uid)
        stack.extend(parents.get(uid, ()))
    return False
