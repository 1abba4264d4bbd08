"""Incremental strategies on real DuckDB: several runs of new, changed and deleted rows.

Each scenario runs the project once per source state and, after every run,
compares the incremental table with what a full rebuild gives (a table model
over the same source), or with the hand-computed accumulation for ``append``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import embedded_db, query, write_files

from modelkit import Project

HEADER = "id,day,val,deleted,updated_at\n"
# Source states, one per run. Rows: id, day, val, soft-deleted flag, updated_at.
STATES = [
    ["1,1,a,false,2024-01-01 00:00:00", "2,1,b,false,2024-01-01 00:00:00", "3,2,c,false,2024-01-02 00:00:00"],
    # changed (2), new (4), soft-deleted (3)
    [
        "1,1,a,false,2024-01-01 00:00:00",
        "2,1,B,false,2024-01-03 00:00:00",
        "3,2,c,true,2024-01-03 00:00:00",
        "4,3,d,false,2024-01-03 00:00:00",
    ],
    # changed again (2, 4), new (5), a deleted row comes back (3)
    [
        "1,1,a,false,2024-01-01 00:00:00",
        "2,1,BB,false,2024-01-04 00:00:00",
        "3,2,C,false,2024-01-04 00:00:00",
        "4,3,D,false,2024-01-04 00:00:00",
        "5,4,e,false,2024-01-04 00:00:00",
    ],
]

FILTER = "{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}"


def run_states(root: Path, states: list[list[str]], check) -> None:
    project = Project(root)
    for number, rows in enumerate(states, start=1):
        (root / "seeds" / "src.csv").write_text(HEADER + "\n".join(rows) + "\n")
        assert project.seed().success
        result = project.run()
        assert result.success, [r.message for r in result.results if r.is_error]
        check(number)


def rows(root: Path, sql: str) -> list[tuple]:
    return query(embedded_db(root), sql)


@pytest.mark.parametrize(
    ("strategy", "unique_key"),
    [
        ("merge", "'id'"),
        ("merge", "['id', 'day']"),
        ("delete+insert", "'id'"),
        ("delete+insert", "['id', 'day']"),
    ],
)
def test_keyed_strategies_equal_a_full_rebuild(tmp_path: Path, strategy: str, unique_key: str) -> None:
    root = write_files(
        tmp_path,
        {
            "modelkit.yml": "name: demo\n",
            "seeds/src.csv": HEADER,
            "models/inc.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='{strategy}', unique_key={unique_key}) }}}}
                select * from {{{{ ref('src') }}}}
                {FILTER}
            """,
            "models/rebuilt.sql": "{{ config(materialized='table') }}select * from {{ ref('src') }}",
        },
    )
    ran_incrementally = []

    def check(number: int) -> None:
        compiled = (root / "target" / "compiled" / "demo" / "models" / "inc.sql").read_text()
        ran_incrementally.append("where updated_at >" in compiled)
        assert rows(root, "select * from inc order by id") == rows(root, "select * from rebuilt order by id")
        assert rows(root, "select count(*) from inc") == [(len(STATES[number - 1]),)]

    run_states(root, STATES, check)
    assert ran_incrementally == [False, True, True]  # the first run builds the whole table


def test_delete_insert_by_partition_reflects_hard_deletes(tmp_path: Path) -> None:
    """Partition replacement (unique_key = day) over a lookback window removes deleted rows too."""
    states = [
        STATES[0] + ["6,2,f,false,2024-01-02 00:00:00"],
        # row 6 deleted from the source, row 3 changed, day 3 new: all within the lookback window
        ["1,1,a,false,2024-01-01 00:00:00", "2,1,b,false,2024-01-01 00:00:00", "3,2,x,false,2024-01-05 00:00:00"]
        + ["7,3,g,false,2024-01-05 00:00:00"],
        # row 7 replaced by row 9 on the same day, day 4 new
        ["1,1,a,false,2024-01-01 00:00:00", "2,1,b,false,2024-01-01 00:00:00", "3,2,x,false,2024-01-05 00:00:00"]
        + ["9,3,i,false,2024-01-06 00:00:00", "8,4,h,false,2024-01-06 00:00:00"],
    ]
    root = write_files(
        tmp_path,
        {
            "modelkit.yml": "name: demo\n",
            "seeds/src.csv": HEADER,
            "models/inc.sql": """
                {{ config(materialized='incremental', unique_key='day') }}
                select * from {{ ref('src') }}
                {% if is_incremental() %}where day >= (select max(day) - 1 from {{ this }}){% endif %}
            """,
            "models/rebuilt.sql": "{{ config(materialized='table') }}select * from {{ ref('src') }}",
        },
    )

    def check(number: int) -> None:
        assert rows(root, "select * from inc order by id") == rows(root, "select * from rebuilt order by id")

    run_states(root, states, check)
    assert rows(root, "select id from inc order by id") == [(1,), (2,), (3,), (8,), (9,)]


def test_append_accumulates_every_new_version(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "modelkit.yml": "name: demo\n",
            "seeds/src.csv": HEADER,
            "models/inc.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='append') }}}}
                select id, val, updated_at from {{{{ ref('src') }}}}
                {FILTER}
            """,
        },
    )
    expected: list[tuple] = []
    new_versions = {
        1: [(1, "a"), (2, "b"), (3, "c")],
        2: [(2, "B"), (3, "c"), (4, "d")],
        3: [(2, "BB"), (3, "C"), (4, "D"), (5, "e")],
    }

    def check(number: int) -> None:
        expected.extend(new_versions[number])
        assert rows(root, "select id, val from inc order by id, val") == sorted(expected)

    run_states(root, STATES, check)


def test_incremental_predicates_limit_what_is_replaced(tmp_path: Path) -> None:
    """Rows outside the predicate are neither deleted (delete+insert) nor matched (merge)."""
    root = write_files(
        tmp_path,
        {
            "modelkit.yml": "name: demo\n",
            "seeds/src.csv": HEADER,
            "models/di.sql": f"""
                {{{{ config(materialized='incremental', unique_key='id', incremental_predicates=["day >= 2"]) }}}}
                select * from {{{{ ref('src') }}}}
                {FILTER}
            """,
            "models/mg.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id',
                            incremental_predicates=["DBT_INTERNAL_DEST.day >= 2"]) }}}}
                select * from {{{{ ref('src') }}}}
                {FILTER}
            """,
        },
    )
    run_states(root, STATES[:2], lambda number: None)
    # id 2 lives on day 1: outside the predicate, so its old version stays beside the new one
    for table in ("di", "mg"):
        assert rows(root, f"select id, val from {table} order by id, val") == [
            (1, "a"), (2, "B"), (2, "b"), (3, "c"), (4, "d"),
        ]  # fmt: skip
        assert rows(root, f"select deleted from {table} where id = 3") == [(True,)]


def test_merge_update_and_exclude_columns(tmp_path: Path) -> None:
    root = write_files(
        tmp_path,
        {
            "modelkit.yml": "name: demo\n",
            "seeds/src.csv": HEADER,
            "models/only_val.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id',
                            merge_update_columns=['val']) }}}}
                select * from {{{{ ref('src') }}}} {FILTER}
            """,
            "models/not_val.sql": f"""
                {{{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id',
                            merge_exclude_columns=['val']) }}}}
                select * from {{{{ ref('src') }}}} {FILTER}
            """,
        },
    )
    run_states(root, STATES[:2], lambda number: None)
    # row 3: soft-deleted at 2024-01-03 in the source, val unchanged
    assert rows(root, "select val, deleted, day(updated_at) from only_val where id = 2") == [("B", False, 1)]
    assert rows(root, "select val, deleted, day(updated_at) from only_val where id = 3") == [("c", False, 2)]
    assert rows(root, "select val, deleted, day(updated_at) from not_val where id = 2") == [("b", False, 3)]
    assert rows(root, "select val, deleted, day(updated_at) from not_val where id = 3") == [("c", True, 3)]
    assert rows(root, "select id from not_val order by id") == [(1,), (2,), (3,), (4,)]


def test_merge_without_unique_key_only_inserts(project_factory) -> None:
    root = project_factory(
        {"models/m.sql": "{{ config(materialized='incremental', incremental_strategy='merge') }}select 1 as id"}
    )
    for _ in range(3):
        assert Project(root).run().success
    assert rows(root, "select count(*) from m") == [(3,)]


def test_this_and_is_incremental_render_as_in_dbt(project_factory) -> None:
    root = project_factory(
        {
            "models/m.sql": """
                {{ config(materialized='incremental') }}
                select '{{ this }}' as this_name, {{ is_incremental() }} as incremental
            """
        }
    )
    assert Project(root).run().success
    assert Project(root).run().success
    assert rows(root, "select * from m order by incremental") == [
        ('"demo"."main"."m"', False),
        ('"demo"."main"."m"', True),
    ]


def test_existing_view_is_replaced_by_a_full_build(project_factory) -> None:
    root = project_factory({"models/m.sql": "select 1 as id"})
    assert Project(root).run().success
    (root / "models" / "m.sql").write_text(
        "{{ config(materialized='incremental') }}select 2 as id {% if is_incremental() %}union all select 3{% endif %}"
    )
    assert Project(root).run().success
    kinds = rows(root, "select table_type from information_schema.tables where table_name = 'm'")
    assert kinds == [("BASE TABLE",)] and rows(root, "select id from m") == [(2,)]


def test_invalid_strategy_is_a_clear_error(project_factory) -> None:
    root = project_factory(
        {"models/m.sql": "{{ config(materialized='incremental', incremental_strategy='upsert') }}select 1 as id"}
    )
    assert Project(root).run().success  # the first build makes the table: the strategy is not consulted yet
    result = Project(root).run()
    assert not result.success
    assert result.results[0].message == (
        "Runtime Error in model m (models/m.sql)\n"
        '  dbt could not find an incremental strategy macro with the name "get_incremental_upsert_sql" in demo'
    )


def test_a_builtin_strategy_the_engine_lacks_is_named(project_factory) -> None:
    model = "{{ config(materialized='incremental', incremental_strategy='insert_overwrite') }}select 1 as id"
    root = project_factory({"models/m.sql": model})
    assert Project(root).run().success
    result = Project(root).run()
    assert "The incremental strategy 'insert_overwrite' is not valid for this adapter" in result.results[0].message
