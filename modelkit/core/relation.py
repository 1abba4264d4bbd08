"""Relation identities: where a node lives in the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace


def quote(identifier: str, char: str = '"') -> str:
    if char in identifier:
        identifier = identifier.replace(char, char + char)
    return f"{char}{identifier}{char}"


@dataclass(frozen=True)
class Relation(Mapping):  # type: ignore[type-arg]
    """A table or view, addressed by database, schema and identifier.

    Renders as the fully quoted name (``"db"."schema"."name"``), which is what
    ``ref()``, ``source()`` and ``this`` produce in templates. Like dbt's relations it is a mapping of
    its attributes (``relation['schema']``) whose ``get('metadata')`` names its class: packages such as
    dbt_utils check ``obj is mapping and obj.get('metadata', {}).get('type', '').endswith('Relation')``.
    """

    database: str | None
    schema: str | None
    identifier: str
    type: str | None = None  # "table", "view", "cte" or None when unknown
    quote_char: str = '"'
    # (column, start, end): a microbatch model's input, read one time window at a time
    event_time_filter: tuple[str, str, str] | None = None
    limit: int | None = None  # `--empty`: refs and sources read as a subquery with this limit (dbt's render_limited)

    def __str__(self) -> str:
        return self.render()

    def __getitem__(self, key: str) -> object:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise TypeError("A relation is not a dictionary")

    def __len__(self) -> int:
        raise TypeError("A relation is not a dictionary")

    def __bool__(self) -> bool:
        return True

    def get(self, key: str, default: object = None) -> object:
        if key == "metadata":
            return {"type": "DuckDBRelation"}
        return getattr(self, key, default)

    def __html__(self) -> str:  # keeps Jinja autoescape-safe markup untouched
        return self.render()

    def render(self) -> str:
        if self.type == "cte":
            rendered = self.identifier
        else:
            parts = [p for p in (self.database, self.schema, self.identifier) if p]
            rendered = ".".join(quote(p, self.quote_char) for p in parts)
        if self.event_time_filter is not None:
            column, start, end = self.event_time_filter
            rendered = (
                f"(select * from {rendered} where {column} >= '{start}' and {column} < '{end}') "
                f"_dbt_et_filter_subq_{self.identifier}"
            )
        if self.limit is None:
            return rendered
        # dbt's render_limited; DuckDB relations need no alias for the subquery (dbt-duckdb: require_alias False)
        where = " where false" if self.limit == 0 else ""
        return f"(select * from {rendered}{where} limit {self.limit})"

    def filtered(self, column: str, start: object, end: object) -> Relation:
        """This relation read only where ``column`` falls in ``[start, end)`` (as dbt filters microbatch inputs).

        >>> print(Relation("db", "main", "events").filtered("ts", "2024-01-01 00:00:00+00:00", "2024-01-02 00:00:00+00:00"))
        (select * from "db"."main"."events" where ts >= '2024-01-01 00:00:00+00:00' and ts < '2024-01-02 00:00:00+00:00') _dbt_et_filter_subq_events
        """
        return replace(self, event_time_filter=(column, str(start), str(end)))

    def limited(self, limit: int | None) -> Relation:
        """The relation read through dbt's limiting subquery (``--empty``: ``limit`` 0)."""
        return self if limit == self.limit else replace(self, limit=limit)

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    @property
    def is_cte(self) -> bool:
        return self.type == "cte"

    def replace_identifier(self, identifier: str) -> Relation:
        return replace(self, identifier=identifier)

    def replace_schema(self, schema: str) -> Relation:
        return replace(self, schema=schema)

    def with_type(self, type: str | None) -> Relation:
        return replace(self, type=type)

    def incorporate(self, path: dict | None = None, type: str | None = None) -> Relation:
        new = self
        if path:
            new = replace(
                new,
                database=path.get("database", new.database),
                schema=path.get("schema", new.schema),
                identifier=path.get("identifier", new.identifier),
            )
        if type is not None:
            new = replace(new, type=type)
        return new

    def include(self, database: bool = True, schema: bool = True, identifier: bool = True) -> Relation:
        return replace(
            self,
            database=self.database if database else None,
            schema=self.schema if schema else None,
            identifier=self.identifier if identifier else "",
        )

    def matches(self, other: Relation) -> bool:
        return (self.database, self.schema, self.identifier) == (other.database, other.schema, other.identifier)
