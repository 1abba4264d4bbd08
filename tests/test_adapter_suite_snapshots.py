"""dbt's adapter test suite ``simple_snapshot``, run through the modelkit CLI on DuckDB.

Ported from dbt-tests-adapter's ``simple_snapshot/test_snapshot.py``: the two classes dbt-duckdb runs
(``BaseSimpleSnapshot``, ``BaseSnapshotCheck``); and ``test_various_configs.py`` (meta column names,
``dbt_valid_to_current``, a multi-column unique key), with the suite's SQL fixtures. As the suite does, ``fact`` is cloned from the seed's
first 20 rows by SQL, a first snapshot is taken, ``fact`` is changed by SQL, a second snapshot taken,
and each id's current / closed-out records are checked.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import query
from suite_support import columns, db, dbt_project, run, statuses

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


# -- test_various_configs.py -------------------------------------------------------------------------
DATA = Path(__file__).parent / "data" / "adapter_suite" / "simple_snapshot"
META_COLUMNS = {
    "dbt_valid_to": "test_valid_to",
    "dbt_valid_from": "test_valid_from",
    "dbt_scd_id": "test_scd_id",
    "dbt_updated_at": "test_updated_at",
}


def _fixture_sql(root: Path, *names: str) -> None:
    """The suite's SQL fixtures, run as ``project.run_sql`` runs them (``{schema}``, ``{database}`` filled in)."""
    con = duckdb.connect(str(db(root)))
    try:
        for name in names:
            con.execute((DATA / f"{name}.sql").read_text().replace("{schema}", "main").replace("{database}", "test"))
    finally:
        con.close()


def _various_project(tmp_path: Path, snapshots_yml: str, config: dict | None = None, multi_key: bool = False) -> Path:
    files = {
        "models/snapshots.yml": (DATA / f"{snapshots_yml}.yml").read_text(),
        "models/ref_snapshot.sql": (DATA / "ref_snapshot.sql").read_text(),
    }
    if multi_key:
        files["models/seed.sql"] = (DATA / "model_seed.sql").read_text()
    else:
        files["snapshots/snapshot.sql"] = (DATA / "snapshot_actual.sql").read_text()
    return dbt_project(tmp_path / "test", files, config)


def _relations_equal(root: Path, basis: str, other: str) -> None:
    """dbt's check_relations_equal: the basis's columns (but dbt_*), compared in any order, rows as multisets."""
    names = [c for c, _ in columns(root, basis) if not c.lower().startswith("dbt_")]
    listed = ", ".join(f'"{n}"' for n in names)
    diff = query(
        db(root),
        f"(select {listed} from {basis} except all select {listed} from {other}) "
        f"union all (select {listed} from {other} except all select {listed} from {basis})",
    )
    assert diff == [], f"{basis} and {other} differ: {diff}"


def _meta_config(columns: dict[str, str]) -> dict:
    return {"snapshots": {"test": {"+snapshot_meta_column_names": columns}}}


@pytest.mark.parametrize(
    ("snapshots_yml", "config"),
    [
        ("snapshots", None),  # BaseSnapshotColumnNames: the meta column names from the snapshot's YAML
        ("snapshots_no_column_names", _meta_config(META_COLUMNS)),  # ...FromDbtProject
    ],
)
def test_snapshot_column_names(tmp_path: Path, snapshots_yml: str, config: dict | None) -> None:
    root = _various_project(tmp_path, snapshots_yml, config)
    _fixture_sql(root, "create_seed", "create_snapshot_expected", "seed_insert", "populate_snapshot_expected")
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    _fixture_sql(root, "invalidate", "update")
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    _relations_equal(root, "snapshot_actual", "snapshot_expected")


def test_snapshot_invalid_column_names(tmp_path: Path) -> None:
    """BaseSnapshotInvalidColumnNames: meta column names changed after the first snapshot are an error."""
    root = _various_project(tmp_path, "snapshots_no_column_names", _meta_config(META_COLUMNS))
    _fixture_sql(root, "create_seed", "create_snapshot_expected", "seed_insert", "populate_snapshot_expected")
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert manifest["nodes"]["snapshot.test.snapshot_actual"]["config"]["snapshot_meta_column_names"] == META_COLUMNS
    _fixture_sql(root, "invalidate", "update")
    project = yaml.safe_load((root / "dbt_project.yml").read_text())
    project.update(_meta_config({"dbt_valid_to": "test_valid_to", "dbt_updated_at": "test_updated_at"}))
    (root / "dbt_project.yml").write_text(yaml.safe_dump(project))
    log_output = run(root, "snapshot", expect=1)
    assert len(statuses(root)) == 1
    assert "Compilation Error in snapshot snapshot_actual" in log_output
    assert "Snapshot target is missing configured columns" in log_output


def test_valid_to_current(tmp_path: Path) -> None:
    """BaseSnapshotDbtValidToCurrent: current rows carry dbt_valid_to_current instead of null."""
    root = _various_project(tmp_path, "snapshots_valid_to_current")
    _fixture_sql(
        root, "create_seed", "create_snapshot_expected", "seed_insert", "populate_snapshot_expected_valid_to_current"
    )
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    select = "select id, test_scd_id, test_valid_to from main.snapshot_actual"
    original = query(db(root), select)
    assert original[0][2] == datetime.datetime(2099, 12, 31, 0, 0)
    assert original[9][2] == datetime.datetime(2099, 12, 31, 0, 0)
    _fixture_sql(root, "invalidate", "update_with_current")
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    updated = query(db(root), select)
    assert updated[0][2] == datetime.datetime(2099, 12, 31, 0, 0)
    assert updated[9][2] == datetime.datetime(2016, 8, 20, 16, 44, 49)
    assert updated[20][2] == datetime.datetime(2099, 12, 31, 0, 0)
    _relations_equal(root, "snapshot_actual", "snapshot_expected")


def test_multi_column_unique_key(tmp_path: Path) -> None:
    """BaseSnapshotMultiUniqueKey: a YAML snapshot of ref('seed') with a two-column unique key."""
    root = _various_project(tmp_path, "snapshots_multi_key", multi_key=True)
    _fixture_sql(
        root,
        "create_multi_key_seed",
        "create_multi_key_snapshot_expected",
        "seed_multi_key_insert",
        "populate_multi_key_snapshot_expected",
    )
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    _fixture_sql(root, "invalidate_multi_key", "update_multi_key")
    run(root, "snapshot")
    assert len(statuses(root)) == 1
    _relations_equal(root, "snapshot_actual", "snapshot_expected")
