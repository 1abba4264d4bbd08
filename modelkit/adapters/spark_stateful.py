"""Spark SQL of the stateful materializations: incremental strategies, snapshots, freshness (seeds: spark_seeds).

Mixed into :class:`modelkit.adapters.spark.SparkAdapter`. ``append`` and ``insert_overwrite`` write
into the table in place. A Parquet table has no ``MERGE``, ``DELETE`` or ``UPDATE``: ``merge``,
``delete+insert``, a microbatch window and a snapshot's changes therefore *rewrite* the table. One
query computes every row the table should hold afterwards, a temporary table with the same definition
(``SHOW CREATE TABLE``: format, partitioning, properties, comments) is filled with it, and it is
swapped in. The cost is proportional to the whole table, not to the new rows; a table whose format
supports ``MERGE INTO`` (Delta Lake, Iceberg, Hudi: declared in :data:`FORMAT_CAPABILITIES`) is
changed in place instead, as dbt-spark does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from modelkit.adapters.base import Capability, ColumnInfo, QueryResult, RelationOptions, SnapshotSpec, TableSchema
from modelkit.adapters.snapshot_sql import is_current_sql, snapshot_first_build_sql, snapshot_staging_sql
from modelkit.adapters.spark_seeds import SparkSeeds
from modelkit.adapters.spark_sql import SPARK_SNAPSHOT, columns_list, quote, relation_name
from modelkit.core.errors import DatabaseError
from modelkit.core.relation import Relation

SOURCE, DEST = "DBT_INTERNAL_SOURCE", "DBT_INTERNAL_DEST"
# What a table's format adds to a plain Parquet table (dbt-spark's is_delta / is_iceberg / is_hudi).
FORMAT_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "delta": frozenset({Capability.MERGE_INTO}),
    "iceberg": frozenset({Capability.MERGE_INTO}),
    "hudi": frozenset({Capability.MERGE_INTO}),
}


class SparkStatefulMixin(SparkSeeds):
    """Incremental strategies, snapshots and freshness over the adapter's statements, temporary tables
    and swap."""

    # -- tables built in two steps ----------------------------------------------
    def replace_table_with_schema(
        self,
        relation: Relation,
        schema: TableSchema,
        sql: str,
        options: RelationOptions | None = None,
        *,
        sql_header: str | None = None,
    ) -> QueryResult:
        """Declare the columns' types first, then fill the table (constraints are not declared: Spark's data
        source tables check none)."""
        declared = ", ".join(f"{quote(name)} {data_type}" for name, data_type, _ in schema.columns)
        names = columns_list([name for name, _, _ in schema.columns])
        with self.transaction():
            candidate = self.temp_relation(relation)
            self.execute(
                self.sql.with_header(
                    sql_header, f"create table {relation_name(candidate)} ({declared})\n{self.table_clauses(options)}"
                )
            )
            self.execute(
                f"insert into {relation_name(candidate)} ({names})\nselect {names} from (\n{sql}\n) as model_subq"
            )
            self.swap(relation, candidate)
        return QueryResult(message="OK")

    def _capabilities(self, relation: Relation) -> frozenset[Capability]:
        """What the table's format adds (its provider, from ``describe table extended``)."""
        rows = self.execute(f"describe table extended {relation_name(relation)}", fetch=True).rows
        provider = next((str(dtype).lower() for name, dtype, _ in rows if name == "Provider"), "parquet")
        return FORMAT_CAPABILITIES.get(provider, frozenset())

    def _definition(self, relation: Relation, name: str) -> str:
        """``relation``'s ``CREATE TABLE`` statement, for a table named ``name``."""
        text = str(self.execute(f"show create table {relation_name(relation)}", fetch=True).rows[0][0])
        head, parenthesis, rest = text.partition("(\n")
        if not parenthesis or not head.upper().startswith("CREATE TABLE"):
            raise DatabaseError(f"Cannot read the definition of {relation_name(relation)} to rewrite it:\n{text}")
        if re.search(r"^LOCATION ", rest, re.MULTILINE):
            raise DatabaseError(
                f"{relation_name(relation)} is an external table (it has a LOCATION): modelkit rewrites only "
                "managed tables; drop it, or run with --full-refresh"
            )
        return f"CREATE TABLE {name} (\n{rest}"

    def rewrite(self, relation: Relation, select: str) -> None:
        """Make ``select``'s rows (in the table's column order) the table's: a copy built, then swapped in."""
        columns = columns_list([c.name for c in self.get_columns(relation)])
        with self.transaction():
            candidate = self.temp_relation(relation)
            self.execute(self._definition(relation, relation_name(candidate)))
            self.execute(f"insert into {relation_name(candidate)} ({columns})\n{select}")
            self.swap(relation, candidate)

    # -- incremental models --------------------------------------------------
    def create_temp_table(self, relation: Relation, sql: str, *, sql_header: str | None = None) -> Relation:
        """Staging rows in a real (Parquet) table: a temporary view would run the query again, against a
        target that may have changed in between."""
        temp = self.temp_relation(relation)
        clauses = self.table_clauses(None, staging=True)
        self.execute(self.sql.with_header(sql_header, f"create table {relation_name(temp)}\n{clauses}\nas\n{sql}"))
        return temp

    def insert_into(self, target: Relation, source: Relation, columns: Sequence[str]) -> QueryResult:
        cols = columns_list(columns)
        self.execute(f"insert into {relation_name(target)} ({cols})\nselect {cols} from {relation_name(source)}")
        return QueryResult(message="OK")

    def insert_overwrite(
        self, target: Relation, source: Relation, columns: Sequence[str], partition_by: Sequence[str]
    ) -> QueryResult:
        """dbt-spark's ``insert_overwrite``: the partitions the new rows fall in are replaced (dynamic
        partition overwrite: Spark writes them aside and swaps them in when the job commits).

        A table without partitions is replaced whole: rewritten (built aside, swapped in), since
        Spark's overwrite of an unpartitioned table deletes its files before it writes the new ones.
        """
        select = self._aligned(target, f"{relation_name(source)} as {SOURCE}", columns, SOURCE)
        if not self._partition_columns(target):
            self.rewrite(target, select)
        else:
            self.execute(f"insert overwrite table {relation_name(target)}\n{select}")
        return QueryResult(message="OK")

    def _partition_columns(self, relation: Relation) -> list[str]:
        rows = self.execute(f"describe table {relation_name(relation)}", fetch=True).rows
        names = [str(name) for name, _, _ in rows]
        if "# Partition Information" not in names:
            return []
        section = names[names.index("# Partition Information") + 1 :]
        return [name for name in section if name and not name.startswith("#")]

    def _aligned(self, target: Relation, source: str, columns: Sequence[str], alias: str, where: str = "") -> str:
        """``select`` of the target's columns in its order from ``source``: NULL for a column not written."""
        written = {c.lower() for c in columns}
        parts = [
            f"cast({alias}.{quote(c.name)} as {c.data_type})"
            if c.name.lower() in written
            else f"cast(null as {c.data_type})"
            for c in self.get_columns(target)
        ]
        return f"select {', '.join(parts)}\nfrom {source}" + (f"\nwhere {where}" if where else "")

    def _kept(self, target: Relation, condition: str) -> str:
        """The target's rows where ``condition`` (on ``DBT_INTERNAL_DEST``) is not true."""
        return f"select * from {relation_name(target)} as {DEST}\nwhere not coalesce({condition}, false)"

    def delete_insert(
        self,
        target: Relation,
        source: Relation,
        columns: Sequence[str],
        unique_key: Sequence[str],
        predicates: Sequence[str],
    ) -> QueryResult:
        if not unique_key:
            return self.insert_into(target, source, columns)
        matches = " and ".join(f"{SOURCE}.{k} = {DEST}.{k}" for k in unique_key)
        condition = " and ".join(
            [
                f"exists (select 1 from {relation_name(source)} as {SOURCE} where {matches})",
                *(f"({p})" for p in predicates),
            ]
        )
        if Capability.MERGE_INTO in self._capabilities(target):
            self.execute(f"delete from {relation_name(target)} as {DEST}\nwhere {condition}")
            return self.insert_into(target, source, columns)
        new_rows = self._aligned(target, f"{relation_name(source)} as {SOURCE}", columns, SOURCE)
        self.rewrite(target, f"{self._kept(target, condition)}\nunion all\n{new_rows}")
        return QueryResult(message="OK")

    def replace_window(
        self, target: Relation, source: Relation, columns: Sequence[str], column: str, start: str, end: str
    ) -> QueryResult:
        """A microbatch: the target's rows whose ``column`` is in ``[start, end)`` are replaced by ``source``'s."""
        condition = f"{DEST}.{column} >= '{start}' and {DEST}.{column} < '{end}'"
        if Capability.MERGE_INTO in self._capabilities(target):
            self.execute(f"delete from {relation_name(target)} as {DEST}\nwhere {condition}")
            return self.insert_into(target, source, columns)
        new_rows = self._aligned(target, f"{relation_name(source)} as {SOURCE}", columns, SOURCE)
        self.rewrite(target, f"{self._kept(target, condition)}\nunion all\n{new_rows}")
        return QueryResult(message="OK")

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
        """Matching rows take ``update_columns`` from the source, the others are inserted.

        Rewritten for a Parquet table: the target left-joined to the new rows (each matched row updated)
        and the new rows that match none. As with MERGE, a source holding a key twice is an error of
        the model; here it duplicates the matched row instead of failing.
        """
        if sql_header:  # the adapter's session runs it before the statements of the merge
            self.execute(sql_header)
        if not unique_key:
            return self.insert_into(target, source, columns)
        on = " and ".join([f"{SOURCE}.{k} = {DEST}.{k}" for k in unique_key] + [f"({p})" for p in predicates])
        src, dest = f"{relation_name(source)} as {SOURCE}", f"{relation_name(target)} as {DEST}"
        if Capability.MERGE_INTO in self._capabilities(target):
            sets = ", ".join(f"{DEST}.{quote(c)} = {SOURCE}.{quote(c)}" for c in update_columns)
            values = ", ".join(f"{SOURCE}.{quote(c)}" for c in columns)
            matched = f"\nwhen matched then update set {sets}" if sets else ""
            self.execute(
                f"merge into {dest}\nusing {src}\non {on}{matched}\n"
                f"when not matched then insert ({columns_list(columns)}) values ({values})"
            )
            return QueryResult(message="OK")
        updated = {c.lower() for c in update_columns}
        flag = "modelkit_matched"
        parts = []
        for column in self.get_columns(target):
            name, kept = quote(column.name), f"{DEST}.{quote(column.name)}"
            if column.name.lower() in updated:
                parts.append(
                    f"case when {SOURCE}.{flag} then cast({SOURCE}.{name} as {column.data_type}) else {kept} end"
                )
            else:
                parts.append(kept)
        matched_rows = (
            f"select {', '.join(parts)}\nfrom {dest}\n"
            f"left join (select *, true as {flag} from {relation_name(source)}) as {SOURCE}\non {on}"
        )
        new_rows = self._aligned(target, src, columns, SOURCE, where=f"not exists (select 1 from {dest} where {on})")
        self.rewrite(target, f"{matched_rows}\nunion all\n{new_rows}")
        return QueryResult(message="OK")

    def add_columns(self, relation: Relation, columns: Sequence[ColumnInfo]) -> None:
        if columns:
            added = ", ".join(f"{quote(c.name)} {c.data_type}" for c in columns)
            self.execute(f"alter table {relation_name(relation)} add columns ({added})")

    def drop_columns(self, relation: Relation, names: Sequence[str]) -> None:
        if names:
            self._schema_change(relation, f"drop columns ({columns_list(names)})", "drop columns")

    def alter_column_type(self, relation: Relation, name: str, data_type: str) -> None:
        self._schema_change(relation, f"alter column {quote(name)} type {data_type}", "change a column's type")

    def _schema_change(self, relation: Relation, change: str, what: str) -> None:
        try:
            self.execute(f"alter table {relation_name(relation)} {change}")
        except DatabaseError as exc:
            raise DatabaseError(
                f"{exc.message}\nA Spark table in this format cannot {what} (Parquet tables cannot; Delta Lake and "
                "Iceberg tables can): use on_schema_change: append_new_columns, or rebuild with --full-refresh."
            ) from None

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
        select = snapshot_first_build_sql(sql, spec, SPARK_SNAPSHOT)
        return self.replace_table(relation, select, options, sql_header=sql_header)

    def stage_snapshot(
        self, relation: Relation, sql: str, spec: SnapshotSpec, *, sql_header: str | None = None
    ) -> Relation:
        source_columns = [c.name for c in self.describe_query(sql)]
        target_columns = {c.name.lower() for c in self.get_columns(relation)}
        staging = snapshot_staging_sql(relation, sql, spec, source_columns, target_columns, SPARK_SNAPSHOT)
        return self.create_temp_table(relation, staging, sql_header=sql_header)

    def apply_snapshot(
        self, relation: Relation, staging: Relation, columns: Sequence[str], spec: SnapshotSpec
    ) -> QueryResult:
        """Close the changed and deleted rows, add the new versions: MERGE INTO, or a rewrite."""
        n = spec.names
        scd, valid_to = quote(n["dbt_scd_id"]), quote(n["dbt_valid_to"])
        changes = f"{relation_name(staging)} where dbt_change_type in ('update', 'delete')"
        inserts = "dbt_change_type = 'insert'"
        if Capability.MERGE_INTO in self._capabilities(relation):
            self.execute(
                f"merge into {relation_name(relation)} as {DEST}\nusing (select * from {changes}) as {SOURCE}\n"
                f"on {SOURCE}.{scd} = {DEST}.{scd} and {is_current_sql(f'{DEST}.{valid_to}', spec)}\n"
                f"when matched then update set {DEST}.{valid_to} = {SOURCE}.{valid_to}"
            )
            cols = columns_list(columns)
            self.execute(
                f"insert into {relation_name(relation)} ({cols})\nselect {cols} from {relation_name(staging)}\n"
                f"where {inserts}"
            )
            return QueryResult(message="OK")
        closing = f"select {scd} as closed_scd, max({valid_to}) as closed_at from {changes} group by {scd}"
        parts = []
        for column in self.get_columns(relation):
            name = f"{DEST}.{quote(column.name)}"
            if column.name.lower() == n["dbt_valid_to"].lower():
                name = f"case when {SOURCE}.closed_scd is null then {name} else cast({SOURCE}.closed_at as {column.data_type}) end"
            parts.append(name)
        history = (
            f"select {', '.join(parts)}\nfrom {relation_name(relation)} as {DEST}\n"
            f"left join ({closing}) as {SOURCE}\n"
            f"on {SOURCE}.closed_scd = {DEST}.{scd} and {is_current_sql(f'{DEST}.{valid_to}', spec)}"
        )
        new_rows = self._aligned(relation, f"{relation_name(staging)} as {SOURCE}", columns, SOURCE, where=inserts)
        self.rewrite(relation, f"{history}\nunion all\n{new_rows}")
        return QueryResult(message="OK")

    # -- sources freshness ---------------------------------------------------
    def max_loaded_at(self, relation: Relation, loaded_at_field: str, filter: str | None) -> tuple[Any, Any]:
        where = f"\nwhere {filter}" if filter else ""
        rows = self.execute(
            f"select max({loaded_at_field}) as max_loaded_at, {SPARK_SNAPSHOT.now} as snapshotted_at\n"
            f"from {relation_name(relation)}{where}",
            fetch=True,
        ).rows
        return rows[0][0], rows[0][1]
