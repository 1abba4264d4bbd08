"""The project variables ``var()`` sees, which depend on the package of the node being rendered.

dbt's precedence, highest first: ``--vars``; the root project's ``vars:`` scoped to the node's package
(``vars: {<package>: {...}}``); the root project's global vars; the vars of the package's own project
file. ``--vars`` are applied by the renderer; this module merges the rest once per package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelkit.project.project import ProjectConfig


class VarScope:
    """Project vars by package: the root project's, and each installed package's own project file's."""

    def __init__(self, root: ProjectConfig) -> None:
        self.root = root
        self.packages: dict[str, ProjectConfig] = {}
        self._merged: dict[str | None, dict[str, Any]] = {}

    def set_packages(self, packages: Mapping[str, ProjectConfig]) -> None:
        """The installed packages (their project files), by name."""
        self.packages = dict(packages)
        self._merged.clear()

    def values(self, package: str | None = None) -> dict[str, Any]:
        """The project vars a node of ``package`` sees (the root project's nodes: ``None``)."""
        key = package if package in self.packages and package != self.root.name else None
        merged = self._merged.get(key)
        if merged is None:
            root = self.root
            if key is None:
                merged = root.project_vars()
            else:
                merged = self.packages[key].project_vars()
                merged.update((k, v) for k, v in root.vars.items() if not (k == root.name and isinstance(v, Mapping)))
                scoped = root.vars.get(key)
                if isinstance(scoped, Mapping):
                    merged.update(scoped)
            self._merged[key] = merged
        return merged
