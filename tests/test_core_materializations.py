"""Views, tables, ephemerals and seeds on real DuckDB, including atomic replacement."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

from modelkit import Project
from modelkit.render.compiler import inject_ctes


def relation_types(root: Path) -> dict[str, str]:
    return dict(query(embedded_db(root), "select table_name, table_type from information_schema.tables"))


def test_view_table_and_nested_ephemerals(project_factory) -> None:
    root = project_factory(
        {
            "models/base.sql": "select range as id from range(5)",
            "models/eph_one.sql": "{{ config(materialized='ephemeral') }}select id from {{ ref('base') }} where id > 0",
            "models/eph_two.sql": "{{ config(materialized='ephemeral') }}with x as (select id * 10 as id from {{ ref('eph_one') }}) select * from x",
            "models/final.sql": "{{ config(materialized='table') }}select sum(id) as total from {{ ref('eph_two') }} join {{ ref('eph_one') }} using (id)",
            "models/final2.sql": "with y as (select * from {{ ref('eph_two') }}) select count(*) as n from y",
        }
    )
    result = Project(root).run()
    assert result.success, [r.message for r in result.results]
    types = relation_types(root)
    assert types == {"base": "VIEW", "final": "BASE TABLE", "final2": "VIEW"}
    assert query(embedded_db(root), "select n from final2") == [(4,)]
    assert query(embedded_db(root), "select total from final") == [(None,)]  # ids 10..40 never match 1..4
    compiled = (root / "target" / "compiled" / "demo" / "models" / "final.sql").read_text()
    assert compiled.index("__dbt__cte__eph_one as (") < compiled.index("__dbt__cte__eph_two as (")
    assert compiled.count("__dbt__cte__eph_one as (") == 1


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 1", "with a as (\nA\n)\nselect 1"),
        ("with x as (select 1) select * from x", "with a as (\nA\n), x as (select 1) select * from x"),
        (
            "  WITH RECURSIVE r as (select 1) select * from r",
            "  WITH RECURSIVE a as (\nA\n), r as (select 1) select * from r",
        ),
        ("-- comment\nwith x as (select 1) select 2", "-- comment\nwith a as (\nA\n), x as (select 1) select 2"),
        ("select 'with' as w", "with a as (\nA\n)\nselect 'with' as w"),
    ],
)
def test_inject_ctes(sql: str, expected: str) -> None:
    assert inject_ctes(sql, [("a", "A")]) == expected


def test_failing_table_keeps_previous_version(project_factory) -> None:
    root = project_factory({"models/t.sql": "{{ config(materialized='table') }}select range as id from range(3)"})
    assert Project(root).run().success
    (root / "models" / "t.sql").write_text(
        "{{ config(materialized='table') }}select range as id from range(10) where error('boom') is null"
    )
    result = Project(root).run()
    assert not result.success and result.results[0].status == "error"
    assert "boom" in result.results[0].message
    assert query(embedded_db(root), "select count(*) from t") == [(3,)]
    leftovers = [n for (n,) in query(embedded_db(root), "select table_name from information_schema.tables") if n != "t"]
    assert leftovers == []


def test_failing_view_keeps_previous_view(project_factory) -> None:
    root = project_factory({"models/v.sql": "select 1 as id"})
    assert Project(root).run().success
    (root / "models" / "v.sql").write_text("select no_such_column from range(1)")
    assert not Project(root).run().success
    assert query(embedded_db(root), "select id from v") == [(1,)]


def test_switching_materialization_replaces_relation(project_factory) -> None:
    root = project_factory({"models/m.sql": "select 1 as id"})
    assert Project(root).run().success
    assert relation_types(root) == {"m": "VIEW"}
    (root / "models" / "m.sql").write_text("{{ config(materialized='table') }}select 2 as id")
    assert Project(root).run().success
    assert relation_types(root) == {"m": "BASE TABLE"}
    (root / "models" / "m.sql").write_text("select 3 as id")
    assert Project(root).run().success
    assert relation_types(root) == {"m": "VIEW"}
    assert query(embedded_db(root), "select id from m") == [(3,)]


def test_seed_types_and_overrides(project_factory) -> None:
    root = project_factory(
        {
            "seeds/people.csv": "id,name,score,born,active,zip,huge\n1,Ann,1.5,2020-01-02,true,01234,3000000000\n2,,2,2021-03-04,false,02345,1\n",
            "modelkit.yml": "name: demo\nseeds:\n  demo:\n    people:\n      +column_types: {zip: varchar}\n",
        }
    )
    result = Project(root).seed()
    assert result.success and result.results[0].message == "INSERT 2"
    types = dict(
        query(
            embedded_db(root),
            "select column_name, data_type from information_schema.columns where table_name = 'people'",
        )
    )
    assert types == {
        "id": "INTEGER", "name": "VARCHAR", "score": "DOUBLE", "born": "DATE",
        "active": "BOOLEAN", "zip": "VARCHAR", "huge": "BIGINT",
    }  # fmt: skip
    assert query(embedded_db(root), "select zip, name from people order by id") == [("01234", "Ann"), ("02345", None)]


def test_seed_command_prints_dbt_lines(project_factory) -> None:
    root = project_factory({"seeds/s.csv": "a\n1\n2\n"})
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 0
    assert "1 of 1 OK loaded seed file main.s " in out.output and "[INSERT 2 in " in out.output
    full = run_cli("seed", "--full-refresh", cwd=root)
    assert "[CREATE 2 in " in full.output
