"""``adapter`` and ``api`` in templates: dbt's adapter surface over the engine-neutral adapter.

Each method behaves as dbt's: at parse time (``execute`` false) nothing touches the database and
introspection answers as dbt's parse-time callbacks do (``None``, ``[]``, ``False``, an empty table).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from modelkit.core.errors import CompilationError
from modelkit.core.relation import Relation, quote
from modelkit.render.columns import Column
from modelkit.render.jinja_objects import AdapterResponse, Table
from modelkit.render.macros import MacroProxy, RenderContext

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.project.profiles import Target
    from modelkit.project.project import ProjectConfig

# dbt-adapters' behavior flags and their defaults; a project changes them under `flags:`.
BEHAVIOR_FLAGS = {
    "require_batched_execution_for_custom_microbatch_strategy": False,
    "enable_truthy_nulls_equals_macro": False,
}


class AdapterHost(Protocol):
    """What the ``adapter`` object needs from the renderer: the connection (opened on first use) and settings."""

    @property
    def adapter(self) -> Adapter | None: ...

    target: Target
    project: ProjectConfig
    quote_char: str  # the engine's identifier quote


class RelationFactory:
    """``api.Relation`` / ``adapter.Relation``: ``create(database, schema, identifier, type)``.

    As dbt's relation proxy, the project's ``quoting:`` settings are the default quote policy.
    """

    Table = "table"
    View = "view"
    CTE = "cte"
    MaterializedView = "materialized_view"
    External = "external"

    def __init__(self, quoting: Mapping[str, Any] | None = None, quote_char: str = '"') -> None:
        self._quoting = {k: v for k, v in (quoting or {}).items() if k in ("database", "schema", "identifier")}
        self._quote_char = quote_char

    def create(
        self,
        database: str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
        type: str | None = None,
        quote_policy: Mapping[str, bool | None] | None = None,
        include_policy: Mapping[str, bool | None] | None = None,
        **_: Any,
    ) -> Relation:
        policy = {**self._quoting, **(quote_policy or {})}
        relation = Relation.create(
            database, schema, identifier, type, quote_policy=policy, include_policy=include_policy
        )
        return relation.quoted_with(self._quote_char)


class Api:
    """``api``: ``api.Relation.create(...)`` and ``api.Column``."""

    def __init__(self, quoting: Mapping[str, Any] | None = None, quote_char: str = '"') -> None:
        self.Relation = RelationFactory(quoting, quote_char)
        self.Column = Column


class BehaviorFlag:
    """One behavior flag: true or false in ``{% if %}``, with ``.setting`` and ``.no_warn``."""

    def __init__(self, name: str, setting: bool) -> None:
        self.name = name
        self.setting = setting
        self.no_warn = setting

    def __bool__(self) -> bool:
        return self.setting

    def __str__(self) -> str:
        return str(self.setting)


class Behavior:
    def __init__(self, flags: Mapping[str, Any]) -> None:
        for name, default in BEHAVIOR_FLAGS.items():
            setattr(self, name, BehaviorFlag(name, bool(flags.get(name, default))))


def _relation(value: Any, method: str, argument: str) -> Relation:
    if not isinstance(value, Relation):
        raise CompilationError(
            f"adapter.{method}: expected a Relation for '{argument}', got {type(value).__name__} ({value!r})"
        )
    return value


class AdapterProxy:
    """The ``adapter`` object of one render."""

    def __init__(self, renderer: AdapterHost, context: RenderContext, execute: bool) -> None:
        self._renderer = renderer
        self._context = context
        self._execute = execute

    @property
    def Relation(self) -> RelationFactory:  # noqa: N802 - dbt's name
        return RelationFactory(self._renderer.project.quoting, self._renderer.quote_char)

    @property
    def behavior(self) -> Behavior:
        return Behavior(self._renderer.project.flags)

    @property
    def _adapter(self) -> Adapter | None:
        if not self._execute:
            return None
        self._context.touched_database = True  # what the render gives may depend on the database
        return self._renderer.adapter

    # -- names ----------------------------------------------------------------
    def type(self) -> str:
        return self._renderer.target.type

    def quote(self, identifier: str) -> str:
        return quote(str(identifier), self._renderer.quote_char)

    def quote_as_configured(self, identifier: str, quote_key: str) -> str:
        if quote_key not in ("database", "schema", "identifier"):
            return identifier
        return self.quote(identifier) if self._renderer.project.quoting.get(quote_key, True) else identifier

    def quote_seed_column(self, column: str, quote_config: bool | None) -> str:
        if quote_config is not None and not isinstance(quote_config, bool):
            raise CompilationError(
                f'The seed configuration value of "quote_columns" has an invalid type {type(quote_config)}'
            )
        return self.quote(column) if quote_config is None or quote_config else column

    # -- macros ---------------------------------------------------------------
    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> MacroProxy:
        """The ``<adapter>__name`` or ``default__name`` macro, searched as dbt searches.

        With a namespace: the project's ``dispatch:`` search order for it if there is one, else the
        root project then the namespace's package. Without: the node's package, the root project,
        then the built-in macros.
        """
        if "." in str(macro_name):
            namespace, name = str(macro_name).split(".", 1)
            raise CompilationError(
                f'In adapter.dispatch, got a macro name of "{macro_name}", but "." is not a valid macro name '
                f'component. Did you mean `adapter.dispatch("{name}", macro_namespace="{namespace}")`?'
            )
        if packages is not None:
            raise CompilationError(
                f'The "packages" argument of adapter.dispatch() has been deprecated. Use the "macro_namespace" '
                f"argument instead (dispatching '{macro_name}')."
            )
        if macro_namespace is not None and not isinstance(macro_namespace, str):
            raise CompilationError(
                f"In adapter.dispatch, got a {type(macro_namespace)} macro_namespace argument "
                f'("{macro_namespace}"), but macro_namespace should be None or a string.'
            )
        registry = self._context.registry
        project = self._renderer.project
        search: list[str | None] = [None]
        if macro_namespace is not None:
            order = [e.get("search_order") for e in project.dispatch if e.get("macro_namespace") == macro_namespace]
            if order and order[0]:
                search = list(order[0])
            elif macro_namespace in registry.by_package:
                search = [project.name, macro_namespace]
        local = self._context.local_package
        attempts = []
        for package in search:
            for prefix in (self.type(), "default"):
                name = f"{prefix}__{macro_name}"
                if package is None:
                    attempts.append(name)
                    packages_in_order = [p for p in (local, project.name, "dbt") if p]
                    macro = next((m for p in dict.fromkeys(packages_in_order) if (m := registry.find(name, p))), None)
                else:
                    attempts.append(f"{package}.{name}")
                    macro = registry.find(name, package)
                if macro is not None:
                    return MacroProxy(macro, self._context)
        searched = ", ".join(repr(a) for a in attempts)
        raise CompilationError(
            f"In dispatch: No macro named '{macro_name}' found within namespace: '{macro_namespace}'\n"
            f"    Searched for: {searched}"
        )

    # -- relations --------------------------------------------------------------
    # At parse time each method answers as dbt's parse-time adapter, before looking at its arguments.
    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None:
        adapter = self._adapter
        if adapter is None:
            return None
        return adapter.get_relation(database, schema, str(identifier))

    def load_relation(self, relation: Relation) -> Relation | None:
        if self._adapter is None:
            return None
        relation = _relation(relation, "load_relation", "relation")
        return self.get_relation(relation.database, relation.schema, relation.identifier)

    def already_exists(self, schema: str, name: str) -> bool:
        return self.get_relation(self._renderer.target.database, schema, name) is not None

    def list_relations_without_caching(self, schema_relation: Relation) -> list[Relation]:
        adapter = self._adapter
        if adapter is None:
            return []
        schema_relation = _relation(schema_relation, "list_relations_without_caching", "schema_relation")
        schema = schema_relation.schema or self._renderer.target.schema
        return adapter.list_relations(schema_relation.database, schema, cached=False)

    def drop_relation(self, relation: Relation) -> None:
        if self._adapter is not None:
            self._adapter.drop_relation(_relation(relation, "drop_relation", "relation"))

    def rename_relation(self, from_relation: Relation, to_relation: Relation) -> None:
        if self._adapter is not None:
            from_relation = _relation(from_relation, "rename_relation", "from_relation")
            to_relation = _relation(to_relation, "rename_relation", "to_relation")
            self._adapter.rename_relation(from_relation, to_relation.identifier)

    def truncate_relation(self, relation: Relation) -> None:
        if self._adapter is not None:
            self._adapter.truncate_relation(_relation(relation, "truncate_relation", "relation"))

    # -- schemas --------------------------------------------------------------
    def create_schema(self, relation: Relation) -> None:
        if self._adapter is not None:
            relation = _relation(relation, "create_schema", "relation")
            if relation.schema:
                self._adapter.create_schema(relation.database, relation.schema)

    def drop_schema(self, relation: Relation) -> None:
        if self._adapter is not None:
            relation = _relation(relation, "drop_schema", "relation")
            if relation.schema:
                self._adapter.drop_schema(relation.database, relation.schema)

    def list_schemas(self, database: str | None = None) -> list[str]:
        adapter = self._adapter
        return adapter.list_schemas(database) if adapter is not None else []

    def check_schema_exists(self, database: str | None, schema: str) -> bool:
        return str(schema).lower() in (s.lower() for s in self.list_schemas(database))

    # -- columns ----------------------------------------------------------------
    def get_columns_in_relation(self, relation: Relation) -> list[Column]:
        adapter = self._adapter
        if adapter is None:
            return []
        relation = _relation(relation, "get_columns_in_relation", "relation")
        return [Column.from_info(c) for c in adapter.get_columns(relation)]

    def get_column_schema_from_query(self, sql: str) -> list[Column]:
        adapter = self._adapter
        if adapter is None:
            return []
        return [Column.from_info(c) for c in adapter.describe_query(str(sql))]

    def get_missing_columns(self, from_relation: Relation, to_relation: Relation) -> list[Column]:
        """The columns of ``from_relation`` that ``to_relation`` does not have (names compared exactly)."""
        if self._adapter is None:
            return []
        from_relation = _relation(from_relation, "get_missing_columns", "from_relation")
        to_relation = _relation(to_relation, "get_missing_columns", "to_relation")
        present = {c.name for c in self.get_columns_in_relation(to_relation)}
        return [c for c in self.get_columns_in_relation(from_relation) if c.name not in present]

    def expand_target_column_types(self, from_relation: Relation, to_relation: Relation) -> None:
        """Widen string columns of ``to_relation`` that are narrower than in ``from_relation``."""
        adapter = self._adapter
        if adapter is None:
            return
        from_relation = _relation(from_relation, "expand_target_column_types", "from_relation")
        to_relation = _relation(to_relation, "expand_target_column_types", "to_relation")
        wider = {c.name: c for c in self.get_columns_in_relation(from_relation)}
        for column in self.get_columns_in_relation(to_relation):
            source = wider.get(column.name)
            if source is not None and column.can_expand_to(source):
                adapter.alter_column_type(to_relation, column.name, Column.string_type(source.string_size()))

    # -- statements -------------------------------------------------------------
    def execute(
        self, sql: str, auto_begin: bool = False, fetch: bool = False, limit: int | None = None
    ) -> tuple[AdapterResponse, Table]:
        adapter = self._adapter
        if adapter is None:
            return AdapterResponse(""), Table([], [], [])
        result = adapter.execute(str(sql), fetch=fetch)
        table = Table.from_result(result) if fetch else Table([], [], [])
        if limit is not None and fetch:
            table = Table(table.column_names, table.column_types, list(result.rows)[: int(limit)])
        return AdapterResponse(result.message, rows_affected=result.rows_affected), table

    def commit(self) -> None:
        """Statements outside ``adapter.transaction()`` commit as they run: nothing is pending."""
        return None
