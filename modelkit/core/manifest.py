"""The Manifest: everything the parser learnt about a project, as plain data.

Nodes are plain dataclasses, one per kind of node. The manifest is built by
:mod:`modelkit.parse.parser` and read by every later stage; nothing after parsing
changes it. :func:`modelkit.artifacts.manifest_dict` serializes it in the
shape of dbt's ``manifest.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from modelkit.core.lazynodes import field_map
from modelkit.core.relation import ALL_PARTS, Policy, Relation, quote_policy, render_name


@dataclass
class Column:
    name: str
    description: str = ""
    data_type: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    constraints: list[dict[str, Any]] = field(default_factory=list)
    quote: bool | None = None
    data_tests: list[Any] = field(default_factory=list)
    granularity: str | None = None  # a time spine's column: its time grain (day, hour, ...)


@dataclass
class Node:
    """Fields shared by every executable node (model, seed, analysis, test...)."""

    unique_id: str
    resource_type: str
    package_name: str
    name: str
    path: str  # relative to its resource folder (e.g. models/)
    original_file_path: str  # relative to the project root
    fqn: list[str]
    raw_code: str
    checksum: str
    config: dict[str, Any] = field(default_factory=dict)
    unrendered_config: dict[str, Any] = field(default_factory=dict)
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    description: str = ""
    columns: dict[str, Column] = field(default_factory=dict)
    refs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[list[str]] = field(default_factory=list)
    depends_on_nodes: list[str] = field(default_factory=list)
    depends_on_macros: list[str] = field(default_factory=list)
    patch_path: str | None = None
    language: str = "sql"
    version: str | int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    env_vars: dict[str, str | None] = field(default_factory=dict)  # env vars read while parsing
    yaml_line: int | None = None  # line of the node's YAML entry, when it has one
    quote_policy: Policy = ALL_PARTS  # which parts of its relation are quoted: the project's `quoting:`
    ref_lines: list[int | None] = field(default_factory=list)  # file line of each ref() call, for errors
    source_lines: list[int | None] = field(default_factory=list)  # file line of each source() call
    latest_version: str | int | None = None  # a versioned model's latest version

    @property
    def materialized(self) -> str:
        return self.config.get("materialized", "view")

    @property
    def tags(self) -> list[str]:
        return list(self.config.get("tags", []))

    @property
    def is_ephemeral(self) -> bool:
        return self.materialized == "ephemeral"

    @property
    def relation(self) -> Relation:
        if self.is_ephemeral:
            return Relation(None, None, f"__dbt__cte__{self.name}", type="cte")
        kind = "view" if self.materialized == "view" else "table"
        return Relation(self.database, self.schema, self.alias or self.name, type=kind, quote_policy=self.quote_policy)

    @property
    def relation_name(self) -> str | None:
        if self.is_ephemeral or self.resource_type in ("analysis", "operation", "test", "unit_test"):
            return None
        return render_name(self.database, self.schema, self.alias or self.name, self.quote_policy)

    @property
    def display_name(self) -> str:
        return f"{self.resource_type} {self.name} ({self.original_file_path})"


@dataclass
class ModelNode(Node):
    access: str = "protected"
    constraints: list[dict[str, Any]] = field(default_factory=list)
    deprecation_date: str | None = None  # ISO date and time, from the YAML entry or its version
    time_spine: dict[str, Any] | None = None  # {standard_granularity_column, custom_granularities}


@dataclass
class SeedNode(Node):
    root_path: str = ""
    checksum_name: str = "sha256"  # "path" for a seed over 1 MiB, whose checksum is its path (as dbt)


class AnalysisNode(Node):  # (no field of its own: Node's generated methods serve it, and cost no start-up time)
    """An analysis: compiled, never run."""


class SnapshotNode(Node):
    """A type-2 history table: a ``{% snapshot %}`` block or a YAML ``snapshots:`` entry (no field of its own:
    Node's generated methods serve it)."""


@dataclass
class OperationNode(Node):
    """A project hook (``on-run-start`` / ``on-run-end``), run once per invocation."""

    hook_type: str = "on-run-start"
    index: int = 0

    @property
    def hook_name(self) -> str:
        """How the console names it, e.g. ``shop.on-run-start.0``."""
        return f"{self.package_name}.{self.hook_type}.{self.index}"


@dataclass
class TestNode(Node):
    """A data test: generic (from YAML, with ``test_metadata``) or singular (a .sql file)."""

    __test__ = False  # not a pytest class

    test_metadata: dict[str, Any] | None = None  # {name, kwargs, namespace} for generic tests
    column_name: str | None = None
    attached_node: str | None = None
    file_key_name: str | None = None  # e.g. "models.orders"
    compiled_file_path: str | None = None  # relative to target/compiled/<package>/

    @property
    def store_failures(self) -> bool:
        return bool(self.config.get("store_failures")) and self.config.get("store_failures_as") != "ephemeral"

    @property
    def relation(self) -> Relation:
        kind = "view" if self.config.get("store_failures_as") == "view" else "table"
        return Relation(self.database, self.schema, self.alias or self.name, type=kind, quote_policy=self.quote_policy)

    @property
    def relation_name(self) -> str | None:
        return self.relation.render() if self.store_failures else None


@dataclass
class UnitTestNode(Node):
    """A unit test of one model: given input rows, expected output rows."""

    model_name: str = ""
    given: list[dict[str, Any]] = field(default_factory=list)
    expect: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] | None = None
    compiled_file_path: str | None = None

    @property
    def tested_node(self) -> str:
        """unique_id of the model under test (its only dependency)."""
        return self.depends_on_nodes[0] if self.depends_on_nodes else f"model.{self.package_name}.{self.model_name}"


NO_OP_TYPES = frozenset({"exposure", "saved_query"})  # what `build` reports (dbt's NO-OP) and builds nothing


class ResourceNode(Node):  # (no field of its own: Node's generated methods serve it)
    """An exposure or saved query seen as a node of a run: ``build`` reports it as dbt's NO-OP, builds nothing.

    Made for the run from the manifest's dict (:func:`resource_node`); it has no relation and no materialization.
    """

    @property
    def materialized(self) -> str:
        return ""

    @property
    def is_ephemeral(self) -> bool:
        return False

    @property
    def relation_name(self) -> str | None:
        return None


def resource_node(resource: dict[str, Any]) -> ResourceNode:
    """An exposure or saved query (a dict in the manifest's shape) viewed as a :class:`Node`, for one run.

    >>> node = resource_node({"unique_id": "exposure.shop.dash", "resource_type": "exposure", "name": "dash",
    ...     "package_name": "shop", "path": "s.yml", "original_file_path": "models/s.yml", "fqn": ["shop", "dash"],
    ...     "depends_on": {"nodes": ["model.shop.orders"], "macros": []}})
    >>> node.depends_on_nodes, node.materialized, node.relation_name
    (['model.shop.orders'], '', None)
    """
    config = resource.get("config") or {}
    return ResourceNode(
        unique_id=resource["unique_id"],
        resource_type=resource["resource_type"],
        package_name=resource["package_name"],
        name=resource["name"],
        path=resource.get("path", ""),
        original_file_path=resource.get("original_file_path", ""),
        fqn=list(resource.get("fqn") or []),
        raw_code="",
        checksum="",
        config={k: v for k, v in config.items() if k != "materialized"},
        description=resource.get("description") or "",
        depends_on_nodes=list((resource.get("depends_on") or {}).get("nodes") or []),
        meta=dict(resource.get("meta") or {}),
    )


@dataclass
class SourceDefinition:
    unique_id: str
    package_name: str
    source_name: str
    name: str
    identifier: str
    database: str | None
    schema: str
    original_file_path: str
    fqn: list[str]
    description: str = ""
    source_description: str = ""
    columns: dict[str, Column] = field(default_factory=dict)
    loader: str = ""
    loaded_at_field: str | None = None
    freshness: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    yaml_line: int | None = None
    resource_type: str = "source"
    quoting: dict[str, Any] = field(default_factory=dict)  # the source's and the table's `quoting:`, merged
    # relation_name also follows the project's `quoting:`; source() does not (as dbt documents)
    name_quote_policy: Policy = ALL_PARTS

    @property
    def relation(self) -> Relation:
        policy = quote_policy(self.quoting)
        return Relation(self.database, self.schema, self.identifier, type="table", quote_policy=policy)

    @property
    def relation_name(self) -> str:
        return Relation(self.database, self.schema, self.identifier, quote_policy=self.name_quote_policy).render()


@dataclass
class Macro:
    unique_id: str
    name: str
    package_name: str
    original_file_path: str
    macro_sql: str
    line: int = 1
    description: str = ""
    arguments: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)  # names the body loads (for purity checks)
    resource_type: str = "macro"
    file_key: str = ""  # its file among the loaded ones (a package's: from the root project), if not the path


@dataclass
class Manifest:
    project_name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    sources: dict[str, SourceDefinition] = field(default_factory=dict)
    macros: dict[str, Macro] = field(default_factory=dict)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # in the manifest's shape
    exposures: dict[str, dict[str, Any]] = field(default_factory=dict)  # in the manifest's shape
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # in the manifest's shape
    semantic_models: dict[str, dict[str, Any]] = field(default_factory=dict)  # in the manifest's shape
    saved_queries: dict[str, dict[str, Any]] = field(default_factory=dict)  # in the manifest's shape
    disabled: dict[str, list[Node]] = field(default_factory=dict)
    # disabled metrics, semantic models and saved queries, in the manifest's shape
    disabled_resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path -> checksum
    quoting: dict[str, Any] = field(default_factory=dict)  # the root project's `quoting:`

    def by_resource(self, resource_type: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.resource_type == resource_type]

    def get(self, unique_id: str) -> Node | SourceDefinition:
        if unique_id in self.nodes:
            return self.nodes[unique_id]
        return self.sources[unique_id]

    def run_node(self, unique_id: str) -> Node | None:
        """The node a run works on: one of ``nodes``, or an exposure or saved query viewed as a node (made anew
        on each call: the manifest keeps only its dict); None for any other id."""
        node = self.nodes.get(unique_id)
        if node is not None:
            return node
        kind = unique_id.split(".", 1)[0]
        if kind not in NO_OP_TYPES:
            return None
        resource = self.resource(unique_id)
        return resource_node(resource) if resource is not None else None

    def resources(self) -> Iterator[dict[str, Any]]:
        """Exposures, metrics, semantic models and saved queries (in dbt's order of its graph members)."""
        yield from self.exposures.values()
        yield from self.metrics.values()
        yield from self.semantic_models.values()
        yield from self.saved_queries.values()

    def resource(self, unique_id: str) -> dict[str, Any] | None:
        """The exposure, metric, semantic model or saved query of this id, if it is one."""
        kind = unique_id.split(".", 1)[0]
        table = {
            "exposure": self.exposures,
            "metric": self.metrics,
            "semantic_model": self.semantic_models,
            "saved_query": self.saved_queries,
        }.get(kind)
        return table.get(unique_id) if table is not None else None

    def parent_map(self) -> dict[str, list[str]]:
        known = field_map(self.nodes, "parents")
        parents: dict[str, list[str]] = {uid: list(known.get(uid, ())) for uid in self.nodes}
        for uid in self.sources:
            parents[uid] = []
        for resource in self.resources():
            parents[resource["unique_id"]] = list(resource["depends_on"]["nodes"])
        return parents

    def child_map(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {uid: [] for uid in self.nodes}
        for uid in self.sources:
            children[uid] = []
        for resource in self.resources():
            children[resource["unique_id"]] = []
        for uid, parents in self.parent_map().items():
            for parent in parents:
                children.setdefault(parent, []).append(uid)
        return children

    def group_map(self) -> dict[str, list[str]]:
        """Each group's members: nodes, saved queries, semantic models and metrics of that ``group``."""
        members: dict[str, list[str]] = {g["name"]: [] for g in self.groups.values()}
        for uid, group in field_map(self.nodes, "group").items():
            if group in members:
                members[group].append(uid)
        for table in (self.saved_queries, self.semantic_models, self.metrics):
            for uid, resource in table.items():
                if resource.get("group") in members:
                    members[resource["group"]].append(uid)
        return members
