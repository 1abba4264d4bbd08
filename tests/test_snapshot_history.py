"""Snapshot history after a sequence of changes and deletes, against hand-written rows.

Timestamps a snapshot takes from the clock (check strategy, hard deletes) are
shown as RUN1, RUN2, ... : the run whose time window contains them.
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

import duckdb
import pytest
from conftest import embedded_db, query, write_files

from modelkit import Project

HEADER = "id,name,updated_at\n"
STATES = [
    ["1,a,2024-01-01 00:00:00", "2,b,2024-01-01 00:00:00", "3,c,2024-01-01 00:00:00"],
    # 2 changed, 3 deleted, 4 new
    ["1,a,2024-01-01 00:00:00", "2,B,2024-01-05 00:00:00", "4,d,2024-01-05 00:00:00"],
    # 1 touched (updated_at only), 3 back with a new name, 4 changed
    ["1,a,2024-01-09 00:00:00", "2,B,2024-01-05 00:00:00", "3,c2,2024-01-07 00:00:00", "4,D,2024-01-07 00:00:00"],
]
N = None


def d(day: int) -> datetime.datetime:
    return datetime.datetime(2024, 1, day)


def db_now() -> datetime.datetime:
    con = duckdb.connect()
    try:
        return con.execute("select now()::timestamp").fetchone()[0]
    finally:
        con.close()


def snapshot_project(tmp_path: Path, config: str, states: list[list[str]] = STATES, header: str = HEADER):
    """Run ``seed`` + ``snapshot`` once per state; return (root, run windows)."""
    root = write_files(
        tmp_path / "p",
        {
            "modelkit.yml": "name: demo\n",
            "seeds/src.csv": header,
            "snapshots/snap.sql": f"""
                {{% snapshot snap %}}
                {{{{ config({config}) }}}}
                select * from {{{{ ref('src') }}}}
                {{% endsnapshot %}}
            """,
        },
    )
    windows = []
    for rows in states:
        (root / "seeds" / "src.csv").write_text(header + "\n".join(rows) + "\n")
        assert Project(root).seed().success
        start = db_now()
        result = Project(root).snapshot()
        assert result.success, [r.message for r in result.results]
        windows.append((start, db_now()))
    return root, windows


def labelled(value, windows):
    if isinstance(value, datetime.datetime) and 2024 < value.year < 9000:
        for number, (start, end) in enumerate(windows, start=1):
            if start <= value <= end:
                return f"RUN{number}"
        return f"outside every run: {value}"
    return value


def history(root: Path, windows, columns: str = "id, name, dbt_valid_from, dbt_valid_to") -> list[tuple]:
    rows = query(embedded_db(root), f"select {columns} from snap")
    return sorted(
        (tuple(labelled(v, windows) for v in row) for row in rows),
        key=lambda r: tuple((v is None, str(v)) for v in r),
    )


TIMESTAMP = "unique_key='id', strategy='timestamp', updated_at='updated_at'"
CASES = [
    (
        TIMESTAMP,
        [
            (1, "a", d(1), d(9)), (1, "a", d(9), N), (2, "B", d(5), N), (2, "b", d(1), d(5)),
            (3, "c", d(1), d(7)), (3, "c2", d(7), N), (4, "D", d(7), N), (4, "d", d(5), d(7)),
        ],
    ),
    (
        TIMESTAMP + ", hard_deletes='invalidate'",
        [
            (1, "a", d(1), d(9)), (1, "a", d(9), N), (2, "B", d(5), N), (2, "b", d(1), d(5)),
            (3, "c", d(1), "RUN2"), (3, "c2", d(7), N), (4, "D", d(7), N), (4, "d", d(5), d(7)),
        ],
    ),
    (
        # the legacy spelling of hard_deletes='invalidate'
        TIMESTAMP + ", invalidate_hard_deletes=true",
        [
            (1, "a", d(1), d(9)), (1, "a", d(9), N), (2, "B", d(5), N), (2, "b", d(1), d(5)),
            (3, "c", d(1), "RUN2"), (3, "c2", d(7), N), (4, "D", d(7), N), (4, "d", d(5), d(7)),
        ],
    ),
    (
        "unique_key='id', strategy='check', check_cols=['name'], hard_deletes='invalidate'",
        [
            (1, "a", "RUN1", N), (2, "B", "RUN2", N), (2, "b", "RUN1", "RUN2"), (3, "c", "RUN1", "RUN2"),
            (3, "c2", "RUN3", N), (4, "D", "RUN3", N), (4, "d", "RUN2", "RUN3"),
        ],
    ),
    (
        "unique_key='id', strategy='check', check_cols='all'",
        [
            (1, "a", "RUN1", "RUN3"), (1, "a", "RUN3", N), (2, "B", "RUN2", N), (2, "b", "RUN1", "RUN2"),
            (3, "c", "RUN1", "RUN3"), (3, "c2", "RUN3", N), (4, "D", "RUN3", N), (4, "d", "RUN2", "RUN3"),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "expected"), CASES, ids=["timestamp", "invalidate", "legacy", "check", "all"])
def test_history_rows(tmp_path: Path, config: str, expected: list[tuple]) -> None:
    root, windows = snapshot_project(tmp_path, config)
    assert history(root, windows) == expected


def test_new_record_hard_deletes(tmp_path: Path) -> None:
    root, windows = snapshot_project(tmp_path, TIMESTAMP + ", hard_deletes='new_record'")
    got = history(root, windows, "id, name, dbt_valid_from, dbt_valid_to, dbt_is_deleted, updated_at")
    assert got == [
        (1, "a", d(1), d(9), "False", d(1)),
        (1, "a", d(9), N, "False", d(9)),
        (2, "B", d(5), N, "False", d(5)),
        (2, "b", d(1), d(5), "False", d(1)),
        (3, "c", d(1), "RUN2", "False", d(1)),
        (3, "c", "RUN2", d(7), "True", d(1)),  # the deletion record, closed when 3 came back
        (3, "c2", d(7), N, "False", d(7)),
        (4, "D", d(7), N, "False", d(7)),
        (4, "d", d(5), d(7), "False", d(5)),
    ]


def test_meta_columns_scd_id_and_updated_at(tmp_path: Path) -> None:
    root, windows = snapshot_project(tmp_path, TIMESTAMP, STATES[:2])
    row = query(embedded_db(root), "select dbt_scd_id, dbt_updated_at from snap where name = 'B'")[0]
    assert row == (hashlib.md5(b"2|2024-01-05 00:00:00").hexdigest(), d(5))
    check_root, check_windows = snapshot_project(
        tmp_path / "check", "unique_key='id', strategy='check', check_cols='all'"
    )
    row = query(embedded_db(check_root), "select dbt_updated_at, dbt_valid_from from snap where name = 'c2'")[0]
    assert [labelled(v, check_windows) for v in row] == ["RUN3", "RUN3"]


def test_renamed_meta_columns_and_valid_to_current(tmp_path: Path) -> None:
    config = (
        TIMESTAMP + ", hard_deletes='invalidate', dbt_valid_to_current=\"'9999-12-31'::timestamp\","
        " snapshot_meta_column_names={'dbt_valid_from': 'valid_from', 'dbt_valid_to': 'valid_to',"
        " 'dbt_scd_id': 'scd_id', 'dbt_updated_at': 'changed_at'}"
    )
    root, windows = snapshot_project(tmp_path, config, STATES[:2])
    cols = [c for (c,) in query(embedded_db(root), "select column_name from information_schema.columns where table_name = 'snap' order by ordinal_position")]  # fmt: skip
    assert cols == ["id", "name", "updated_at", "scd_id", "changed_at", "valid_from", "valid_to"]
    far = datetime.datetime(9999, 12, 31)
    assert history(root, windows, "id, name, valid_from, valid_to") == [
        (1, "a", d(1), far), (2, "B", d(5), far), (2, "b", d(1), d(5)), (3, "c", d(1), "RUN2"), (4, "d", d(5), far),
    ]  # fmt: skip


def test_composite_unique_key(tmp_path: Path) -> None:
    header = "k1,k2,v,updated_at\n"
    states = [
        ["1,x,a,2024-01-01", "1,y,b,2024-01-01", "2,x,c,2024-01-01"],
        ["1,x,A,2024-01-02", "1,y,b,2024-01-01", "2,x,c,2024-01-01", "2,y,d,2024-01-02"],
    ]
    config = "unique_key=['k1', 'k2'], strategy='timestamp', updated_at='updated_at'"
    root, windows = snapshot_project(tmp_path, config, states, header)
    rows = query(embedded_db(root), "select k1, k2, v, dbt_valid_to is null from snap order by k1, k2, v")
    assert rows == [(1, "x", "A", True), (1, "x", "a", False), (1, "y", "b", True), (2, "x", "c", True), (2, "y", "d", True)]  # fmt: skip


def test_check_all_with_a_new_column_versions_every_row(tmp_path: Path) -> None:
    root, windows = snapshot_project(tmp_path, "unique_key='id', strategy='check', check_cols='all'", STATES[:1])
    (root / "seeds" / "src.csv").write_text("id,name,updated_at,tier\n1,a,2024-01-01,gold\n2,b,2024-01-01,\n")
    assert Project(root).seed(full_refresh=True).success
    assert Project(root).snapshot().success
    rows = query(embedded_db(root), "select id, tier, dbt_valid_to is null from snap order by id, dbt_valid_from")
    assert rows == [(1, None, False), (1, "gold", True), (2, None, False), (2, None, True), (3, None, True)]
