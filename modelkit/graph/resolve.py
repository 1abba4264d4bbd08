"""Resolving ``ref()`` and ``source()`` against the manifest, with helpful errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from modelkit.artifacts.writer import node_dict, source_dict
from modelkit.core.errors import DependencyError
from modelkit.core.lazynodes import REFABLE, field_map
from modelkit.core.manifest import Manifest, Node, SourceDefinition
from modelkit.core.relation import Relation
from modelkit.core.text import did_you_mean

# a refable node as name lookups see it: (unique_id, package, version, latest_version)
_Named = tuple[str, str, Any, Any]


def ref_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[str, str | None, Any]:
    """``ref()``'s arguments as (name, package, version): ``ref('m')``, ``ref('pkg', 'm')``, ``ref('m', v=2)``."""
    version = kwargs.get("version", kwargs.get("v"))
    package = kwargs.get("package")
    if len(args) == 1:
        return str(args[0]), package, version
    if len(args) == 2:
        return str(args[1]), str(args[0]), version
    raise DependencyError(f"ref() takes one or two arguments, got {len(args)}")


def version_less(a: Any, b: Any) -> bool:
    """dbt's order of model versions: numeric when both read as numbers, else as text."""
    try:
        return float(a) < float(b)
    except (TypeError, ValueError):
        return str(a) < str(b)


def _label(node: Any) -> str | None:
    return f"{node.resource_type} {node.name}" if node is not None else None


class Resolver:
    """Name lookups over a manifest (built once, shared by every render).

    An unqualified name is looked for as dbt does: in the root project, then in the package of the node
    asking (first, with ``package_first``), then in any package (an error when several packages have it).
    """

    def __init__(
        self, manifest: Manifest, *, package_first: bool = False, log: Callable[[str], None] | None = None
    ) -> None:
        self.manifest = manifest
        self.root = manifest.project_name
        self.package_first = package_first  # dbt's flag require_ref_searches_node_package_before_root
        self.log = log  # where run-time notes go (an unpinned ref() to a model with a newer version)

    def search_order(self, package: str | None, node_package: str | None) -> list[str | None]:
        """The packages an unqualified name is looked for in (``None``: any package), as dbt searches."""
        return self._search(package, node_package)

    def _search(self, package: str | None, node_package: str | None) -> list[str | None]:
        if package is not None:
            return [package]
        if node_package is None or node_package == self.root:
            return [self.root, None]
        if self.package_first:
            return [node_package, self.root, None]
        return [self.root, node_package, None]

    @cached_property
    def _by_name(self) -> dict[str, list[_Named]]:
        index: dict[str, list[_Named]] = {}
        for uid, (name, package, version, latest) in field_map(self.manifest.nodes, "name").items():
            index.setdefault(name, []).append((uid, package, version, latest))
        return index

    @cached_property
    def _disabled_names(self) -> set[str]:
        return {n.name for nodes in self.manifest.disabled.values() for n in nodes if n.resource_type in REFABLE}

    @cached_property
    def _sources(self) -> dict[tuple[str, str], list[SourceDefinition]]:
        index: dict[tuple[str, str], list[SourceDefinition]] = {}
        for source in self.manifest.sources.values():
            index.setdefault((source.source_name, source.name), []).append(source)
        return index

    def find_node(
        self, name: str, package: str | None = None, version: Any = None, node_package: str | None = None
    ) -> Node | None:
        """The model, seed or snapshot ``ref(package, name, version)`` means to a node of ``node_package``."""
        if version is None:
            found = self._by_id(name, self._search(package, node_package)[0])
            if found is not None:
                return found
        named = self._by_name.get(name, [])
        for searched in self._search(package, node_package):
            candidates = named if searched is None else [n for n in named if n[1] == searched]
            if version is not None:
                candidates = [n for n in candidates if str(n[2]) == str(version)]
            elif len(candidates) > 1 or (candidates and candidates[0][2] is not None):
                latest = [n for n in candidates if str(n[2]) == str(n[3])]
                candidates = latest or candidates
            if not candidates:
                continue
            if searched is None and len({n[1] for n in candidates}) > 1:
                raise self._ambiguous(name if version is None else f"{name}.v{version}", candidates)
            return self.manifest.nodes[candidates[0][0]]
        return None

    def _by_id(self, name: str, package: str | None) -> Node | None:
        """The unversioned model, seed or snapshot ``name`` of ``package``, found by its unique id without the
        index of every name (a package has one refable node of a name, and a versioned model's ids end in
        its version); None if there is none, or when the search is in any package."""
        if package is None:
            return None
        nodes = self.manifest.nodes
        for kind in REFABLE:
            node = nodes.get(f"{kind}.{package}.{name}")
            if node is not None and node.name == name and node.version is None:
                return node  # type: ignore[no-any-return]
        return None

    def is_disabled(self, name: str) -> bool:
        """Whether a disabled model, seed or snapshot has this name."""
        return name in self._disabled_names

    @staticmethod
    def _ambiguous(name: str, candidates: list[_Named]) -> DependencyError:
        ids = "', '".join(n[0] for n in candidates)
        packages = "' or '".join(n[1] for n in candidates)
        return DependencyError(
            f"When referencing '{name}', modelkit found nodes in multiple packages: '{ids}'\n"
            f"To fix this, use two-argument 'ref', with the package name first: '{packages}'"
        )

    def find_source(
        self, source_name: str, table_name: str, node_package: str | None = None
    ) -> SourceDefinition | None:
        found = self._sources.get((source_name, table_name))
        if not found:
            return None
        for searched in self._search(None, node_package):
            for source in found:
                if searched is None or source.package_name == searched:
                    return source
        return None

    def missing_ref_error(
        self, node: Any, name: str, line: int | None = None, version: Any = None, package: str | None = None
    ) -> DependencyError:
        label = f"{node.resource_type} '{node.unique_id}' ({node.original_file_path})" if node is not None else "A node"
        where = f" in package or project '{package}'" if package is not None else ""
        if name in self._disabled_names:
            message = f"{label} depends on a node named '{name}'{where} which is disabled"
        else:
            shown = f"{name}' with version '{version}'" if version is not None else f"{name}'"
            message = f"{label} depends on a node named '{shown}{where} which was not found."
            message += did_you_mean(name, list(self._by_name))
        path = node.original_file_path if node is not None else None
        return DependencyError(message, path=path, line=line, source=getattr(node, "raw_code", None), node=_label(node))

    def missing_source_error(
        self, node: Any, source_name: str, table_name: str, line: int | None = None
    ) -> DependencyError:
        label = f"{node.resource_type} '{node.unique_id}' ({node.original_file_path})" if node is not None else "A node"
        message = f"{label} depends on a source named '{source_name}.{table_name}' which was not found."
        names = [f"{s}.{t}" for s, t in self._sources]
        message += did_you_mean(f"{source_name}.{table_name}", names)
        path = node.original_file_path if node is not None else None
        return DependencyError(message, path=path, line=line, source=getattr(node, "raw_code", None), node=_label(node))

    def ref_node(self, node: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Node:
        """The node ``ref(*args, **kwargs)`` names for ``node``; a clear error when there is none."""
        name, package, version = ref_args(args, kwargs)
        target = self.find_node(name, package, version, getattr(node, "package_name", None))
        if target is None:
            raise self.missing_ref_error(node, name, version=version, package=package)
        if version is None and target.version is not None and self.log is not None:
            self._note_prerelease(node, target)
        return target

    def ref(self, node: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Relation:
        return self.ref_node(node, args, kwargs).relation

    def _note_prerelease(self, node: Any, target: Node) -> None:
        """dbt's note when an unpinned ref() resolves to the latest version while a newer one exists."""
        newest = target.version
        for _uid, package, version, _latest in self._by_name.get(target.name, []):
            if package == target.package_name and version is not None:
                if version_less(newest, version):
                    newest = version
        if not version_less(target.latest_version, newest) or self.log is None:
            return
        name, package, current = target.name, target.package_name, target.version
        self.log(
            f"While compiling '{getattr(node, 'name', '')}':\n"
            f"Found an unpinned reference to versioned model '{name}' in project '{package}'.\n"
            f"Resolving to latest version: {name}.v{current}\n"
            f"A prerelease version {newest} is available. It has not yet been marked 'latest' by its maintainer.\n"
            f"When that happens, this reference will resolve to {name}.v{newest} instead.\n\n"
            f"  Try out v{newest}: {{{{ ref('{package}', '{name}', v='{newest}') }}}}\n"
            f"  Pin to  v{current}: {{{{ ref('{package}', '{name}', v='{current}') }}}}"
        )

    def source(self, node: Any, source_name: str, table_name: str) -> Relation:
        found = self.find_source(source_name, table_name, getattr(node, "package_name", None))
        if found is None:
            raise self.missing_source_error(node, source_name, table_name)
        return found.relation

    def doc(self, name: str, package: str | None = None, node_package: str | None = None) -> str:
        """The ``{% docs %}`` block ``doc(package, name)`` means to a node of ``node_package``."""
        for searched in self._search(package, node_package):
            for entry in self.manifest.docs.values():
                if entry.get("name") == name and (searched is None or entry.get("package_name") == searched):
                    return str(entry.get("block_contents", ""))
        raise DependencyError(
            f"Documentation for '{name}' not found."
            + did_you_mean(name, [d.get("name", "") for d in self.manifest.docs.values()])
        )

    def graph_context(self) -> dict[str, Any]:
        return self._graph

    @cached_property
    def _graph(self) -> dict[str, Any]:
        return {
            "nodes": {uid: node_dict(n) for uid, n in self.manifest.nodes.items()},
            "sources": {uid: source_dict(s) for uid, s in self.manifest.sources.items()},
            "exposures": dict(self.manifest.exposures),
            "groups": dict(self.manifest.groups),
            "metrics": dict(self.manifest.metrics),
            "semantic_models": dict(self.manifest.semantic_models),
            "saved_queries": dict(self.manifest.saved_queries),
        }


def target_not_found(
    resource: Mapping[str, Any], kind: str, name: str, package: str | None = None, disabled: bool = False
) -> DependencyError:
    """dbt's TargetNotFoundError for an exposure, metric, semantic model or saved query (a manifest dict)
    whose ``kind`` (node, metric) named ``name`` is missing or disabled."""
    title = str(resource["resource_type"]).title()  # dbt's: Semantic_Model, Saved_Query
    where = f"in package or project '{package}' " if package is not None else ""
    reason = "is disabled" if disabled else "was not found"
    return DependencyError(
        f"{title} '{resource['unique_id']}' ({resource['original_file_path']}) depends on a {kind} named "
        f"'{name}' {where}which {reason}",
        path=resource["original_file_path"],
    )
