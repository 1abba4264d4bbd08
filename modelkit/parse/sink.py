"""What the parsers of each resource kind may do to the project being parsed, and nothing more.

The model parser (:class:`modelkit.parse.parser.Parser`) implements :class:`NodeSink`; the parsers
of data tests, unit tests and snapshots receive it instead of the whole parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from modelkit.core.manifest import Manifest, Node
    from modelkit.parse.schema_yaml import SchemaFiles
    from modelkit.project.project import ProjectConfig
    from modelkit.render.context import Renderer


class NodeSink(Protocol):
    """Read the project, its properties and the nodes found so far; add, place and patch nodes."""

    @property
    def project(self) -> ProjectConfig:
        """The project or installed package being parsed (its own project file)."""

    @property
    def renderer(self) -> Renderer: ...

    @property
    def manifest(self) -> Manifest:
        """The nodes found so far (read it; add through :meth:`add_node`)."""

    @property
    def schema(self) -> SchemaFiles:
        """The project's YAML properties."""

    @property
    def static(self) -> bool:
        """Whether templates may be read without Jinja where that gives the same result."""

    def add_node(self, node: Node) -> None:
        """Add a node to the manifest (or to ``disabled``), refusing duplicate names."""

    def place_node(self, node: Node) -> None:
        """Set the node's database, schema and alias (through the ``generate_*_name`` macros)."""

    def apply_patch(self, node: Node, patch_key: str, config: dict[str, Any]) -> None:
        """Apply the node's YAML entry under ``patch_key`` (description, columns, config)."""

    def unrendered_config(
        self, kind: str, fqn: list[str], name: str, call: dict[str, Any], text: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """dbt's ``unrendered_config`` of a node: project file configs as written, YAML config, ``config()``."""

    def override_config(self, config: dict[str, Any], key: str, fqn: list[str]) -> None:
        """For a package's node, merge the root project's ``key`` config tree (``models``, ``data_tests``...)
        for its path; dbt applies it after everything else, ``{{ config() }}`` included."""
