"""on_schema_change and full refreshes of incremental models."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

from modelkit import Project

FIRST = "select 1 as id, 'a' as kept, 10 as dropped"
# 'dropped' is gone, 'added' is new and 'kept' changes type (VARCHAR -> INTEGER)
SECOND = "select 2 as id, 5 as kept, 'x' as added"


def model(on_schema_change: str, body: str) -> str:
    return f"{{{{ config(materialized='incremental', on_schema_change='{on_schema_change}') }}}}\n{body}\n"


def columns(root: Path, table: str = "m") -> list[tuple]:
    return query(
        embedded_db(root),
        f"select column_name, data_type from information_schema.columns where table_name = '{table}' "
        "order by ordinal_position",
    )


def two_runs(project_factory, on_schema_change: str, second: str = SECOND):
    root = project_factory({"models/m.sql": model(on_schema_change, FIRST)})
    assert Project(root).run().success
    (root / "models" / "m.sql").write_text(model(on_schema_change, second))
    return root, Project(root).run()


@pytest.mark.parametrize(
    ("mode", "expected_columns", "expected_rows"),
    [
        # ignore: the table keeps its columns; 'kept' values are cast, 'added' is dropped ('dropped' must exist)
        (
            "ignore",
            [("id", "INTEGER"), ("kept", "VARCHAR"), ("dropped", "INTEGER")],
            [(1, "a", 10), (2, "5", 20)],
        ),
        # append_new_columns: 'added' appears (null for old rows); 'dropped' stays, null for new rows
        (
            "append_new_columns",
            [("id", "INTEGER"), ("kept", "VARCHAR"), ("dropped", "INTEGER"), ("added", "VARCHAR")],
            [(1, "a", 10, None), (2, "5", None, "x")],
        ),
        # sync_all_columns: 'dropped' removed, 'added' added, 'kept' retyped
        (
            "sync_all_columns",
            [("id", "INTEGER"), ("kept", "INTEGER"), ("added", "VARCHAR")],
            None,  # 'a' cannot become an INTEGER: checked separately below
        ),
    ],
)
def test_schema_change_modes(project_factory, mode: str, expected_columns, expected_rows) -> None:
    second = SECOND + ", 20 as dropped" if mode == "ignore" else SECOND
    first = FIRST.replace("'a'", "'7'") if mode == "sync_all_columns" else FIRST
    root = project_factory({"models/m.sql": model(mode, first)})
    assert Project(root).run().success
    (root / "models" / "m.sql").write_text(model(mode, second))
    result = Project(root).run()
    assert result.success, result.results[0].message
    assert columns(root) == expected_columns
    if expected_rows is not None:
        assert query(embedded_db(root), "select * from m order by id") == expected_rows
    else:
        assert query(embedded_db(root), "select * from m order by id") == [(1, 7, None), (2, 5, "x")]


def test_fail_mode_stops_and_keeps_the_table(project_factory) -> None:
    root, result = two_runs(project_factory, "fail")
    assert not result.success
    message = result.results[0].message
    assert message.startswith("Compilation Error in model m (models/m.sql)")
    assert "The source and target schemas on this incremental model are out of sync!" in message
    assert "Source columns not in target: [added (VARCHAR)]" in message
    assert "Target columns not in source: [dropped (INTEGER)]" in message
    assert "New column types: [kept (INTEGER)]" in message
    assert columns(root) == [("id", "INTEGER"), ("kept", "VARCHAR"), ("dropped", "INTEGER")]
    assert query(embedded_db(root), "select * from m") == [(1, "a", 10)]


def test_fail_mode_passes_when_nothing_changed(project_factory) -> None:
    root, result = two_runs(project_factory, "fail", FIRST.replace("1 as id", "2 as id"))
    assert result.success
    assert query(embedded_db(root), "select id from m order by id") == [(1,), (2,)]


def test_invalid_mode_falls_back_to_ignore_with_a_message(project_factory) -> None:
    root = project_factory({"models/m.sql": model("bogus", FIRST)})
    assert run_cli("run", cwd=root).exit_code == 0
    (root / "models" / "m.sql").write_text(model("bogus", FIRST.replace("1 as id", "2 as id") + ", 1 as extra"))
    out = run_cli("run", cwd=root)
    assert out.exit_code == 0
    assert "Invalid value for on_schema_change (bogus) specified. Setting default value of ignore." in out.output
    assert columns(root) == [("id", "INTEGER"), ("kept", "VARCHAR"), ("dropped", "INTEGER")]


def test_full_refresh_flag_and_config(project_factory) -> None:
    body = "select {{ 2 if is_incremental() else 1 }} as version, '{{ 'inc' if is_incremental() else 'full' }}' as how"
    root = project_factory(
        {
            "models/follows.sql": "{{ config(materialized='incremental') }}\n" + body,
            "models/never.sql": "{{ config(materialized='incremental', full_refresh=false) }}\n" + body,
            "models/always.sql": "{{ config(materialized='incremental', full_refresh=true) }}\n" + body,
        }
    )
    db = embedded_db(root)
    assert run_cli("run", cwd=root).exit_code == 0
    assert run_cli("run", cwd=root).exit_code == 0
    assert query(db, "select how from follows order by version") == [("full",), ("inc",)]
    assert query(db, "select how from always") == [("full",)]
    out = run_cli("run", "--full-refresh", cwd=root)
    assert out.exit_code == 0, out.output
    assert query(db, "select how from follows") == [("full",)]  # rebuilt from scratch
    assert query(db, "select how from never order by version") == [("full",), ("inc",), ("inc",)]
    assert query(db, "select how from always") == [("full",)]


def test_full_refresh_rebuilds_after_a_schema_change(project_factory) -> None:
    root, result = two_runs(project_factory, "ignore", "select 2 as id, 'b' as renamed")
    assert not result.success  # ignore keeps the old columns, and the new query lacks them
    assert run_cli("run", "--full-refresh", cwd=root).exit_code == 0
    assert columns(root) == [("id", "INTEGER"), ("renamed", "VARCHAR")]
    assert query(embedded_db(root), "select * from m") == [(2, "b")]


def test_on_schema_change_full_refresh_rebuilds_when_columns_differ(project_factory) -> None:
    root, result = two_runs(project_factory, "full_refresh")
    assert result.success
    assert columns(root) == [("id", "INTEGER"), ("kept", "INTEGER"), ("added", "VARCHAR")]
    assert query(embedded_db(root), "select * from m") == [(2, 5, "x")]
