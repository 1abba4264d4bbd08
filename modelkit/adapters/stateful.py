"""The SQL of the stateful materializations that engines of the common dialect share.

Incremental strategies over a staging table, ``on_schema_change`` column changes, snapshots (dbt's
staging query of inserts, updates and deletes, then one update and one insert) and source freshness.
An engine's stateful mixin inherits :class:`StandardStateful` and adds what differs: seeds, staging
tables, the contracted table's declaration, and whether it has a ``MERGE`` statement. Every method
here runs inside ``adapter.transaction()`` (except ``max_loaded_at``, which only reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modelkit.adapters.base import ColumnInfo, QueryResult, RelationOptions, SnapshotSpec
from modelkit.adapters.snapshot_sql import is_current_sql, snapshot_first_build_sql, snapshot_staging_sql
from modelkit.core.relation import Relation, quote

if TYPE_CHECKING:
    from modelkit.adapters.sql import StandardSQL
    from modelkit.project.profiles import Target

SOURCE, DEST = "DBT_INTERNAL_SOURCE", "DBT_INTERNAL_DEST"


def sql_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def column_list(names: Sequence[str]) -> str:
    return ", ".join(quote(n) for n in names)


def conjunction(parts: Sequence[str]) -> str:
    return " and ".join(f"({p})" for p in parts)


class StandardStateful:
    """Primitives over ``self.execute`` (provided by the adapter)."""

    target: Target
    sql: StandardSQL

    def execute(self, sql: str, *, fetch: bool = False) -> QueryResult: ...  # pragma: no cover - the adapter's

    def describe_query(self, sql: str) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def get_columns(self, relation: Relation) -> list[ColumnInfo]: ...  # pragma: no cover - the adapter's

    def create_temp_table(  # pragma: no cover - the engine's
        self, relation: Relation, sql: str, *, sql_header: str | None = None
    ) -> Relation: ...

    def _remember(self, relation: Relation | None, key: tuple[str, str], identifier: str) -> None: ...

    def _key(self, database: str | None, schema: str | None) -> tuple[str, str]: ...

    def merge_statement(self) -> bool:
        """Whether the engine runs ``MERGE`` (else a merge is an update and an insert)."""
        return True

    def _count(self, sql: str) -> int:
        rows = self.execute(sql, fetch=True).rows
        return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0

    # -- persist_docs ---------------------------------------------------------
    def comment_on_relation(self, relation: Relation, comment: str) -> None:
        kind = "view" if relation.type == "view" else "table"
        self.execute(self.sql.comment_on_relation(kind, relation.render(), comment))

    def comment_on_columns(self, relation: Relation, comments: Sequence[tuple[str, bool, str]]) -> None:
        if comments:
            rendered = relation.render()
            self.execute(
                "\n".join(
                    self.sql.comment_on_column(rendered, quote(name) if quoted else name, comment)
                    for name, quoted, comment in comments
                )
            )

    # -- incremental models --------------------------------------------------
    def insert_into(self, target: Relation, source: Relation, columns: Sequence[str]) -> QueryResult:
        cols = column_list(columns)
        return self.execute(f"insert into {target.render()} ({cols})\n(select {cols} from {source.render()})")

    def delete_insert(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
    ) -> QueryResult:
        """dbt's delete+insert: one key as ``(key) in (...)``, several through ``using``."""
        extra = "".join(f"\n  and {p}" for p in predicates)
        if len(unique_key) == 1:
            key = unique_key[0]
            self.execute(
                f"delete from {target.render()}\nwhere ({key}) in (select ({key}) from {source.render()}){extra}"
            )
        elif unique_key:
            on = " and ".join(f"{SOURCE}.{k} = DBT_INCREMENTAL_TARGET.{k}" for k in unique_key)
            self.execute(
                f"delete from {target.render()} as DBT_INCREMENTAL_TARGET\n"
                f"using {source.render()} as {SOURCE}\nwhere ({on}{extra})"
            )
        return self.insert_into(target, source, columns)

    def replace_window(
        self, target: Relation, source: Relation, columns: Sequence[str], column: str, start: str, end: str
    ) -> QueryResult:
        """A microbatch: delete the target's rows whose ``column`` is in ``[start, end)``, insert ``source``'s."""
        self.execute(
            f"delete from {target.render()}\nwhere {column} >= {sql_literal(start)} and {column} < {sql_literal(end)}"
        )
        return self.insert_into(target, source, columns)

    def merge(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        update_columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        on = (
            conjunction([f"{SOURCE}.{k} = {DEST}.{k}" for k in unique_key] + list(predicates))
            if unique_key
            else "FALSE"
        )
        sets = ", ".join(f"{quote(c)} = {SOURCE}.{quote(c)}" for c in update_columns)
        values = ", ".join(f"{SOURCE}.{quote(c)}" for c in columns)
        if self.merge_statement():
            matched = f"update set {sets}" if sets else "do nothing"
            merge = (
                f"merge into {target.render()} as {DEST}\nusing {source.render()} as {SOURCE}\non {on}\n"
                f"when matched then {matched}\n"
                f"when not matched then insert ({column_list(columns)}) values ({values})"
            )
            return self.execute(self.sql.with_header(sql_header, merge))
        if sql_header:
            self.execute(sql_header)
        if unique_key and sets:  # no MERGE statement: update, then insert the rest
            self.execute(
                f"update {target.render()} as {DEST} set {sets}\nfrom {source.render()} as {SOURCE}\nwhere {on}"
            )
        return self.execute(
            f"insert into {target.render()} ({column_list(columns)})\nselect {values} from {source.render()} as {SOURCE}\n"
            f"where not exists (select 1 from {target.render()} as {DEST} where {on})"
        )

    def add_columns(self, relation: Relation, columns: Sequence[ColumnInfo]) -> None:
        for column in columns:
            self.execute(f"alter table {relation.render()} add column {quote(column.name)} {column.data_type}")

    def drop_columns(self, relation: Relation, names: Sequence[str]) -> None:
        for name in names:
            self.execute(f"alter table {relation.render()} drop column {quote(name)}")

    def alter_column_type(self, relation: Relation, name: str, data_type: str) -> None:
        self.execute(f"alter table {relation.render()} alter column {quote(name)} type {data_type}")

    # -- snapshots -----------------------------------------------------------
    def create_snapshot_table(
        self,
        relation: Relation,
        sql: str,
        spec: SnapshotSpec,
        options: RelationOptions | None = None,
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        select = snapshot_first_build_sql(sql, spec)
        result = self.execute(self.sql.with_header(sql_header, f"create table {relation.render()} as (\n{select}\n)"))
        self._remember(relation.with_type("table"), self._key(relation.database, relation.schema), relation.identifier)
        return result

    def stage_snapshot(
        self, relation: Relation, sql: str, spec: SnapshotSpec, *, sql_header: str | None = None
    ) -> Relation:
        source_columns = [c.name for c in self.describe_query(sql)]
        target_columns = {c.name.lower() for c in self.get_columns(relation)}
        return self.create_temp_table(
            relation, snapshot_staging_sql(relation, sql, spec, source_columns, target_columns), sql_header=sql_header
        )

    def apply_snapshot(
        self, relation: Relation, staging: Relation, columns: Sequence[str], spec: SnapshotSpec
    ) -> QueryResult:
        n = spec.names
        scd, valid_to = quote(n["dbt_scd_id"]), quote(n["dbt_valid_to"])
        current = is_current_sql(f"{DEST}.{valid_to}", spec)
        self.execute(
            f"update {relation.render()} as {DEST}\nset {valid_to} = {SOURCE}.{valid_to}\n"
            f"from {staging.render()} as {SOURCE}\nwhere {SOURCE}.{scd}::text = {DEST}.{scd}::text\n"
            f"  and {SOURCE}.dbt_change_type in ('update', 'delete')\n  and {current}"
        )
        cols = column_list(columns)
        return self.execute(
            f"insert into {relation.render()} ({cols})\nselect {cols} from {staging.render()}\n"
            "where dbt_change_type = 'insert'"
        )

    # -- sources freshness ---------------------------------------------------
    def max_loaded_at(self, relation: Relation, loaded_at_field: str, filter: str | None) -> tuple[Any, Any]:
        where = f"\nwhere {filter}" if filter else ""
        rows = self.execute(
            f"select max({loaded_at_field}) as max_loaded_at, now() as snapshotted_at\nfrom {relation.render()}{where}",
            fetch=True,
        ).rows
        return rows[0][0], rows[0][1]
