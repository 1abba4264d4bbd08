"""Seeds: configs, reloads versus --full-refresh, malformed files and large files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

from modelkit import Project


def column_types(root: Path, table: str) -> dict[str, str]:
    rows = query(
        embedded_db(root),
        f"select column_name, data_type from information_schema.columns where table_name = '{table}' "
        "order by ordinal_position",
    )
    return dict(rows)


def test_delimiter_column_types_and_odd_column_names(project_factory) -> None:
    root = project_factory(
        {
            "seeds/semicolons.csv": "code;amount;first name;select\n007;1.50;Ann;x\n010;2;Bob;y\n",
            "seeds/_seeds.yml": """
                seeds:
                  - name: semicolons
                    config:
                      delimiter: ";"
                      column_types: {code: varchar, amount: "decimal(10,2)"}
            """,
        }
    )
    result = Project(root).seed()
    assert result.success, result.results[0].message
    assert column_types(root, "semicolons") == {
        "code": "VARCHAR", "amount": "DECIMAL(10,2)", "first name": "VARCHAR", "select": "VARCHAR",
    }  # fmt: skip
    assert query(embedded_db(root), 'select code, amount::varchar, "first name" from semicolons order by code') == [
        ("007", "1.50", "Ann"),
        ("010", "2.00", "Bob"),
    ]


def test_quote_columns_false_uses_plain_identifiers(project_factory) -> None:
    root = project_factory(
        {
            "seeds/plain.csv": "Id,Name\n1,a\n",
            "seeds/bad.csv": "id,first name\n1,a\n",
            "modelkit.yml": "name: demo\nseeds:\n  +quote_columns: false\n",
        }
    )
    result = Project(root).seed()
    status = {r.unique_id: r.status for r in result.results}
    assert status == {"seed.demo.plain": "success", "seed.demo.bad": "error"}  # "first name" needs quotes
    assert column_types(root, "plain") == {"Id": "INTEGER", "Name": "VARCHAR"}


def test_reload_keeps_the_table_full_refresh_recreates_it(project_factory) -> None:
    root = project_factory({"seeds/s.csv": "id,v\n1,10\n2,20\n"})
    db = embedded_db(root)
    assert Project(root).seed().success
    query_types = lambda: column_types(root, "s")  # noqa: E731
    assert query_types() == {"id": "INTEGER", "v": "INTEGER"}
    # values that would be inferred as DOUBLE are loaded into the existing INTEGER column (dbt keeps old types)
    (root / "seeds" / "s.csv").write_text("id,v\n1,10\n2,20\n3,30\n")
    again = run_cli("seed", cwd=root)
    assert again.exit_code == 0 and "[INSERT 3 in " in again.output
    assert query(db, "select count(*) from s") == [(3,)]
    (root / "seeds" / "s.csv").write_text("id,v\n1,1.5\n")
    assert run_cli("seed", cwd=root).exit_code == 0
    assert query_types() == {"id": "INTEGER", "v": "INTEGER"} and query(db, "select v from s") == [(2,)]
    full = run_cli("seed", "--full-refresh", cwd=root)
    assert full.exit_code == 0 and "[CREATE 1 in " in full.output
    assert query_types() == {"id": "INTEGER", "v": "DOUBLE"} and query(db, "select v from s") == [(1.5,)]


def test_changed_columns_need_a_full_refresh(project_factory) -> None:
    root = project_factory({"seeds/s.csv": "id,v\n1,10\n"})
    assert Project(root).seed().success
    (root / "seeds" / "s.csv").write_text("id,w\n1,10\n")
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 1
    assert "no longer match the table" in out.output and "modelkit seed --full-refresh" in out.output
    assert column_types(root, "s") == {"id": "INTEGER", "v": "INTEGER"}  # untouched
    assert run_cli("seed", "--full-refresh", cwd=root).exit_code == 0
    assert column_types(root, "s") == {"id": "INTEGER", "w": "INTEGER"}


def test_a_view_in_the_way_is_an_error(project_factory) -> None:
    root = project_factory({"models/s.sql": "select 1 as id", "seeds/t.csv": "id\n1\n"})
    assert Project(root).run().success
    (root / "seeds" / "t.csv").rename(root / "seeds" / "s.csv")
    (root / "models" / "s.sql").unlink()
    result = Project(root).seed()
    assert not result.success and "is a view, not a table" in (result.results[0].message or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,2\n3,4,5\n6,7\n", "line 3: expected 2 fields (as in the header), found 3"),
        ("a,b\n1,2\n3\n", "line 3: expected 2 fields (as in the header), found 1"),
        ('a,b\n1,2\n3,"open\n4,5\n', "line 3: unexpected end of data"),
        ("a,a\n1,2\n", "line 1: duplicate column names in the header: a"),
        ("a,b\n1,2\r\n\r\n3,4\n5,6,7\n", "line 5: expected 2 fields"),
    ],
)
def test_malformed_csv_names_file_and_line(project_factory, text: str, expected: str) -> None:
    root = project_factory({"seeds/bad.csv": text, "seeds/good.csv": "id\n1\n"})
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 1
    assert "Failure in seed bad (seeds/bad.csv)" in out.output
    assert f"Malformed CSV seeds/bad.csv, {expected}" in out.output
    assert "OK loaded seed file main.good" in out.output
    assert "Traceback" not in out.output


def test_value_the_sample_did_not_foresee_is_loaded(project_factory) -> None:
    rows = "".join(f"{i},{i}\n" for i in range(30000))
    root = project_factory({"seeds/late.csv": "id,code\n" + rows + "30000,X1\n"})
    assert Project(root).seed().success
    assert column_types(root, "late")["code"] == "VARCHAR"
    assert query(embedded_db(root), "select code from late where id = 30000") == [("X1",)]


def test_bad_value_for_a_declared_type_names_the_line(project_factory) -> None:
    root = project_factory(
        {
            "seeds/typed.csv": "id,n\n1,1\n2,two\n",
            "modelkit.yml": "name: demo\nseeds:\n  demo:\n    typed:\n      +column_types: {n: integer}\n",
        }
    )
    out = run_cli("seed", cwd=root)
    assert out.exit_code == 1
    assert "Could not load seeds/typed.csv, line 3:" in out.output


def test_large_seed_loads_natively(project_factory) -> None:
    rows = "".join(f"{i},name {i},{i * 0.5},2024-01-{i % 28 + 1:02d}\n" for i in range(200_000))
    root = project_factory({"seeds/big.csv": "id,name,score,day\n" + rows})
    started = time.perf_counter()
    result = Project(root).seed()
    elapsed = time.perf_counter() - started
    assert result.success and result.results[0].message == "INSERT 200000"
    assert elapsed < 10, elapsed  # row-by-row inserts would take minutes
    assert query(embedded_db(root), "select count(*), sum(id), max(day) from big") == [
        (200_000, 199_999 * 200_000 // 2, __import__("datetime").date(2024, 1, 28))
    ]


def test_quote_character_is_found_as_dbt_duckdb_copy_finds_it(project_factory) -> None:
    # dbt-duckdb loads a seed with COPY, whose sniffer finds the quote character of the file: dbt-utils'
    # data_nullcheck_table.csv quotes with single quotes, so '' is an empty (null) value there
    root = project_factory(
        {
            "seeds/single.csv": "field_1,field_2,field_3\na,'',1\n'',b,2\n'it''s','',3\n",
            "seeds/double.csv": 'a,b\n1,"say ""hi"", then go"\n2,\'kept\'\n',
        }
    )
    result = run_cli("seed", cwd=root)
    assert result.exit_code == 0, result.output
    db = embedded_db(root)
    assert query(db, "select * from single order by field_3") == [("a", None, 1), (None, "b", 2), ("it's", None, 3)]
    assert query(db, "select * from double order by a") == [(1, 'say "hi", then go'), (2, "'kept'")]
