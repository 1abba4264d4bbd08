"""What the DuckDB adapter reads of DuckDB's catalog: the statements and what their rows become.

Three reads: the relations of every schema (the adapter's relation cache), each relation's columns in
some schemas (``get_catalog``, for docs) and what each relation looks like (``relation_states``, which
``--skip-unchanged`` compares with what it recorded: two queries, read at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from modelkit.adapters.stateful import sql_literal
from modelkit.core.relation import Relation, quote

Pair = tuple[str, str]  # (database, schema), lower-cased
Key = tuple[str, str, str]

# every relation (the adapter's relation cache)
RELATIONS_SQL = (
    "select database_name, schema_name, table_name, 'table' from duckdb_tables() where not internal union all "
    "select database_name, schema_name, view_name, 'view' from duckdb_views() where not internal"
)


def _wanted(pairs: Iterable[Pair], prefix: str = "") -> str:
    return " or ".join(
        f"(lower({prefix}database_name) = {sql_literal(db)} and lower({prefix}schema_name) = {sql_literal(schema)})"
        for db, schema in pairs
    )


def relations_by_schema(rows: Iterable[Sequence[Any]]) -> dict[Pair, dict[str, Relation]]:
    """The relation cache from :data:`RELATIONS_SQL`'s rows: relations by (database, schema), by name."""
    found: dict[Pair, dict[str, Relation]] = {}
    for db, schema, name, kind in rows:
        found.setdefault((db.lower(), schema.lower()), {})[name.lower()] = Relation(db, schema, name, kind)
    return found


def columns_sql(pairs: Iterable[Pair]) -> str:
    """Each relation's columns in these schemas, as one string (``name type, ...``)."""
    return (
        "select database_name, schema_name, table_name, "
        "string_agg(column_name || ' ' || data_type, ', ' order by column_index) "
        f"from duckdb_columns() where not internal and ({_wanted(pairs)}) group by all"
    )


def kinds_sql(pairs: Iterable[Pair]) -> str:
    """Each relation of these schemas with what tells its change: ``table <estimated size>`` or ``view <md5
    of its SQL>`` (worked out by DuckDB: the rows come back short)."""
    return (
        "select database_name, schema_name, table_name, 'table ' || estimated_size from duckdb_tables() "
        f"where not internal and ({_wanted(pairs)}) union all "
        "select database_name, schema_name, view_name, 'view ' || md5(sql) from duckdb_views() "
        f"where not internal and ({_wanted(pairs)})"
    )


def relation_states(columns: Iterable[Sequence[Any]], kinds: Iterable[Sequence[Any]]) -> dict[Key, str]:
    """What each relation looks like (``table <estimated size>: <columns>``, ``view <md5 of its SQL>:
    <columns>``) from :func:`columns_sql`'s and :func:`kinds_sql`'s rows.

    >>> relation_states([("D", "s", "t", "id INTEGER"), ("D", "s", "v", "id INTEGER")],
    ...                 [("D", "s", "t", "table 12"), ("D", "s", "v", "view 95adb6e7")])
    {('d', 's', 't'): 'table 12: id INTEGER', ('d', 's', 'v'): 'view 95adb6e7: id INTEGER'}
    """
    known = {(db.lower(), schema.lower(), name.lower()): kind for db, schema, name, kind in kinds}
    out: dict[Key, str] = {}
    for db, schema, name, described in columns:
        key = (db.lower(), schema.lower(), name.lower())
        kind = known.get(key)
        if kind is not None:
            out[key] = f"{kind}: {described}"
    return out


def catalog_sql(pairs: Iterable[Pair]) -> str:
    """Every column of the relations in these schemas, with its relation's kind and comments, in order."""
    return (
        "select c.database_name, c.schema_name, c.table_name, c.column_name, c.data_type, c.comment, "
        "case when t.table_name is null then 'VIEW' else 'BASE TABLE' end, coalesce(t.comment, v.comment) "
        "from duckdb_columns() c "
        "left join duckdb_tables() t on t.database_name = c.database_name and t.schema_name = c.schema_name "
        "and t.table_name = c.table_name "
        "left join duckdb_views() v on v.database_name = c.database_name and v.schema_name = c.schema_name "
        "and v.view_name = c.table_name "
        f"where not c.internal and ({_wanted(pairs, 'c.')}) "
        "order by c.database_name, c.schema_name, c.table_name, c.column_index"
    )


def catalog_entries(rows: Iterable[Sequence[Any]]) -> dict[Key, dict[str, Any]]:
    """:func:`catalog_sql`'s rows as one dict per relation (columns as (name, data_type, comment))."""
    relations: dict[Key, dict[str, Any]] = {}
    for db, schema, name, column, dtype, col_comment, kind, comment in rows:
        entry = relations.setdefault(
            (db, schema, name),
            {"database": db, "schema": schema, "name": name, "type": kind, "comment": comment, "columns": []},
        )
        entry["columns"].append((column, dtype, col_comment))
    return relations


def row_count_sql(tables: Sequence[Key]) -> str:
    """The exact row count of each table, as (position in ``tables``, count)."""
    return " union all ".join(
        f"select {i}, count(*) from {quote(db)}.{quote(schema)}.{quote(name)}"
        for i, (db, schema, name) in enumerate(tables)
    )
