"""dbt's adapter test suite ``simple_snapshot``: ``test_ephemeral_snapshot_hard_deletes.py``, on DuckDB.

A YAML snapshot of an ephemeral model over a source, with ``hard_deletes: new_record``: a column added
to the source (and a row deleted) between two snapshots. Each ``snapshot`` must succeed, as the
suite's ``run_dbt`` requires, and the row counts it checks are checked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import query
from suite_support import db, dbt_project, run, statuses

SOURCE_CREATE = """
create table {database}.{schema}.src_customers (
    id INTEGER,
    first_name VARCHAR(50),
    last_name VARCHAR(50),
    email VARCHAR(50),
    updated_at TIMESTAMP
);
"""
SOURCE_INSERT = """
insert into {database}.{schema}.src_customers (id, first_name, last_name, email, updated_at) values
(1, 'John', 'Doe', 'john.doe@example.com', '2023-01-01 10:00:00'),
(2, 'Jane', 'Smith', 'jane.smith@example.com', '2023-01-02 11:00:00'),
(3, 'Bob', 'Johnson', 'bob.johnson@example.com', '2023-01-03 12:00:00');
"""
SOURCE_ALTER = """
alter table {database}.{schema}.src_customers add column dummy_column VARCHAR(50) default 'dummy_value';
"""
SOURCE_DELETE = "delete from {database}.{schema}.src_customers where id = 3;"
SOURCES_YML = """
version: 2

sources:
  - name: test_source
    schema: "{{ target.schema }}"
    tables:
      - name: src_customers
"""
EPHEMERAL_CUSTOMERS = """
{{ config(materialized='ephemeral') }}

select * from {{ source('test_source', 'src_customers') }}
"""
SNAPSHOTS = {
    "check_all": "      strategy: check\n      check_cols: all\n",
    "timestamp": "      strategy: timestamp\n      updated_at: updated_at\n",
    "specific_check_cols": "      strategy: check\n      check_cols:\n        - first_name\n        - email\n",
}


def _snapshots_yml(strategy: str) -> str:
    return (
        "snapshots:\n  - name: snapshot_customers\n    relation: ref('ephemeral_customers')\n    config:\n"
        f"      unique_key: id\n{SNAPSHOTS[strategy]}      hard_deletes: new_record\n"
    )


def _sql(root: Path, *statements: str) -> None:
    con = duckdb.connect(str(db(root)))
    try:
        for statement in statements:
            con.execute(statement.format(database="test", schema="main"))
    finally:
        con.close()


def _project(tmp_path: Path, strategy: str) -> Path:
    files = {
        "models/_sources.yml": SOURCES_YML,
        "models/ephemeral_customers.sql": EPHEMERAL_CUSTOMERS,
        "models/snapshots.yml": _snapshots_yml(strategy),
        "models/ref_snapshot.sql": "select * from {{ ref('snapshot_customers') }}\n",
    }
    root = dbt_project(tmp_path / "test", files)
    _sql(root, SOURCE_CREATE, SOURCE_INSERT)
    return root


def _snapshot(root: Path) -> None:
    run(root, "snapshot")
    assert statuses(root) == {"snapshot.test.snapshot_customers": "success"}


def _count(root: Path) -> int:
    return query(db(root), "select count(*) as row_count from main.snapshot_customers")[0][0]


@pytest.mark.parametrize(
    "strategy",
    [
        "check_all",  # BaseSnapshotEphemeralHardDeletes
        "timestamp",  # BaseSnapshotNewColumnTimestampStrategy
        "specific_check_cols",  # BaseSnapshotNewColumnSpecificCheckCols
    ],
)
def test_snapshot_new_column(tmp_path: Path, strategy: str) -> None:
    root = _project(tmp_path, strategy)
    _snapshot(root)
    if strategy == "check_all":
        assert _count(root) == 3
    _sql(root, SOURCE_ALTER)
    _snapshot(root)


def test_snapshot_new_column_with_deletes(tmp_path: Path) -> None:
    """BaseSnapshotNewColumnWithDeletes: a new column and a deleted row in one snapshot."""
    root = _project(tmp_path, "check_all")
    _snapshot(root)
    assert _count(root) == 3
    _sql(root, SOURCE_ALTER, SOURCE_DELETE)
    _snapshot(root)
    # 3 original rows closed out (check_cols: all sees the new column), 2 new rows, 1 deletion record
    assert _count(root) == 6
