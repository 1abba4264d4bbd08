"""Files to Manifest: discover the project's files, render each node once, record edges."""

from __future__ import annotations

import gc
import hashlib
from typing import Any

from modelkit.core.config import MODEL_DEFAULTS, merge_into, resolve
from modelkit.core.errors import ModelkitError, ProjectError
from modelkit.core.manifest import AnalysisNode, Manifest, ModelNode, Node, SeedNode
from modelkit.graph.graph import link
from modelkit.graph.resolve import Resolver
from modelkit.parse import yamlchild
from modelkit.parse.cache import ParseCache, global_key
from modelkit.parse.contracts import check_contracts
from modelkit.parse.datatests import add_data_tests
from modelkit.parse.descriptions import render_descriptions
from modelkit.parse.files import checksum, load_docs, load_macros, load_schema_files, read, read_schema_files, walk
from modelkit.parse.hooks import project_hook_nodes
from modelkit.parse.schema_yaml import build_sources, columns_from
from modelkit.parse.snapshots import parse_snapshots
from modelkit.parse.unittests import add_unit_tests
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
        self.project = renderer.project
        self.manifest = Manifest(project_name=self.project.name)
        self._names: dict[str, Node] = {}
        self._prefetched: dict[str, tuple[str, str, tuple[Capture, set[str]] | None]] = {}

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
        load_macros(self.renderer)
        for macro in self.renderer.registry.all_macros():
            self.manifest.macros[macro.unique_id] = macro
        self.cache = self._open_cache()
        yaml_files = read_schema_files(self.renderer)
        cache = self.cache
        unparsed = [(rel, text) for rel, text, sha in yaml_files if cache is None or not cache.has_yaml(rel, sha)]
        child = yamlchild.start(unparsed) if self.static else None  # parses YAML while the models are read
        self._prefetch_models()
        self.schema = load_schema_files(self.renderer, cache, yaml_files, child.results() if child else None)
        self.manifest.sources = build_sources(
            self.schema, self.project.name, self.renderer.target.database, self.project.sources
        )
        load_docs(self.renderer, self.manifest)
        self.renderer.resolver = Resolver(self.manifest)
        for folder, inner, rel in walk(self.project.root, self.project.seed_paths, (".csv",)):
            self.add_node(self._seed(folder, inner, rel))
        self._versions = self._model_versions()
        for folder, inner, rel in walk(self.project.root, self.project.model_paths, (".sql",)):
            self.add_node(self._sql_node(ModelNode, "model", self.project.models, folder, inner, rel))
        for folder, inner, rel in walk(self.project.root, self.project.analysis_paths, (".sql",)):
            self.add_node(self._sql_node(AnalysisNode, "analysis", {}, folder, inner, rel))
        parse_snapshots(self)
        for operation in project_hook_nodes(self.project, self.renderer.target.database, self.renderer.target.schema):
            self.add_node(operation)
        self._add_tests()
        log = self.renderer.invocation.log
        check_patches(self.manifest, self.schema, log)
        disable_orphan_tests(self.manifest, log)
        render_descriptions(self.manifest, self.renderer)
        self.renderer.resolver = Resolver(self.manifest, log)
        link(self.manifest, self.renderer.resolver)
        model_deprecations(self.manifest, log)
        if self.cache is not None:
            self.cache.prune(self.cache.seen)
            try:
                self.cache.save()
            except OSError:
                pass  # a read-only target folder only costs speed
        return self.manifest

    def _add_tests(self) -> None:
        """Data tests (YAML and tests/*.sql), unit tests, and the contract checks done at parse time."""
        add_data_tests(self)
        add_unit_tests(self)
        check_contracts(self.manifest)

    def add_node(self, node: Node) -> None:
        if not node.config.get("enabled", True):
            self.manifest.disabled.setdefault(node.unique_id, []).append(node)
            return
        if node.resource_type in ("model", "seed", "snapshot"):
            key = node.name if node.version is None else f"{node.name} v{node.version}"
            other = self._names.get(key)
            if other is not None:
                raise ProjectError(
                    f'Two {node.resource_type}s are named "{node.name}"; names must be unique. Rename one of:\n'
                    f"  - {other.original_file_path}\n  - {node.original_file_path}",
                    path=node.original_file_path,
                )
            self._names[key] = node
        self.manifest.nodes[node.unique_id] = node
        self.manifest.files[node.original_file_path] = node.checksum

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

    def _seed(self, folder: str, inner: str, rel: str) -> SeedNode:
        name = inner.split("/")[-1][: -len(".csv")]
        fqn = self._fqn(inner)
        with open(self.project.root / rel, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
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
        )
        config = resolve(self.project.seeds, fqn, SEED_DEFAULTS, self._config_cache.setdefault("seed", {}))
        self.apply_patch(node, "seeds", config)
        node.config = config
        self.place_node(node)
        return node

    def _sql_node(self, cls: type[Node], kind: str, tree: dict[str, Any], folder: str, inner: str, rel: str) -> Node:
        prefetched = self._prefetched.get(rel)
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
        node.unrendered_config = dict(capture.config)
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
        return node

    def _open_cache(self) -> ParseCache | None:
        if not self.use_cache:
            return None
        project = self.project
        renderer = self.renderer
        key = global_key(
            project.project_file.read_text(encoding="utf-8"),
            renderer.cli_vars,
            renderer.target.to_context(),
            renderer.registry.sources,
        )
        cache = ParseCache.load(project.target_dir, key)
        return cache

    def _prefetch_models(self) -> None:
        """Read each model file and find what it uses where no rendering is needed (the cache, or statically)."""
        root = self.project.root
        for _folder, _inner, rel in walk(root, self.project.model_paths, (".sql",)):
            text = read(root, rel)
            sha = checksum(text)
            self._prefetched[rel] = (text, sha, self._capture_unrendered(text, sha, rel))

    def _capture_unrendered(self, text: str, sha: str, rel: str) -> tuple[Capture, set[str]] | None:
        cache = self.cache
        if cache is not None:
            cache.seen.add(rel)
            found = cache.get_capture(rel, sha)
            if found is not None:
                return found
        found = static_capture(text, self.renderer) if self.static else None
        if found is not None and cache is not None:
            cache.put_capture(rel, sha, *found)
        return found

    def _capture(self, node: Node, text: str, rel: str) -> tuple[Capture, set[str]]:
        """What the template records at parse time: cached, static when safe, else rendered."""
        prefetched = self._prefetched.pop(rel, None)
        if prefetched is not None and prefetched[0] == text:
            found = prefetched[2]
        else:
            found = self._capture_unrendered(text, node.checksum, rel)
        if found is None:
            found = render_capture(node, text, rel, self.renderer)
            if self.cache is not None:
                self.cache.put_capture(rel, node.checksum, *found)
        return found

    def place_node(self, node: Node) -> None:
        """database, schema and alias through the generate_* macros."""
        renderer = self.renderer
        config = node.config
        needs_macro = self.__dict__.get("_naming_overridden")
        if needs_macro is None:  # macros are all loaded before the first node is placed
            names = {"generate_schema_name", "generate_alias_name", "generate_database_name"}
            needs_macro = self._naming_overridden = bool(renderer.registry.root_names() & names)
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
