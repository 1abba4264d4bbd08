"""Installed packages as parts of the project, loaded as dbt loads them.

Every folder of the project's ``packages-install-path`` (``dbt_packages/``) that holds a project file is
a package. Its models, seeds, snapshots, analyses, data tests, unit tests, macros and docs are parsed as
the root project's are: named ``<resource>.<package>.<name>``, with paths relative to the package's
folder, configured by the package's own project file, and then by the root project's config for the
package's paths, which dbt applies last (over the package's ``{{ config() }}`` too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelkit.core import yamlio
from modelkit.core.config import merge_into, tree_configs
from modelkit.core.errors import CompilationError
from modelkit.core.manifest import Manifest, Node
from modelkit.core.relation import quote
from modelkit.graph.resolve import Resolver
from modelkit.project.project import PROJECT_FILES, ProjectConfig, load_project

REFABLE = ("model", "seed", "snapshot")
PACKAGE_FILES = ("packages.yml", "dependencies.yml")


@dataclass(frozen=True)
class Package:
    """The root project or an installed package, as the parser reads it."""

    config: ProjectConfig  # its own project file; ``root`` is its folder
    prefix: str = ""  # its folder relative to the root project, with a trailing "/" ("" for the root)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def is_root(self) -> bool:
        return self.prefix == ""


def find_packages(project: ProjectConfig, cli_vars: Mapping[str, Any] | None = None) -> list[Package]:
    """The installed packages, by folder name; an error when ``packages.yml`` lists more than are installed."""
    base = project.root / project.packages_install_path
    folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("__")) if base.is_dir() else []
    folders = [p for p in folders if not p.name.startswith(".")]
    check_installed(project, len(folders))
    found: list[Package] = []
    names = {project.name}
    for folder in folders:
        if not any((folder / name).is_file() for name in PROJECT_FILES):
            continue  # not a package
        config = load_project(folder, cli_vars)
        if config.name in names:
            raise CompilationError(
                f'modelkit found more than one package with the name "{config.name}" included in this project. '
                "Package names must be unique in a project. Please rename one of these packages."
            )
        names.add(config.name)
        found.append(Package(config, f"{folder.relative_to(project.root).as_posix()}/"))
    return found


def check_installed(project: ProjectConfig, installed: int) -> None:
    """dbt's check that ``deps`` ran: no fewer package folders than entries in the packages file."""
    path, specified = None, 0
    for name in PACKAGE_FILES:  # as `deps` reads them: packages.yml, else dependencies.yml with `packages:`
        candidate = project.root / name
        if candidate.is_file():
            data = yamlio.load(candidate, display=name)
            entries = data.get("packages") if isinstance(data, Mapping) else None
            if isinstance(entries, list):
                path, specified = candidate, len(entries)
                break
    if path is not None and specified > installed:
        raise CompilationError(
            f"modelkit found {specified} package(s) specified in {path.name}, "
            f"but only {installed} package(s) installed in {project.packages_install_path}. "
            'Run "modelkit deps" to install package dependencies.'
        )


PACKAGE_FIRST_FLAGS = ("require_ref_searches_node_package_before_root", "require_ref_prefers_node_package_to_root")


def ref_searches_package_first(project: ProjectConfig) -> bool:
    """dbt's behaviour flag (``flags:`` of the project file): a package's unqualified refs look in the
    package before the root project. Its warning names it ``require_ref_prefers_node_package_to_root``."""
    raw = yamlio.load(project.project_file, display=project.project_file.name)
    flags = raw.get("flags") if isinstance(raw, Mapping) else None
    return isinstance(flags, Mapping) and any(bool(flags.get(name)) for name in PACKAGE_FIRST_FLAGS)


def root_dependency_warnings(manifest: Manifest, resolver: Resolver) -> list[str]:
    """dbt's warning for each unqualified ref of a package's node that the root project answers."""
    root, found = manifest.project_name, []
    for node in manifest.nodes.values():
        if node.package_name == root:
            continue
        for ref in node.refs:
            if ref.get("package") is not None:
                continue
            target = resolver.find_node(ref["name"], None, ref.get("version"), node.package_name)
            if target is not None and target.package_name == root:
                found.append(
                    f"The node '{node.name}'in package '{node.package_name}' depends on the root project node "
                    f"'{target.unique_id}'.This may lead to unexpected cycles downstream. Please set the "
                    "'require_ref_prefers_node_package_to_root' behavior change flag to True to avoid this issue."
                    "For more information, see the documentation at https://docs.getdbt.com/reference/"
                    "global-configs/behavior-changes#require_ref_prefers_node_package_to_root"
                )
    return found


def apply_root_config(config: dict[str, Any], root_tree: Mapping[str, Any] | None, fqn: Iterable[str]) -> None:
    """Merge the root project's config for a package node's path over ``config`` (what dbt does last)."""
    for layer in tree_configs(root_tree, fqn):
        merge_into(config, layer)


def duplicate_name_error(node: Node, other: Node) -> CompilationError:
    """Two refable nodes of one package share a name (dbt's wording)."""
    kinds = f"{node.resource_type}s" if node.resource_type == other.resource_type else "resources"
    return CompilationError(
        f'modelkit found two {kinds} with the name "{node.name}".\n\n'
        "Since these resources have the same name, modelkit will be unable to find the correct resource\n"
        f'when looking for ref("{node.name}").\n\n'
        "To fix this, change the name of one of these resources:\n"
        f"- {node.unique_id} ({node.original_file_path})\n"
        f"- {other.unique_id} ({other.original_file_path})"
    )


def check_relations(nodes: Iterable[Node]) -> None:
    """No two models, seeds or snapshots (of any packages) may build the same relation."""
    seen: dict[str, Node] = {}
    for node in nodes:
        if node.resource_type not in REFABLE:
            continue
        name = ".".join(quote(p) for p in (node.database, node.schema, node.alias or node.name) if p)
        other = seen.get(name)
        if other is not None:
            raise CompilationError(
                f'modelkit found two resources with the database representation "{name}".\n'
                "modelkit cannot create two resources with identical database representations. To fix this,\n"
                "change the configuration of one of these resources:\n"
                f"- {other.unique_id} ({other.original_file_path})\n"
                f"- {node.unique_id} ({node.original_file_path})"
            )
        seen[name] = node
