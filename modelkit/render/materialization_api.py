"""What dbt-adapters' and dbt-duckdb's materializations ask of the ``adapter`` object beyond introspection.

A project may copy dbt's materializations into its macros/ and run them unchanged: they name strategy macros
through the adapter, parse ``indexes:`` entries, ask how a snapshot treats hard deletes, and ask dbt-duckdb's
questions about the attached catalog.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from modelkit.core.errors import CompilationError
from modelkit.core.relation import Relation

if TYPE_CHECKING:
    from modelkit.render.columns import Column


class MaterializationMethods:
    """Methods of the ``adapter`` object (mixed into ``AdapterProxy``, which supplies the ones declared here)."""

    _context: Any
    _adapter: Any
    _renderer: Any

    def type(self) -> str:  # pragma: no cover - AdapterProxy's
        raise NotImplementedError

    def get_columns_in_relation(self, relation: Relation) -> list[Column]:  # pragma: no cover - AdapterProxy's
        raise NotImplementedError

    def quote(self, identifier: str) -> str:  # pragma: no cover - AdapterProxy's
        raise NotImplementedError

    # -- materialization helpers --------------------------------------------------
    # What dbt-adapters' and dbt-duckdb's materializations ask of the adapter object, so that a project may
    # copy them into its macros/ and run them unchanged.
    def renameable_relations(self) -> list[str]:
        """The relation types the engine renames in place (dbt-postgres's; none on DuckDB, as dbt-duckdb)."""
        return ["view", "table", "materialized_view"] if self.type() == "postgres" else []

    def replaceable_relations(self) -> list[str]:
        """The relation types ``create or replace`` replaces (dbt-postgres's; none on DuckDB, as dbt-duckdb)."""
        return ["view"] if self.type() == "postgres" else []

    def get_binding_char(self) -> str:
        """The placeholder of a bound parameter in the engine's driver."""
        return "%s" if self.type() == "postgres" else "?"

    def get_incremental_strategy_macro(self, model_context: Any, strategy: str | None) -> Any:
        """The ``get_incremental_<strategy>_sql`` macro of ``model_context`` (``+`` becomes ``_``)."""
        name = f"get_incremental_{str(strategy or 'default').replace('+', '_')}_sql"
        if name not in model_context:
            raise CompilationError(
                f'dbt could not find an incremental strategy macro with the name "{name}" in '
                f"{self._renderer.project.name}"
            )
        return model_context[name]

    def parse_index(self, raw_index: Mapping[str, Any]) -> IndexConfig | None:
        """An ``indexes:`` entry as dbt-postgres and dbt-duckdb read it; None for an empty one."""
        if not raw_index:
            return None
        if not isinstance(raw_index, Mapping) or not raw_index.get("columns"):
            raise CompilationError(f"Could not parse index config: {raw_index!r}: 'columns' is required")
        return IndexConfig(
            columns=[str(c) for c in raw_index["columns"]],
            unique=bool(raw_index.get("unique", False)),
            type=raw_index.get("type"),
        )

    # -- contracts: a table's columns and constraints as DDL (dbt's table_columns_and_constraints) ----
    def render_raw_columns_constraints(self, raw_columns: Mapping[str, Any]) -> list[str]:
        """``name data_type constraint ...`` for each declared column, in the engine's DDL."""
        ddl = self._constraint_sql()
        rendered = []
        for column in (raw_columns or {}).values():
            name = self.quote(column["name"]) if column.get("quote") else column["name"]
            parts = [f"{name} {column.get('data_type')}"]
            for constraint in column.get("constraints") or []:
                text = ddl.column_constraint(constraint) if ddl is not None else None
                if text:
                    parts.append(text)
            rendered.append(" ".join(parts))
        return rendered

    def render_raw_model_constraints(self, raw_constraints: Any) -> list[str]:
        """Each model-level constraint in the engine's DDL (those the engine cannot write left out)."""
        ddl = self._constraint_sql()
        if ddl is None:
            return []
        return [
            text for constraint in raw_constraints or [] if (text := ddl.model_constraint(constraint, quoted=False))
        ]

    def _constraint_sql(self) -> Any:
        adapter = self._adapter
        return adapter.sql if adapter is not None else None

    def get_hard_deletes_behavior(self, config: Any) -> str:
        """A snapshot's ``hard_deletes`` (ignore, invalidate or new_record); ``invalidate_hard_deletes: true``
        means invalidate."""
        behavior = config.get("hard_deletes")
        if behavior is None:
            return "invalidate" if config.get("invalidate_hard_deletes") else "ignore"
        if behavior not in ("ignore", "invalidate", "new_record"):
            raise CompilationError("Invalid setting for property hard_deletes.")
        return str(behavior)

    def assert_valid_snapshot_target_given_strategy(
        self, relation: Relation, column_names: Mapping[str, str], strategy: Mapping[str, Any]
    ) -> None:
        """The snapshot table has the meta columns the strategy writes."""
        if self._adapter is None:
            return
        if not isinstance(relation, Relation):
            raise CompilationError(
                f"adapter.assert_valid_snapshot_target_given_strategy: expected a Relation, got {relation!r}"
            )
        present = {c.name.lower() for c in self.get_columns_in_relation(relation)}
        wanted = ["dbt_scd_id", "dbt_valid_from", "dbt_valid_to"]
        if strategy.get("hard_deletes") == "new_record":
            wanted.append("dbt_is_deleted")
        missing = [column_names.get(k, k) for k in wanted if column_names.get(k, k).lower() not in present]
        if missing:
            raise CompilationError(
                f'Snapshot target is missing configured columns (missing "{", ".join(missing)}"). '
                "See https://docs.getdbt.com/docs/build/snapshots#snapshot-meta-fields for more information."
            )

    def warn_once(self, msg: str) -> str:
        """A warning, shown once for each distinct message of this render."""
        if msg not in self._warned:
            self._warned.add(msg)
            self._context["exceptions"].warn(msg)
        return ""

    @property
    def _warned(self) -> set[str]:
        return self.__dict__.setdefault("_warned_messages", set())

    # dbt-duckdb's questions about the attached catalog: modelkit attaches neither DuckLake nor MotherDuck,
    # and replaces a table with foreign keys as any other (the answers steer dbt-duckdb's materializations
    # onto their plain path).
    def is_ducklake(self, relation: Any = None) -> bool:
        return False

    def use_ducklake_table_workarounds(self, relation: Any = None) -> bool:
        return False

    def is_motherduck(self) -> bool:
        return False

    def disable_transactions(self) -> bool:
        return False

    def catalog_supports_foreign_keys(self, database: str | None = None) -> bool:
        return False

    def existing_key_constraint_types(self, relation: Any = None) -> list[str]:
        return []

    def ensure_transaction(self) -> None:
        return None

    def batch_id_for_model(self, model: Any) -> str:
        return ""


@dataclass(frozen=True)
class IndexConfig:
    """One ``indexes:`` entry; ``render(relation)`` names the index as dbt-postgres does (an md5 of its parts)."""

    columns: list[str]
    unique: bool = False
    type: str | None = None

    def render(self, relation: Relation) -> str:
        stamp = datetime.now(timezone.utc).isoformat()
        parts = f"{'_'.join(self.columns)}_{self.unique}_{self.type}_{relation.identifier}_{stamp}"
        return hashlib.md5(parts.encode("utf-8")).hexdigest()
