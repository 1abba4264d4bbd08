"""Model contracts: checked before anything is replaced, with dbt's mismatch table."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import embedded_db, query, run_cli

from modelkit.execute.contracts import mismatches

CONTRACT = """
models:
  - name: customers
    config:
      materialized: {materialized}
      contract: {{enforced: true}}
    columns:
      - name: id
        data_type: {id_type}
      - name: {second}
        data_type: varchar
"""


def project(project_factory, sql: str, id_type: str = "integer", second: str = "name", mat: str = "table") -> Path:
    return project_factory(
        {
            "models/customers.sql": sql,
            "models/schema.yml": CONTRACT.format(materialized=mat, id_type=id_type, second=second),
        }
    )


def test_matching_contract_builds_in_contract_order(project_factory) -> None:
    root = project(project_factory, "select 'a' as name, 1 as id\n", id_type="int")
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    columns = query(
        embedded_db(root),
        "select column_name, data_type from information_schema.columns where table_name = 'customers' "
        "order by ordinal_position",
    )
    assert columns == [("id", "INTEGER"), ("name", "VARCHAR")]


@pytest.mark.parametrize("mat", ["table", "view"])
def test_mismatch_fails_before_replacing_anything(project_factory, mat: str) -> None:
    root = project(project_factory, "select 1 as id, 'a' as name\n", mat=mat)
    assert run_cli("run", cwd=root).exit_code == 0
    (root / "models/schema.yml").write_text(
        CONTRACT.format(materialized=mat, id_type="varchar", second="nme"), encoding="utf-8"
    )
    (root / "models/customers.sql").write_text("select 2 as id, 'b' as name\n", encoding="utf-8")
    result = run_cli("run", cwd=root)
    assert result.exit_code == 1
    out = result.output
    assert f"ERROR creating sql {mat} model main.customers" in out
    assert "Compilation Error in model customers (models/customers.sql)" in out
    assert "This model has an enforced contract that failed." in out
    assert (
        "Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition."
        in out
    )
    table = [
        "| column_name | definition_type | contract_type | mismatch_reason       |",
        "| ----------- | --------------- | ------------- | --------------------- |",
        "| id          | INTEGER         | VARCHAR       | data type mismatch    |",
        "| name        | VARCHAR         |               | missing in contract   |",
        "| nme         |                 | VARCHAR       | missing in definition |",
    ]
    for line in table:
        assert "  " + line in out
    assert query(embedded_db(root), "select id, name from main.customers") == [(1, "a")]  # old relation kept


def test_missing_data_type_is_a_parse_error(project_factory) -> None:
    root = project_factory(
        {
            "models/m.sql": "select 1 as id\n",
            "models/schema.yml": """
                models:
                  - name: m
                    config: {contract: {enforced: true}}
                    columns:
                      - name: id
            """,
        }
    )
    result = run_cli("run", cwd=root)
    assert result.exit_code == 2
    assert "Parsing Error (models/schema.yml)" in result.output
    assert "require data_type to be defined for each column" in result.output and "['id']" in result.output


def test_unknown_type_is_reported_by_column(project_factory) -> None:
    root = project(project_factory, "select 1 as id, 'a' as name\n", id_type="integr")
    result = run_cli("run", cwd=root)
    assert result.exit_code == 1
    assert "Column 'id' of the contract has data_type 'integr', which the database does not know" in result.output


def test_mismatch_rows() -> None:
    rows = mismatches([("b", "INTEGER"), ("a", "DATE")], [("a", "DATE"), ("b", "BIGINT"), ("c", "VARCHAR")])
    assert [r["column_name"] for r in rows] == ["b", "c"]
    assert [r["mismatch_reason"] for r in rows] == ["data type mismatch", "missing in definition"]
    assert mismatches([("A", "INTEGER")], [("a", "INTEGER")]) == []
