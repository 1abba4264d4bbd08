"""Relation identities: where a node lives in the database."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any


def quote(identifier: str, char: str = '"') -> str:
    if char in identifier:
        identifier = identifier.replace(char, char + char)
    return f"{char}{identifier}{char}"


Policy = tuple[bool, bool, bool]  # (database, schema, identifier)
ALL_PARTS: Policy = (True, True, True)


def render_name(
    database: str | None,
    schema: str | None,
    identifier: str,
    quote_policy: Policy = ALL_PARTS,
    include_policy: Policy = ALL_PARTS,
    char: str = '"',
) -> str:
    """A relation's name (what :meth:`Relation.render` gives), without making the relation.

    >>> render_name("db", None, "orders", (True, True, False))
    '"db".orders'
    """
    parts = []
    for part, included, quoted in zip((database, schema, identifier), include_policy, quote_policy):
        if included and part:
            parts.append(quote(part, char) if quoted else part)
    return ".".join(parts)


def quote_policy(*layers: Mapping[str, Any] | None) -> Policy:
    """The (database, schema, identifier) quote policy of ``quoting:`` settings, later layers winning
    (dbt: the project's ``quoting:``, then a node's ``quoting`` config or a source's ``quoting:``)."""
    policy = ALL_PARTS
    for layer in layers:
        if isinstance(layer, Mapping):
            parts = [layer.get(k) for k in ("database", "schema", "identifier")]
            policy = _policy(policy, *(None if v is None else _truthy(v) for v in parts))
    return policy


def _truthy(value: Any) -> bool:
    return value.strip().lower() not in ("false", "0", "no", "") if isinstance(value, str) else bool(value)


def _policy(current: Policy, database: bool | None, schema: bool | None, identifier: bool | None) -> Policy:
    return tuple(old if new is None else bool(new) for old, new in zip(current, (database, schema, identifier)))  # type: ignore[return-value]


@dataclass(frozen=True)
class Relation(Mapping):
    """A table or view, addressed by database, schema and identifier.

    Renders as the fully quoted name (``"db"."schema"."name"``), which is what
    ``ref()``, ``source()`` and ``this`` produce in templates. As dbt's relations,
    it carries an include policy (which parts ``render()`` writes) and a quote
    policy (which parts it quotes), each a (database, schema, identifier) triple,
    and it is a read-only mapping of its fields whose ``get('metadata')`` names its
    type (packages such as dbt_utils test ``obj is mapping`` to recognize relations).
    """

    database: str | None
    schema: str | None
    identifier: str
    type: str | None = None  # "table", "view", "cte" or None when unknown
    quote_char: str = '"'
    # (column, start, end): a microbatch model's input, read one time window at a time
    event_time_filter: tuple[str, str, str] | None = None
    limit: int | None = None  # `--empty`: refs and sources read as a subquery with this limit (dbt's render_limited)
    limit_alias: bool = False  # the limiting and filtering subqueries get an alias (dbt's require_alias)
    include_policy: Policy = ALL_PARTS
    quote_policy: Policy = ALL_PARTS

    @classmethod
    def create(
        cls,
        database: str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
        type: str | None = None,
        quote_policy: Mapping[str, bool | None] | None = None,
        include_policy: Mapping[str, bool | None] | None = None,
        **_: object,
    ) -> Relation:
        """dbt's ``Relation.create``: policies are dicts keyed by part (``{"identifier": False}``)."""
        relation = cls(database, schema, identifier or "", type)
        if quote_policy:
            relation = relation.quote(**_parts(quote_policy))
        if include_policy:
            relation = relation.include(**_parts(include_policy))
        return relation

    def __str__(self) -> str:
        """The relation as a query reads it (``{{ ref('x') }}``): through ``--empty``'s limit and a microbatch
        window's filter when it has them, as dbt's ``Relation.__str__``."""
        rendered = self.render_limited()
        if self.event_time_filter is not None:  # the window's filter wraps the limited subquery, as in dbt
            column, start, end = self.event_time_filter
            alias = f" _dbt_et_filter_subq_{self.identifier}" if self.limit_alias else ""
            rendered = f"(select * from {rendered} where {column} >= '{start}' and {column} < '{end}'){alias}"
        return rendered

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except (AttributeError, TypeError):
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter([f.name for f in fields(self)])

    def __len__(self) -> int:
        return len(fields(self))

    def get(self, key: str, default: Any = None) -> Any:
        if key == "metadata":
            return {"type": type(self).__name__}
        return super().get(key, default)

    def __html__(self) -> str:  # keeps Jinja autoescape-safe markup untouched
        return str(self)

    def _with(self, **changes: Any) -> Relation:
        """``dataclasses.replace`` without looking the fields up again each time (a run makes relations by the
        thousand); the fields changed are fields of the class, as replace would check."""
        new = object.__new__(type(self))
        state = vars(new)
        state.update(vars(self))
        state.update(changes)
        return new

    def render(self) -> str:
        """The relation's name alone (what DDL needs), never limited or filtered, as dbt's ``render()``.

        >>> relation = Relation("db", "main", "orders").limited(0)
        >>> relation.render()
        '"db"."main"."orders"'
        >>> str(relation)
        '(select * from "db"."main"."orders" where false limit 0)'
        """
        if self.type == "cte":
            return self.identifier
        return render_name(
            self.database, self.schema, self.identifier, self.quote_policy, self.include_policy, self.quote_char
        )

    def render_limited(self) -> str:
        """dbt's ``render_limited``: the name, or a subquery reading at most ``limit`` rows (``--empty``: none).

        The subquery gets an alias only where the engine requires one (``limit_alias``, dbt's ``require_alias``).
        """
        rendered = self.render()
        if self.limit is None:
            return rendered
        where = " where false" if self.limit == 0 else ""
        alias = f" _dbt_limit_subq_{self.identifier}" if self.limit_alias else ""
        return f"(select * from {rendered}{where} limit {self.limit}){alias}"

    def filtered(self, column: str, start: object, end: object) -> Relation:
        """This relation read only where ``column`` falls in ``[start, end)`` (as dbt filters microbatch inputs).

        >>> print(Relation("db", "main", "events").filtered("ts", "2024-01-01 00:00:00+00:00", "2024-01-02 00:00:00+00:00"))
        (select * from "db"."main"."events" where ts >= '2024-01-01 00:00:00+00:00' and ts < '2024-01-02 00:00:00+00:00')
        """
        return self._with(event_time_filter=(column, str(start), str(end)))

    def limited(self, limit: int | None, alias: bool = False) -> Relation:
        """The relation read through dbt's limiting subquery (``--empty``: ``limit`` 0), aliased if ``alias``.

        >>> print(Relation("db", "main", "a").limited(0, alias=True))
        (select * from "db"."main"."a" where false limit 0) _dbt_limit_subq_a
        """
        if limit == self.limit and alias == self.limit_alias:
            return self
        return self._with(limit=limit, limit_alias=alias)

    @property
    def name(self) -> str:
        return self.identifier

    @property
    def table(self) -> str:
        return self.identifier

    @property
    def path(self) -> dict[str, str | None]:
        return {"database": self.database, "schema": self.schema, "identifier": self.identifier or None}

    @property
    def is_table(self) -> bool:
        return self.type == "table"

    @property
    def is_view(self) -> bool:
        return self.type == "view"

    @property
    def is_cte(self) -> bool:
        return self.type == "cte"

    @property
    def is_materialized_view(self) -> bool:
        return self.type == "materialized_view"

    def quoted_with(self, char: str) -> Relation:
        """The same relation quoting its parts with ``char`` (an engine's identifier quote).

        >>> print(Relation(None, "main", "orders").quoted_with("`"))
        `main`.`orders`
        """
        return self if char == self.quote_char else self._with(quote_char=char)

    def replace_identifier(self, identifier: str) -> Relation:
        return self._with(identifier=identifier)

    def replace_schema(self, schema: str) -> Relation:
        return self._with(schema=schema)

    def with_type(self, type: str | None) -> Relation:
        return self._with(type=type)

    def incorporate(self, path: Mapping[str, str | None] | None = None, type: str | None = None) -> Relation:
        new = self
        if path:
            new = new._with(
                database=path.get("database", new.database),
                schema=path.get("schema", new.schema),
                identifier=path.get("identifier", new.identifier) or "",
            )
        if type is not None:
            new = new._with(type=type)
        return new

    def include(
        self, database: bool | None = None, schema: bool | None = None, identifier: bool | None = None
    ) -> Relation:
        """The same relation rendering only the parts included (``None`` keeps a part as it is)."""
        return self._with(include_policy=_policy(self.include_policy, database, schema, identifier))

    def quote(
        self, database: bool | None = None, schema: bool | None = None, identifier: bool | None = None
    ) -> Relation:
        """The same relation quoting only the parts asked (``None`` keeps a part as it is)."""
        return self._with(quote_policy=_policy(self.quote_policy, database, schema, identifier))

    def without_identifier(self) -> Relation:
        """The schema this relation is in (renders as ``"db"."schema"``)."""
        return self.include(identifier=False)._with(identifier="")

    def matches(
        self,
        database: Relation | str | None = None,
        schema: str | None = None,
        identifier: str | None = None,
    ) -> bool:
        """Same database, schema and identifier as another relation, or as the parts given."""
        if isinstance(database, Relation):
            other = database
            return (self.database, self.schema, self.identifier) == (other.database, other.schema, other.identifier)
        wanted = {"database": database, "schema": schema, "identifier": identifier}
        return all(getattr(self, key) == value for key, value in wanted.items() if value is not None)


def _parts(policy: Mapping[str, bool | None]) -> dict[str, bool | None]:
    return {key: policy.get(key) for key in ("database", "schema", "identifier")}
