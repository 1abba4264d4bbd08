"""``adapter`` and ``api`` in templates: a thin, engine-neutral view of the adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from modelkit.adapters.base import ColumnInfo
from modelkit.core.errors import CompilationError
from modelkit.core.relation import Relation, quote
from modelkit.render.jinja_objects import Table
from modelkit.render.macros import MacroProxy, RenderContext

if TYPE_CHECKING:
    from modelkit.adapters.base import Adapter
    from modelkit.project.profiles import Target
    from modelkit.project.project import ProjectConfig


class AdapterHost(Protocol):
    """What the ``adapter`` object needs from the renderer: the connection (opened on first use) and settings."""

    @property
    def adapter(self) -> Adapter | None: ...

    target: Target
    project: ProjectConfig


class _RelationFactory:
    def create(
        self,
        database: str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
        type: str | None = None,
        **_: Any,
    ) -> Relation:
        return Relation(database, schema, identifier or "", type)


class Api:
    Relation = _RelationFactory()
    Column = ColumnInfo


class AdapterProxy:
    def __init__(self, renderer: AdapterHost, context: RenderContext, execute: bool) -> None:
        self._renderer = renderer
        self._context = context
        self._execute = execute

    @property
    def _adapter(self) -> Any:
        return self._renderer.adapter if self._execute else None

    def type(self) -> str:
        return self._renderer.target.type

    def quote(self, identifier: str) -> str:
        return quote(str(identifier))

    def quote_as_configured(self, identifier: str, quote_key: str = "identifier") -> str:
        return quote(str(identifier))

    def dispatch(self, macro_name: str, macro_namespace: str | None = None, packages: Any = None) -> Any:
        """dbt's dispatch: ``<adapter>__name`` then ``default__name`` in each package searched, in order.

        The packages searched: the root project's ``dispatch:`` ``search_order`` for the namespace; else
        the root project then the namespace, when it is a package; else the names the rendered node sees.
        """
        if "." in macro_name:
            namespace, name = macro_name.split(".", 1)
            raise CompilationError(
                f'In adapter.dispatch, got a macro name of "{macro_name}", but "." is not a valid macro name '
                f'component. Did you mean `adapter.dispatch("{name}", macro_namespace="{namespace}")`?'
            )
        registry = self._context.registry
        project = self._renderer.project
        search: list[str | None] = [None]
        if macro_namespace is not None:
            order = next(
                (e.get("search_order") for e in project.dispatch if e.get("macro_namespace") == macro_namespace), None
            )
            if order:
                search = list(order)
            elif macro_namespace in registry.by_package:
                search = [project.name, macro_namespace]
        attempts = []
        for namespace in search:
            for prefix in (self._renderer.target.type, "default"):
                candidate = f"{prefix}__{macro_name}"
                if namespace is None:
                    macro = registry.find(candidate, search=self._context.package)
                    attempts.append(candidate)
                else:
                    macro = registry.find(candidate, namespace)
                    attempts.append(f"{namespace}.{candidate}")
                if macro is not None:
                    return MacroProxy(macro, self._context)
        if macro_name in self._context:  # a built-in modelkit implements without adapter variants
            found = self._context[macro_name]
            if not isinstance(found, MacroProxy) or found.macro.package_name == "dbt":
                return found
        searched = ", ".join(repr(a) for a in attempts)
        raise CompilationError(
            f"In dispatch: No macro named '{macro_name}' found within namespace: '{macro_namespace}'\n"
            f"    Searched for: {searched}"
        )

    def get_relation(self, database: str | None, schema: str | None, identifier: str) -> Relation | None:
        if self._adapter is None:
            return None
        return self._adapter.get_relation(database, schema, identifier)

    def load_relation(self, relation: Relation) -> Relation | None:
        return self.get_relation(relation.database, relation.schema, relation.identifier)

    def get_columns_in_relation(self, relation: Relation) -> list[ColumnInfo]:
        if self._adapter is None:
            return []
        return self._adapter.get_columns(relation)

    def get_column_schema_from_query(self, sql: str) -> list[ColumnInfo]:
        if self._adapter is None:
            return []
        return self._adapter.describe_query(str(sql))

    def list_relations_without_caching(self, schema_relation: Relation) -> Table:
        rels = self._adapter.list_relations(schema_relation.database, schema_relation.schema) if self._adapter else []
        rows = [(r.database, r.identifier, r.schema, r.type) for r in rels]
        return Table(["database", "name", "schema", "type"], ["VARCHAR"] * 4, rows)

    def execute(self, sql: str, auto_begin: bool = False, fetch: bool = False) -> tuple[dict[str, Any], Table]:
        if self._adapter is None:
            return {"_message": ""}, Table([], [], [])
        result = self._adapter.execute(str(sql), fetch=fetch)
        return {"_message": result.message}, Table.from_result(result)

    def create_schema(self, relation: Relation) -> str:
        if self._adapter is not None:
            self._adapter.create_schema(relation.database, relation.schema)
        return ""

    def drop_relation(self, relation: Relation) -> str:
        if self._adapter is not None:
            self._adapter.drop_relation(relation)
        return ""

    def rename_relation(self, from_relation: Relation, to_relation: Relation) -> str:
        if self._adapter is not None:
            self._adapter.rename_relation(from_relation, to_relation.identifier)
        return ""

    def already_exists(self, schema: str, table: str) -> bool:
        return self.get_relation(None, schema, table) is not None

    def expand_target_column_types(self, from_relation: Any = None, to_relation: Any = None) -> str:
        return ""

    def commit(self) -> str:
        return ""

    def get_missing_columns(self, from_relation: Relation, to_relation: Relation) -> list[ColumnInfo]:
        target = {c.name.lower() for c in self.get_columns_in_relation(to_relation)}
        return [c for c in self.get_columns_in_relation(from_relation) if c.name.lower() not in target]
