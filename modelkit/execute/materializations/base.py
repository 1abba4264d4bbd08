"""Views and tables, and what every materialization shares: the :class:`Build` and the unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from modelkit.adapters.base import RelationOptions
from modelkit.core.errors import CompilationError
from modelkit.execute.hooks import hooks_of

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter, QueryResult, TableSchema
    from modelkit.core.manifest import Node
    from modelkit.core.relation import Relation


class MacroCalls(Protocol):
    """The project's and packages' macros, called in the node's execution context."""

    def exists(self, name: str) -> bool:
        """Whether the root project or an installed package defines macro ``name``."""

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call macro ``name`` (its ``return()`` value, else what it renders)."""


@dataclass(frozen=True)
class Build:
    """What a materialization needs: the node, its compiled SQL and the engine."""

    node: Node
    sql: str
    adapter: Adapter
    full_refresh: bool = False
    hooks: Callable[[str], None] | None = None  # runs the node's in-transaction "pre-hook" / "post-hook"
    log: Callable[[str], None] | None = None  # console messages (warnings about the node's config)
    macros: MacroCalls | None = None  # project and package macros (custom incremental strategies)
    # a microbatch model's SQL for one (start, end) window, and the run's --event-time-start / --event-time-end
    compile_window: Callable[[tuple[datetime, datetime]], str] | None = None
    event_time_start: datetime | None = None
    event_time_end: datetime | None = None
    schema: TableSchema | None = None  # an enforced contract's declaration (columns, constraints)
    # a type written in the node's SQL dialect (a seed's column_types), as the engine names it
    data_type: Callable[[str], str] | None = None
    # a seed's column types in its SQL dialect, as the engine names them (its project's dialect is not the engine's)
    seed_types: Callable[[], Mapping[str, str]] | None = None

    @property
    def sql_header(self) -> str | None:
        """The node's ``sql_header`` config: SQL run just before its DDL, in the same batch."""
        header = self.node.config.get("sql_header")
        return str(header) if header else None

    def run_hooks(self, key: str) -> None:
        if self.hooks is not None:
            self.hooks(key)


@contextmanager
def unit_of_work(build: Build, documented: Relation | None = None) -> Iterator[None]:
    """BEGIN, in-transaction pre-hooks, the body, COMMIT (all or nothing).

    Before the in-transaction post-hooks, persist_docs writes its comments on ``documented`` (the
    relation built), as dbt's view, incremental, seed and snapshot materializations do.
    """
    with build.adapter.transaction():
        build.run_hooks("pre-hook")
        yield
        if documented is not None and documents(build):
            persist_docs(build, documented)
        build.run_hooks("post-hook")


def _hooks_inside(build: Build) -> bool:
    """Whether the node has hooks that run inside its transaction."""
    node = build.node
    return build.hooks is not None and any(
        hook.transaction and hook.sql.strip() for key in ("pre-hook", "post-hook") for hook in hooks_of(node, key)
    )


def options_of(node: Node) -> RelationOptions:
    """The node's config, with its descriptions where ``persist_docs`` asks for them."""
    persist = _persist_docs_config(node)
    columns = getattr(node, "columns", {}) or {}
    return RelationOptions(
        config=node.config,
        description=(node.description or None) if persist.get("relation") else None,
        column_descriptions=(
            {c.name: c.description for c in columns.values() if c.description} if persist.get("columns") else {}
        ),
    )


def _persist_docs_config(node: Node) -> dict[str, Any]:
    config = node.config.get("persist_docs") or {}
    if not isinstance(config, dict):
        raise CompilationError(
            f"Invalid value provided for 'persist_docs'. Expected dict but received {type(config)}",
            node=f"{node.resource_type} {node.name}",
            path=node.original_file_path,
        )
    return config


def documents(build: Build) -> bool:
    """Whether persist_docs has comments to write for the node (its description, its columns')."""
    node = build.node
    config = _persist_docs_config(node)
    return bool(config.get("relation") and node.description) or bool(config.get("columns") and node.columns)


def persist_docs(build: Build, relation: Relation) -> None:
    """Write the node's description and its columns' as comments, as dbt's ``persist_docs`` macro does.

    A documented column the relation lacks is reported (names compare case-insensitively unless the
    column is quoted); the others are commented when their name matches exactly, as in dbt.
    """
    node, adapter = build.node, build.adapter
    config = _persist_docs_config(node)
    if config.get("relation") and node.description:
        adapter.comment_on_relation(relation, node.description)
    if not (config.get("columns") and node.columns):
        return
    existing = {c.name for c in adapter.get_columns(relation)}
    lowered = {name.lower() for name in existing}
    missing = [
        name
        for name, column in node.columns.items()
        if (name not in existing if column.quote else name.lower() not in lowered)
    ]
    if missing and build.log is not None:
        build.log(
            f"In relation {relation.render()}: The following columns are specified in the schema but are not "
            f"present in the database: {', '.join(missing)}"
        )
    adapter.comment_on_columns(
        relation,
        [(name, bool(column.quote), column.description) for name, column in node.columns.items() if name in existing],
    )


def view(build: Build) -> QueryResult:
    relation, options = build.node.relation.with_type("view"), options_of(build.node)
    if not _hooks_inside(build) and not documents(build):  # one statement: atomic by itself
        return build.adapter.replace_view(relation, build.sql, options, sql_header=build.sql_header)
    with unit_of_work(build, relation):
        return build.adapter.replace_view(relation, build.sql, options, sql_header=build.sql_header)


def table(build: Build) -> QueryResult:
    adapter, relation, options = build.adapter, build.node.relation.with_type("table"), options_of(build.node)
    header = build.sql_header
    if build.schema is None and not _hooks_inside(build) and not documents(build):
        return adapter.replace_table(relation, build.sql, options, sql_header=header)  # one statement: atomic
    with adapter.transaction():  # as dbt's table materialization: the comments come after the in-transaction post-hooks
        build.run_hooks("pre-hook")
        if build.schema is not None:  # declared first, so that the engine checks the contract's constraints
            result = adapter.replace_table_with_schema(relation, build.schema, build.sql, options, sql_header=header)
        else:
            result = adapter.replace_table(relation, build.sql, options, sql_header=header)
        build.run_hooks("post-hook")
        if documents(build):
            persist_docs(build, relation)
    return result
