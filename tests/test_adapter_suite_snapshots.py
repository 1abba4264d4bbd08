"""dbt's adapter test suite ``simple_snapshot``, run through the modelkit CLI on DuckDB.

Ported from dbt-tests-adapter's ``simple_snapshot/test_snapshot.py``: the two classes dbt-duckdb runs
(``BaseSimpleSnapshot``, ``BaseSnapshotCheck``). As the suite does, ``fact`` is cloned from the seed's
first 20 rows by SQL, a first snapshot is taken, ``fact`` is changed by SQL, a second snapshot taken,
and each id's current / closed-out records are checked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from conftest import query
from suite_support import db, dbt_project, run, statuses

SEED_CSV = (Path(__file__).parent / "data" / "adapter_suite" / "simple_snapshot" / "seed.csv").read_text()
FACT_SQL = """
{{ config(materialized="table") }}
select * from {{ ref('seed') }}
where id between 1 and 20
"""
SNAPSHOT_TIMESTAMP_SQL = """
{% snapshot snapshot %}
    {{ config(
        target_database=database,
        target_schema=schema,
        unique_key='id',
        strategy='timestamp',
        updated_at='updated_at',
        invalidate_hard_deletes=True,
    ) }}
    select * from {{ ref('fact') }}
{% endsnapshot %}
"""
SNAPSHOT_CHECK_SQL = """
{% snapshot snapshot %}
    {{ config(
        target_database=database,
        target_schema=schema,
        unique_key='id',
        strategy='check',
        check_cols=['email'],
    ) }}
    select * from {{ ref('fact') }}
{% endsnapshot %}
"""


def _sql(root: Path, *statements: str) -> None:
    con = duckdb.connect(str(db(root)))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _update(root: Path, updates: dict[str, str], where: str) -> None:
    sets = ", ".join(f"{field} = {expression}" for field, expression in updates.items())
    _sql(root, f"update main.fact set {sets} where {where}")


def _insert(root: Path, where: str) -> None:
    _sql(root, f"insert into main.fact select * from main.seed where {where}")


def _delete(root: Path, where: str) -> None:
    _sql(root, f"delete from main.fact where {where}")


def _setup(tmp_path: Path, snapshot_sql: str) -> Path:
    """The class setup (seed once) and the method setup (fact from ids 1-20, a first snapshot)."""
    files = {"seeds/seed.csv": SEED_CSV, "models/fact.sql": FACT_SQL, "snapshots/snapshot.sql": snapshot_sql}
    root = dbt_project(tmp_path / "test", files)
    run(root, "seed")
    _sql(
        root,
        "drop table if exists main.fact",
        "create table main.fact as select * from main.seed where id between 1 and 20",
    )
    run(root, "snapshot")
    assert statuses(root) == {"snapshot.test.snapshot": "success"}
    return root


def _assert_results(root: Path, current: range | list[int], closed_out: range | list[int]) -> None:
    """BaseSimpleSnapshotBase._assert_results: every record is an expected (id, is_current) pair."""
    records = set(query(db(root), "select id, dbt_valid_to is null as is_current from main.snapshot"))
    expected = {(i, True) for i in current} | {(i, False) for i in closed_out}
    for record in records:
        assert record in expected
    # the suite only checks inclusion; each expected pair is also there, or the check would be empty
    assert records == expected


def test_updates_are_captured_by_snapshot(tmp_path: Path) -> None:
    root = _setup(tmp_path, SNAPSHOT_TIMESTAMP_SQL)
    _update(root, {"updated_at": "updated_at + interval '1 day'"}, "id between 16 and 20")
    run(root, "snapshot")
    _assert_results(root, range(1, 21), range(16, 21))


def test_inserts_are_captured_by_snapshot(tmp_path: Path) -> None:
    root = _setup(tmp_path, SNAPSHOT_TIMESTAMP_SQL)
    _insert(root, "id between 21 and 30")
    run(root, "snapshot")
    _assert_results(root, range(1, 31), [])


def test_deletes_are_captured_by_snapshot(tmp_path: Path) -> None:
    root = _setup(tmp_path, SNAPSHOT_TIMESTAMP_SQL)
    _delete(root, "id between 16 and 20")
    run(root, "snapshot")
    _assert_results(root, range(1, 16), range(16, 21))


def test_revives_are_captured_by_snapshot(tmp_path: Path) -> None:
    root = _setup(tmp_path, SNAPSHOT_TIMESTAMP_SQL)
    _delete(root, "id between 16 and 20")
    run(root, "snapshot")
    _insert(root, "id between 16 and 18")
    run(root, "snapshot")
    _assert_results(root, range(1, 19), range(16, 21))


def test_new_column_captured_by_snapshot(tmp_path: Path) -> None:
    root = _setup(tmp_path, SNAPSHOT_TIMESTAMP_SQL)
    _sql(root, "alter table main.fact add column full_name varchar(200) default null")
    _update(
        root,
        {"full_name": "first_name || ' ' || last_name", "updated_at": "updated_at + interval '1 day'"},
        "id between 11 and 20",
    )
    run(root, "snapshot")
    _assert_results(root, range(1, 21), range(11, 21))


def test_column_selection_is_reflected_in_snapshot(tmp_path: Path) -> None:
    """BaseSnapshotCheck: only changes to the checked column (email) close out a record."""
    root = _setup(tmp_path, SNAPSHOT_CHECK_SQL)
    _update(root, {"last_name": "left(last_name, 3)"}, "id between 1 and 10")  # not tracked
    _update(root, {"email": "left(email, 3)"}, "id between 6 and 15")  # tracked
    run(root, "snapshot")
    _assert_results(root, range(1, 21), range(6, 16))
