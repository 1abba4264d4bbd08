"""Data tests from YAML (generic tests) and from ``tests/**/*.sql`` (singular tests).

A generic test entry such as ``- unique`` under a model's column becomes a
:class:`TestNode` whose SQL is ``{{ test_unique(**_dbt_generic_test_kwargs) }}``:
the ``test_unique`` macro (built-in, or a project's ``{% test unique %}`` block)
renders the query returning failing rows. Names, unique ids and aliases follow
dbt's rules so that selectors, artifacts and audit tables match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelkit.core.config import merge_into, resolve
from modelkit.core.errors import ModelkitError, ProjectError
from modelkit.core.manifest import Node, TestNode
from modelkit.core.text import did_you_mean
from modelkit.parse.files import checksum, read, walk
from modelkit.parse.schema_yaml import Patch
from modelkit.parse.sink import NodeSink
from modelkit.parse.testspecs import TestSpec, generic_test_unique_id, parse_entry, synthesize_names
from modelkit.parse.versions import versions_of
from modelkit.parse.yamlrender import PropertyRenderer
from modelkit.render import templating
from modelkit.render.context import Capture
from modelkit.render.testargs import KWARGS_NAME
from modelkit.render.teststatic import static_test_capture

TEST_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "alias": None,
    "schema": "dbt_test__audit",
    "database": None,
    "tags": [],
    "meta": {},
    "group": None,
    "materialized": "test",
    "severity": "ERROR",
    "store_failures": None,
    "store_failures_as": None,
    "where": None,
    "limit": None,
    "fail_calc": "count(*)",
    "warn_if": "!= 0",
    "error_if": "!= 0",
}


# Keys of a test entry that configure the test rather than being passed to its macro.
# -- building test nodes ------------------------------------------------------------------------
@dataclass
class Target:
    """What a YAML test is attached to: a model, seed, snapshot or source table."""

    kind: str  # models | seeds | snapshots | sources
    name: str  # as used in test names: model name or <source>_<table>
    model_ref: str  # the `model` argument, e.g. "{{ get_where_subquery(ref('orders')) }}"
    path: str  # the YAML file
    attached_node: str | None
    file_key: str  # dbt's file_key_name, e.g. "models.orders" or "sources.raw"
    version: Any = None  # the model version tested


def fqn_dirs(path: str, parser: NodeSink) -> list[str]:
    project = parser.project
    roots = project.model_paths + project.seed_paths + project.snapshot_paths + project.analysis_paths
    roots += project.macro_paths + project.test_paths
    for root in sorted(roots, key=len, reverse=True):
        if path.startswith(root + "/"):
            return path[len(root) + 1 :].split("/")[:-1]
    return path.split("/")[:-1]


class TestBuilder:
    __test__ = False

    def __init__(self, parser: NodeSink) -> None:
        self.parser = parser
        self.project = parser.project
        self.registry = parser.renderer.registry
        self._config_cache: dict[tuple[str, ...], dict[str, Any]] = {}
        self._fqn_dirs: dict[str, list[str]] = {}
        self._macro_names: dict[tuple[str, str | None], str] = {}
        self.yaml = parser.schema.renderer or PropertyRenderer(parser.renderer)

    # -- YAML tests -----------------------------------------------------------------------
    def targets(self) -> Iterator[tuple[Target, dict[str, Any]]]:
        manifest = self.parser.manifest
        schema = self.parser.schema
        package = self.project.name
        by_name: dict[tuple[str, str], Node] = {}
        for node in manifest.nodes.values():
            if node.package_name != package:
                continue
            by_name.setdefault((node.resource_type, node.name), node)
            if node.resource_type in ("model", "seed", "snapshot"):
                by_name.setdefault(("", node.name), node)  # any kind: a `models:` entry may name a seed
        disabled = {n.name: n for nodes in manifest.disabled.values() for n in nodes if n.package_name == package}
        for key, kind in (("seeds", "seed"), ("models", "model"), ("snapshots", "snapshot")):
            for name, patch in schema.patches[key].items():
                if key == "models" and patch.entry.get("versions"):
                    yield from self._version_targets(patch)
                    continue
                # dbt keeps the tests of an entry naming no node of its kind: they test what ref() finds
                # (an entry naming a seed under `models:`), or are disabled when it finds nothing
                node = by_name.get((kind, name)) or by_name.get(("", name)) or disabled.get(name)
                model = f"{{{{ get_where_subquery(ref('{name}')) }}}}"
                attached = node.unique_id if node is not None else None
                yield Target(key, name, model, patch.path, attached, f"{key}.{name}"), patch.entry
        for path, src in schema.sources:
            for table in src.get("tables") or []:
                uid = f"source.{self.project.name}.{src['name']}.{table.get('name')}"
                if uid not in manifest.sources:
                    continue
                model = f"{{{{ get_where_subquery(source('{src['name']}', '{table['name']}')) }}}}"
                name = f"{src['name']}_{table['name']}"
                yield Target("sources", name, model, path, None, f"sources.{src['name']}"), dict(table)

    def _version_targets(self, patch: Patch) -> Iterator[tuple[Target, dict[str, Any]]]:
        """Each version of a versioned model, named ``<model>_v<v>`` in its tests' names."""
        manifest = self.parser.manifest
        versions = {
            str(n.version): n.unique_id
            for n in [*manifest.nodes.values(), *(n for ns in manifest.disabled.values() for n in ns)]
            if n.resource_type == "model" and n.name == patch.name and n.version is not None
        }
        for version in versions_of(patch):
            name = f"{patch.name}_v{version.v}" if version.v else patch.name
            ref = f"ref('{patch.name}', version='{version.v}')" if version.v else f"ref('{patch.name}')"
            model = f"{{{{ get_where_subquery({ref}) }}}}"
            attached = versions.get(str(version.v))
            target = Target("models", name, model, patch.path, attached, f"models.{patch.name}", version.v or None)
            yield target, version.test_entry()

    def build_all(self) -> None:
        for target, entry in self.targets():
            where = f"{target.kind[:-1]} '{target.name}' in {target.path}"
            for column in entry.get("columns") or []:  # as dbt: column tests first, then the entry's
                if not isinstance(column, Mapping) or "name" not in column:
                    continue
                col_name = str(column["name"])
                if column.get("quote"):
                    col_name = f'"{col_name}"'
                col_where = f"column '{column['name']}' of {where}"
                tags = list(column.get("tags") or [])
                for raw in _tests_of(column, col_where, target.path):
                    self._add(self.generic_test(target, parse_entry(raw, col_where), col_name, tags))
            for raw in _tests_of(entry, where, target.path):
                self._add(self.generic_test(target, parse_entry(raw, where), None, []))

    def _add(self, node: TestNode) -> None:
        manifest = self.parser.manifest
        if not node.config.get("enabled", True):
            manifest.disabled.setdefault(node.unique_id, []).append(node)
            return
        if node.unique_id in manifest.nodes:
            raise ProjectError(
                f"Two tests are named '{node.name}' with the same arguments in {node.original_file_path}; "
                "give one of them a distinct `name:`",
                path=node.original_file_path,
            )
        manifest.nodes[node.unique_id] = node

    def _macro_name(self, spec: TestSpec, path: str) -> str:
        macro = f"test_{spec.name}"
        if spec.namespace:
            found = self.registry.find(macro, spec.namespace)
        else:
            found = self.registry.find(macro, search=self.project.name)
        if found is None:
            known = sorted({m.name[len("test_") :] for m in self.registry.all_macros() if m.name.startswith("test_")})
            shown = f"{spec.namespace}.{spec.name}" if spec.namespace else spec.name
            raise ProjectError(
                f"Test '{shown}' is not defined: no {{% test {spec.name}(model, column_name) %}} block "
                f"in tests/generic/ or macros/." + did_you_mean(spec.name, known),
                **located(self.project.root, path, spec.name),
            )
        return f"{spec.namespace}.{macro}" if spec.namespace else macro

    def generic_test(self, target: Target, spec: TestSpec, column: str | None, column_tags: list[str]) -> TestNode:
        package = self.project.name
        macro = self._macro_names.get((spec.name, spec.namespace))
        if macro is None:
            macro = self._macro_names[(spec.name, spec.namespace)] = self._macro_name(spec, target.path)
        kwargs = dict(spec.args)
        if column is not None:
            kwargs["column_name"] = column
        kwargs["model"] = target.model_ref
        test_type = ("source_" if target.kind == "sources" else "") + spec.name
        if spec.namespace:
            test_type = f"{spec.namespace}_{test_type}"
        if spec.explicit_name:
            short = full = spec.explicit_name
        else:
            short, full = synthesize_names(test_type, target.name, kwargs)
        metadata = {"name": spec.name, "kwargs": kwargs, "namespace": spec.namespace}
        dirs = self._fqn_dirs.get(target.path)
        if dirs is None:
            dirs = self._fqn_dirs[target.path] = fqn_dirs(target.path, self.parser)
        fqn = [package, *dirs, full]
        node = TestNode(
            unique_id=generic_test_unique_id(package, full, metadata),
            resource_type="test",
            package_name=package,
            name=full,
            path=f"{short}.sql",
            original_file_path=target.path,
            fqn=fqn,
            raw_code=f"{{{{ {macro}(**{KWARGS_NAME}) }}}}",
            checksum="",
            description=spec.description,
            test_metadata=metadata,
            column_name=column,
            attached_node=target.attached_node,
            file_key_name=target.file_key,
            compiled_file_path=f"{target.path}/{short}.sql",
        )
        config = resolve(self.project.data_tests, fqn, TEST_DEFAULTS, self._config_cache)
        merge_into(config, {"tags": column_tags})
        merge_into(config, self.yaml.render_test_config(spec.config, target.path))
        if short != full and not config.get("alias"):
            config["alias"] = short
        node.config = config
        self._render_at_parse(node, target.path)
        if target.version is not None and node.refs and macro in ("test_not_null", "test_unique"):
            found = self.registry.find(macro)
            if found is not None and found.unique_id == f"macro.dbt.{macro}":  # dbt records the version as written
                node.refs[0] = {**node.refs[0], "version": target.version}
        return node

    def _render_at_parse(self, node: TestNode, path: str) -> None:
        """Render once with ``execute`` false: records refs, sources and ``config()`` calls."""
        parser = self.parser
        found = None
        if parser.static and node.test_metadata is not None:
            memo = self.__dict__.setdefault("_test_macros", {})
            found = static_test_capture(parser.renderer.registry, node.test_metadata, parser.renderer.target.type, memo)
        if found is None:
            found = self._render_capture(node, path)
        capture, macros = found
        merge_into(node.config, capture.config)
        parser.override_config(node.config, "data_tests", node.fqn)
        node.unrendered_config = dict(capture.config)
        node.refs = capture.refs
        node.sources = capture.sources
        node.env_vars = capture.env_vars
        node.depends_on_macros = sorted(macros)
        node.config["severity"] = _severity(node.config.get("severity"), node)
        finalize_store_failures(node.config)
        parser.place_node(node)

    def _render_capture(self, node: TestNode, path: str) -> tuple[Capture, set[str]]:
        capture = Capture()
        label = f"test {node.name}"
        try:
            ctx = self.parser.renderer.context(node, execute=False, capture=capture, path=path)
            template = templating.get_template(node.raw_code, path, parse=True, cache=node.test_metadata is not None)
            templating.render(template, ctx, path, label)
        except ModelkitError as exc:
            exc.node = exc.node or label
            exc.path = exc.path or path
            raise
        return capture, set(ctx.called_macros)

    # -- singular tests ---------------------------------------------------------------------------
    def build_singular(self) -> None:
        properties = self._singular_properties()
        for _folder, inner, rel in walk(self.project.root, self.project.test_paths, (".sql",)):
            if inner.startswith(("generic/", "fixtures/")):
                continue
            text = read(self.project.root, rel)
            name = inner.split("/")[-1][: -len(".sql")]
            parts = inner.split("/")
            fqn = [self.project.name, *parts[:-1], name]
            node = TestNode(
                unique_id=f"test.{self.project.name}.{name}",
                resource_type="test",
                package_name=self.project.name,
                name=name,
                path=inner,
                original_file_path=rel,
                fqn=fqn,
                raw_code=text,
                checksum=checksum(text),
            )
            config = resolve(self.project.data_tests, fqn, TEST_DEFAULTS)
            described = properties.get(name, {})
            merge_into(config, dict(described.get("config") or {}))
            node.description = str(described.get("description") or "")
            node.config = config
            self._render_at_parse(node, rel)
            if node.unique_id in self.parser.manifest.nodes:
                other = self.parser.manifest.nodes[node.unique_id]
                raise ProjectError(
                    f"Two singular tests are named '{name}': {other.original_file_path} and {rel}", path=rel
                )
            self.parser.manifest.files[rel] = node.checksum
            self._add(node)

    def _singular_properties(self) -> dict[str, dict[str, Any]]:
        """``data_tests:`` entries of property files: descriptions and configs of singular tests."""
        found: dict[str, dict[str, Any]] = {}
        for doc in self.parser.schema.raw.values():
            for entry in doc.get("data_tests") or []:
                if isinstance(entry, Mapping) and entry.get("name"):
                    found[str(entry["name"])] = dict(entry)
        return found


def finalize_store_failures(config: dict[str, Any]) -> None:
    """dbt's TestConfig.finalize_and_validate: ``store_failures_as``, when set, decides ``store_failures``
    (ephemeral: off; table, view or anything else: on); else ``store_failures`` decides it (table /
    ephemeral / unset)."""
    store_as, store = config.get("store_failures_as"), config.get("store_failures")
    if store_as is None:
        config["store_failures_as"] = None if store is None else ("table" if store else "ephemeral")
    else:
        config["store_failures"] = {"ephemeral": False, "table": True, "view": True}.get(store_as, True)


def _severity(value: Any, node: Node) -> str:
    text = str(value or "ERROR")
    if text.upper() not in ("ERROR", "WARN"):
        raise ProjectError(
            f"Test '{node.name}' has severity {value!r}; it must be 'error' or 'warn'", path=node.original_file_path
        )
    return text


def _tests_of(entry: Mapping[str, Any], where: str, path: str) -> list[Any]:
    tests = entry.get("data_tests")
    if tests is None:
        tests = entry.get("tests")
    if tests is None:
        return []
    if not isinstance(tests, list):
        raise ProjectError(f"`data_tests:` of {where} must be a list", path=path)
    return tests


def located(root: Path, path: str, needle: str) -> dict[str, Any]:
    """``path``, ``line`` and ``source`` for an error about ``needle`` in a YAML file."""
    try:
        text = (root / path).read_text(encoding="utf-8")
    except OSError:
        return {"path": path}
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"(^|[^\w.]){re.escape(needle)}\b", line.split("#", 1)[0]):
            return {"path": path, "line": number, "source": text}
    return {"path": path}


def add_data_tests(parser: NodeSink) -> None:
    """Add every generic and singular data test of the project to the parser's manifest."""
    builder = TestBuilder(parser)
    builder.build_all()
    builder.build_singular()
