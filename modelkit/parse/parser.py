"""Files to Manifest: discover the project's files, render each node once, record edges."""

from __future__ import annotations

import gc
from typing import Any

from modelkit.core.config import MODEL_DEFAULTS, merge_into, resolve
from modelkit.core.errors import ModelkitError
from modelkit.core.forked import Forked
from modelkit.core.manifest import AnalysisNode, Manifest, ModelNode, Node, SeedNode
from modelkit.core.relation import quote_policy
from modelkit.graph.graph import link
from modelkit.graph.resolve import Resolver
from modelkit.parse import incremental, yamlchild
from modelkit.parse.cache import ParseCache, global_key
from modelkit.parse.contracts import check_contracts
from modelkit.parse.datatests import add_data_tests
from modelkit.parse.descriptions import render_descriptions, render_resource_descriptions
from modelkit.parse.files import (
    checksum,
    load_docs,
    load_macros,
    load_schema_files,
    read,
    read_schema_files,
    seed_checksum,
    walk,
)
from modelkit.parse.hooks import capture_node_hooks, project_hook_nodes
from modelkit.parse.metrics import add_semantic_resources, link_semantic_resources
from modelkit.parse.packages import (
    Package,
    apply_root_config,
    check_relations,
    duplicate_name_error,
    find_packages,
    ref_searches_package_first,
    root_dependency_warnings,
)
from modelkit.parse.resources import add_exposures, add_groups, check_groups
from modelkit.parse.schema_yaml import SchemaFiles, apply_source_overrides, build_sources, columns_from
from modelkit.parse.semantic import check_time_spines, model_time_spine
from modelkit.parse.snapshots import parse_snapshots
from modelkit.parse.unittests import add_unit_tests
from modelkit.parse.unrendered import unrendered_config
from modelkit.parse.versions import ModelVersion, deprecation_datetime, model_versions
from modelkit.parse.yamlwarnings import check_patches, disable_orphan_tests, model_deprecations, no_node_for_yaml_key
from modelkit.render import templating
from modelkit.render.capture import render_capture, static_capture
from modelkit.render.context import Capture, Renderer

SEED_DEFAULTS = {**MODEL_DEFAULTS, "materialized": "seed", "delimiter": ",", "quote_columns": None}


class Parser:
    def __init__(self, renderer: Renderer, *, static: bool = True, use_cache: bool = False) -> None:
        self.renderer = renderer
        self.static = static
        self.use_cache = use_cache
        self.cache: ParseCache | None = None
        self._config_cache: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
        self.project = renderer.project  # the project or package being parsed (see _enter)
        self.root = renderer.project
        self.prefix = ""  # the folder of the package being parsed, relative to the root project
        self.manifest = Manifest(project_name=self.project.name, quoting=dict(self.project.quoting))
        self._quote_policy = quote_policy(self.root.quoting)  # every node's: the root project's `quoting:`
        self._names: dict[tuple[str, str], Node] = {}
        self._naming: dict[str, bool] = {}  # package -> whether a generate_*_name macro is overridden for it
        self._prefetched: dict[str, tuple[str, str, tuple[Capture, set[str]] | None]] = {}
        self._cached_vars: dict[str, list[str]] = {}
        # what incremental parsing needs to know of this parse (see modelkit.parse.incremental)
        self.node_vars: dict[str, list[str]] = {}  # unique_id -> the vars its template read
        self.inside_env: dict[str, str | None] = {}  # env vars read by node templates (not elsewhere)
        self.templated: set[str] = set()  # nodes and sources whose descriptions hold Jinja
        self.schemas: dict[str, SchemaFiles] = {}
        self.versions: dict[str, dict[str, ModelVersion]] = {}
        self.packages: list[Package] = []
        self.reparsed: list[str] | None = None  # after an incremental parse: the nodes parsed again
        self.full_parse_reason = ""  # why an incremental parse was not possible
        self.snapshot_ids: tuple[Any, Any] = (None, None)  # the parse snapshot before and after this parse
        self.scanned: dict[str, list[Any]] = {}  # the input files' status as parsing began (incremental parsing)
        self.prescanned: dict[str, list[Any]] | None = None  # that status, when the caller took it already
        self.edges_changed = True  # after an incremental parse: whether any node's parents changed
        # a full parse's snapshot written by a forked process (see snapshot.save), which the caller waits for
        self.background_snapshot = False
        self.snapshot_writer: Forked | None = None

    def reset(self) -> None:
        """Forget what an abandoned incremental parse did, before a full one."""
        self._names.clear()
        self.node_vars.clear()
        self.inside_env.clear()
        self._prefetched.clear()
        self._cached_vars.clear()

    # -- whole project ---------------------------------------------------------
    def parse(self) -> Manifest:
        gc_was_enabled = gc.isenabled()
        gc.disable()  # parsing allocates many long-lived objects; collecting midway only costs time
        try:
            return self._parse()
        finally:
            if gc_was_enabled:
                # What parsing built lives as long as the session: keep the collector from scanning it
                # again and again (Session.close unfreezes it).
                gc.freeze()
                gc.enable()

    def _parse(self) -> Manifest:
        if self.use_cache:
            manifest = incremental.update(self)
            if manifest is not None:
                return manifest
        self._full_parse()
        if self.use_cache:
            incremental.record(self)
        return self.manifest

    def _full_parse(self) -> Manifest:
        packages = find_packages(self.root, self.renderer.cli_vars)
        self.packages = packages
        self.renderer.var_scope.set_packages({p.name: p.config for p in packages})
        units = [Package(self.root), *packages]
        load_macros(self.renderer, packages)
        for macro in self.renderer.registry.all_macros():
            self.manifest.macros[macro.unique_id] = macro
        self.cache = cache = self._open_cache(packages)
        yaml_files = {unit.name: read_schema_files(unit.config) for unit in units}
        unparsed = [
            (unit.prefix + rel, text)
            for unit in units
            for rel, text, sha in yaml_files[unit.name]
            if cache is None or not cache.has_yaml(unit.prefix + rel, sha)
        ]
        child = yamlchild.start(unparsed) if self.static else None  # parses YAML while the models are read
        for unit in units:
            self._prefetch_models(unit)
        parsed = child.results() if child else None
        schemas = {
            u.name: load_schema_files(u.config, cache, yaml_files[u.name], parsed, u.prefix, self.renderer)
            for u in units
        }
        unused = apply_source_overrides(schemas)
        if unused:
            message = "During parsing, modelkit encountered source overrides that had no target:"
            self.renderer.invocation.log("[WARNING]: " + "\n".join([message, *unused, ""]))
        database = self.renderer.target.database
        for unit in units:
            overrides = None if unit.is_root else self.root.sources
            sources = build_sources(
                schemas[unit.name], unit.name, database, unit.config.sources, overrides, self.root.quoting
            )
            self.manifest.sources.update(sources)
            load_docs(self.renderer, self.manifest, unit.config)
        package_first = bool(packages) and ref_searches_package_first(self.root)
        self.renderer.resolver = Resolver(self.manifest, package_first=package_first)
        for unit in units:
            add_groups(self.manifest, schemas[unit.name], unit.name)
        for unit in units:
            self._enter(unit, schemas[unit.name])
            self._parse_nodes()
        self._enter(units[0], schemas[self.root.name])
        check_contracts(self.manifest)
        check_relations(self.manifest.nodes.values())
        log = self.renderer.invocation.log
        disable_orphan_tests(self.manifest, log)
        self.schemas = schemas
        self.templated = incremental.templated_descriptions(self.manifest)
        render_descriptions(self.manifest, self.renderer)
        self.renderer.resolver = resolver = Resolver(self.manifest, package_first=package_first, log=log)
        restricted = {unit.name for unit in units if unit.config.restrict_access}
        link(self.manifest, resolver, restricted)
        for unit in units:
            root = None if unit.is_root else self.root
            add_semantic_resources(self.manifest, schemas[unit.name], unit.config, root, self.export_relation, log)
        link_semantic_resources(self.manifest, resolver, restricted)
        for unit in units:
            add_exposures(self.manifest, schemas[unit.name], unit.name, resolver)
        render_resource_descriptions(self.manifest, self.renderer)
        check_groups(self.manifest)
        check_time_spines(self.manifest, log, self.root.flags)
        model_deprecations(self.manifest, log)
        if packages and not package_first:
            for warning in root_dependency_warnings(self.manifest, self.renderer.resolver):
                self.renderer.invocation.log(f"[WARNING]: {warning}")
        if self.cache is not None:
            self.cache.prune(self.cache.seen)
            try:
                self.cache.save()
            except OSError:
                pass  # a read-only target folder only costs speed
        return self.manifest

    def _enter(self, unit: Package, schema: SchemaFiles) -> None:
        """Parse ``unit`` (the root project or an installed package) from here on."""
        self.project = unit.config
        self.prefix = unit.prefix
        self.schema = schema

    def _parse_nodes(self) -> None:
        """The nodes of the project or package being parsed: seeds, models, analyses, snapshots, hooks, tests."""
        project = self.project
        for folder, inner, rel in walk(project.root, project.seed_paths, (".csv",)):
            self.add_node(self._seed(folder, inner, rel))
        self._versions = self.versions[project.name] = self._model_versions()
        for folder, inner, rel in walk(project.root, project.model_paths, (".sql",)):
            self.add_node(self._sql_node(ModelNode, "model", project.models, folder, inner, rel))
        for folder, inner, rel in walk(project.root, project.analysis_paths, (".sql",)):
            self.add_node(self._sql_node(AnalysisNode, "analysis", {}, folder, inner, rel))
        parse_snapshots(self)
        for operation in project_hook_nodes(project, self.renderer.target.database, self.renderer.target.schema):
            self.add_node(operation)
        add_data_tests(self)
        add_unit_tests(self)
        check_patches(self.manifest, self.schema, self.renderer.invocation.log)

    def override_config(self, config: dict[str, Any], key: str, fqn: list[str]) -> None:
        """For a package's node, merge the root project's ``key`` config (e.g. ``models``) for its path."""
        if self.prefix:
            apply_root_config(config, getattr(self.root, key), fqn)

    def unrendered_config(
        self, kind: str, fqn: list[str], name: str, call: dict[str, Any], text: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """dbt's ``unrendered_config`` (see :mod:`modelkit.parse.unrendered`); ``text``: (source, path)."""
        patches = self.schema.patches.get(f"{kind}s" if kind != "analysis" else "analyses") or {}
        patch = patches.get(name)
        cache = self._config_cache.setdefault(f"unrendered {kind}", {})
        project = self.project
        entry = patch.entry.get("config") if patch is not None else None
        return unrendered_config(project.raw_trees, project.flags, entry, cache, kind, fqn, call, text)

    def add_node(self, node: Node) -> None:
        if not node.config.get("enabled", True):
            self.manifest.disabled.setdefault(node.unique_id, []).append(node)
            return
        if node.resource_type in ("model", "seed", "snapshot"):
            key = node.name if node.version is None else f"{node.name} v{node.version}"
            other = self._names.get((node.package_name, key))
            if other is not None:
                raise duplicate_name_error(node, other)
            self._names[(node.package_name, key)] = node
        self.manifest.nodes[node.unique_id] = node
        self.manifest.files[self.prefix + node.original_file_path] = node.checksum

    def _model_versions(self) -> dict[str, ModelVersion]:
        """File stem -> the model version it defines, from YAML ``versions:``."""
        patches = self.schema.patches["models"]
        if not any(p.entry.get("versions") for p in patches.values()):
            return {}
        stems = {rel.rsplit("/", 1)[-1][: -len(".sql")] for rel in self._prefetched}  # every model file
        found, missing = model_versions(patches, stems)
        for name, path in missing:
            self.renderer.invocation.log(no_node_for_yaml_key(name, "models", path))
        return found

    # -- nodes ---------------------------------------------------------------
    def _fqn(self, inner: str) -> list[str]:
        parts = inner.split("/")
        return [self.project.name, *parts[:-1], parts[-1].rsplit(".", 1)[0]]

    def apply_patch(self, node: Node, patch_key: str, config: dict[str, Any]) -> None:
        patch = self.schema.patches[patch_key].get(node.name)
        if patch is None:
            return
        merge_into(config, patch.config)
        node.description = patch.description
        node.columns = columns_from(patch.entry.get("columns"))
        node.patch_path = f"{self.project.name}://{patch.path}"
        node.meta = dict(patch.entry.get("meta") or {})
        if isinstance(node, ModelNode):
            node.constraints = list(patch.entry.get("constraints") or [])
            node.deprecation_date = deprecation_datetime(patch.entry.get("deprecation_date"))
            node.time_spine = model_time_spine(patch.entry, node.name, patch.path)

    def _seed(self, folder: str, inner: str, rel: str) -> SeedNode:
        name = inner.split("/")[-1][: -len(".csv")]
        fqn = self._fqn(inner)
        digest, digest_name = seed_checksum(self.project.root / rel, rel)
        node = SeedNode(
            unique_id=f"seed.{self.project.name}.{name}",
            resource_type="seed",
            package_name=self.project.name,
            name=name,
            path=inner,
            original_file_path=rel,
            fqn=fqn,
            raw_code="",
            checksum=digest,
            root_path=str(self.project.root),
            checksum_name=digest_name,
        )
        config = resolve(self.project.seeds, fqn, SEED_DEFAULTS, self._config_cache.setdefault("seed", {}))
        self.apply_patch(node, "seeds", config)
        self.override_config(config, "seeds", fqn)
        node.config = config
        node.unrendered_config = self.unrendered_config("seed", fqn, name, {})
        self.place_node(node)
        capture_node_hooks(node, self.renderer)
        return node

    def _sql_node(self, cls: type[Node], kind: str, tree: dict[str, Any], folder: str, inner: str, rel: str) -> Node:
        prefetched = self._prefetched.get(self.prefix + rel)
        text = prefetched[0] if prefetched is not None else read(self.project.root, rel)
        name = inner.split("/")[-1][: -len(".sql")]
        fqn = self._fqn(inner)
        version = self._versions.get(name) if kind == "model" else None
        unique_id = f"{kind}.{self.project.name}.{name}"
        if version is not None:
            name = version.name
            fqn = [*fqn[:-1], name, f"v{version.v}"]
            unique_id = f"model.{self.project.name}.{name}.v{version.v}"
        node = cls(
            unique_id=unique_id,
            resource_type=kind,
            package_name=self.project.name,
            name=name,
            path=inner,
            original_file_path=rel,
            fqn=fqn,
            raw_code=text,
            checksum=prefetched[1] if prefetched is not None else checksum(text),
        )
        config = resolve(tree, fqn, MODEL_DEFAULTS, self._config_cache.setdefault(kind, {}))
        if version is not None:
            version.apply(node, config, self.project.name)
        else:
            self.apply_patch(node, "models" if kind == "model" else "analyses", config)
        node.unrendered_config = {}
        node.config = config
        self.place_node(node)  # preliminary names so that `this` renders at parse time
        capture, macros = self._capture(node, text, rel)
        merge_into(config, capture.config)
        if kind == "model":
            self.override_config(config, "models", fqn)
        node.unrendered_config = self.unrendered_config(kind, fqn, node.name, capture.config, (text, rel))
        node.config = config
        node.refs = capture.refs
        node.sources = capture.sources
        node.env_vars = capture.env_vars
        node.depends_on_macros = sorted(macros)
        node.ref_lines = capture.ref_lines
        node.source_lines = capture.source_lines
        if kind == "analysis":
            node.config["materialized"] = "analysis"
        self.place_node(node)
        capture_node_hooks(node, self.renderer)
        return node

    def _open_cache(self, packages: list[Package]) -> ParseCache | None:
        if not self.use_cache:
            return None
        project = self.root
        renderer = self.renderer
        project_text = project.project_file.read_text(encoding="utf-8")
        for package in packages:  # their project files (paths, vars) change what their files give
            project_text += f"\0{package.prefix}\0" + package.config.project_file.read_text(encoding="utf-8")
        key = global_key(project_text, renderer.cli_vars, renderer.target.to_context(), renderer.registry.sources)
        return ParseCache.load(project.target_dir, key)

    def _prefetch_models(self, unit: Package) -> None:
        """Read each model file and find what it uses where no rendering is needed (the cache, or statically)."""
        root = unit.config.root
        for _folder, _inner, rel in walk(root, unit.config.model_paths, (".sql",)):
            text = read(root, rel)
            sha = checksum(text)
            key = unit.prefix + rel
            self._prefetched[key] = (text, sha, self._capture_unrendered(text, sha, key, unit.name))

    def _capture_unrendered(self, text: str, sha: str, key: str, package: str) -> tuple[Capture, set[str]] | None:
        cache = self.cache
        if cache is not None:
            cache.seen.add(key)
            found = cache.get_capture(key, sha)
            if found is not None:
                self._cached_vars[key] = cache.vars_read(key)
                return found
        found = static_capture(text, self.renderer, package) if self.static else None
        if found is not None and cache is not None:
            cache.put_capture(key, sha, *found)
        return found

    def _capture(self, node: Node, text: str, rel: str) -> tuple[Capture, set[str]]:
        """What the template records at parse time: cached, static when safe, else rendered."""
        key = self.prefix + rel
        prefetched = self._prefetched.pop(key, None)
        if prefetched is not None and prefetched[0] == text:
            found = prefetched[2]
        else:
            found = self._capture_unrendered(text, node.checksum, key, node.package_name)
        var_names: set[str] = set(self._cached_vars.pop(key, ()))
        if found is None:
            renderer = self.renderer
            outside_vars, outside_env = renderer.var_reads, renderer.env_reads
            renderer.var_reads, renderer.env_reads = set(), {}
            try:
                found = render_capture(node, text, rel, renderer)
            finally:
                var_names, inside_env = renderer.var_reads, renderer.env_reads
                renderer.var_reads, renderer.env_reads = outside_vars, outside_env
            self.inside_env.update(inside_env)
            found[0].env_vars.update(inside_env)  # read by the macros it called, too
            if self.cache is not None:
                self.cache.put_capture(key, node.checksum, *found, var_names)
        self.node_vars[node.unique_id] = sorted(var_names)
        return found

    def export_relation(self, package: str, name: str, config: dict[str, Any]) -> tuple[str | None, ...]:
        """(database, schema, alias) of a saved query's export, placed as a node of ``config`` would be."""
        node = AnalysisNode(
            unique_id=f"saved_query.{package}.{name}",
            resource_type="saved_query",
            package_name=package,
            name=name,
            path="",
            original_file_path="",
            fqn=[package, name],
            raw_code="",
            checksum="",
            config={"schema": config.get("schema"), "alias": config.get("alias"), "database": config.get("database")},
        )
        self.place_node(node)
        return node.database, node.schema, node.alias

    def place_node(self, node: Node) -> None:
        """database, schema and alias through the generate_* macros."""
        renderer = self.renderer
        config = node.config
        node.quote_policy = self._quote_policy  # dbt: a node's own `quoting` config is not used
        needs_macro = self._naming.get(node.package_name)
        if needs_macro is None:  # macros are all loaded before the first node is placed
            names = {"generate_schema_name", "generate_alias_name", "generate_database_name"}
            defined = renderer.registry.root_names() | set(renderer.registry.by_package.get(node.package_name, ()))
            needs_macro = self._naming[node.package_name] = bool(defined & names)
        if not needs_macro:
            target = renderer.target
            custom = config.get("schema")
            node.schema = f"{target.schema}_{str(custom).strip()}" if custom else target.schema
            node.database = config.get("database") or target.database
            if config.get("alias"):
                node.alias = str(config["alias"]).strip()
            elif node.version is not None:
                node.alias = f"{node.name}_v{str(node.version).replace('.', '_')}"
            else:
                node.alias = node.name
            return
        ctx = renderer.context(node, execute=False, path=node.original_file_path)
        model = ctx["model"]
        try:
            node.schema = str(renderer.call_macro("generate_schema_name", ctx, config.get("schema"), model)).strip()
            node.alias = str(renderer.call_macro("generate_alias_name", ctx, config.get("alias"), model)).strip()
            node.database = str(
                renderer.call_macro("generate_database_name", ctx, config.get("database"), model)
            ).strip()
        except ModelkitError as exc:
            exc.node = exc.node or f"{node.resource_type} {node.name}"
            raise
        except Exception as exc:  # noqa: BLE001 - reported with the macro's location
            raise templating.wrap_error(exc, node.original_file_path, f"{node.resource_type} {node.name}") from exc


def parse_project(renderer: Renderer, *, static: bool = True, use_cache: bool = False) -> Manifest:
    return Parser(renderer, static=static, use_cache=use_cache).parse()
