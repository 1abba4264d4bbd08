"""Contract constraints become DDL: DuckDB checks them on every row, and a violation keeps the old table."""

from __future__ import annotations

from pathlib import Path

from conftest import embedded_db, make_project, query, run_cli

from modelkit.adapters.base import NOT_ENFORCED, NOT_SUPPORTED
from modelkit.adapters.duckdb import DuckDBAdapter
from modelkit.api.project import Project
from modelkit.execute.contracts import table_schema

SCHEMA = """
models:
  - name: customers
    config:
      contract: {enforced: true}
    constraints:
      - type: unique
        columns: [email]
        name: one_account_per_email
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: not_null
          - type: primary_key
      - name: email
        data_type: varchar
        constraints:
          - type: check
            expression: "email like '%@%'"
"""
GOOD = "{{ config(materialized='table') }}\nselect 1 as id, 'a@x' as email union all select 2, 'b@x'"


def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "demo", {"models/customers.sql": GOOD, "models/schema.yml": SCHEMA})


def constraint_kinds(db: Path) -> list[str]:
    rows = query(db, "select constraint_type from duckdb_constraints() where table_name = 'customers'")
    return sorted(r[0] for r in rows)


def test_constraints_are_declared_and_enforced(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = run_cli("run", cwd=root)
    assert result.exit_code == 0, result.output
    db = embedded_db(root)
    assert query(db, "select id, email from customers order by id") == [(1, "a@x"), (2, "b@x")]
    assert constraint_kinds(db) == ["CHECK", "NOT NULL", "PRIMARY KEY", "UNIQUE"]


BAD_ROWS = {
    "duplicate key": "select 1 as id, 'a@x' as email union all select 1, 'c@x'",
    "null key": "select cast(null as integer) as id, 'a@x' as email",
    "check": "select 3 as id, 'no-at-sign' as email",
    "unique email": "select 3 as id, 'a@x' as email union all select 4, 'a@x'",
}


def test_a_violation_fails_the_model_and_keeps_the_previous_table(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert run_cli("run", cwd=root).exit_code == 0
    db = embedded_db(root)
    for label, sql in BAD_ROWS.items():
        (root / "models" / "customers.sql").write_text("{{ config(materialized='table') }}\n" + sql)
        result = run_cli("run", cwd=root)
        assert result.exit_code == 1, label
        assert "models/customers.sql" in result.output, label
        assert query(db, "select id, email from customers order by id") == [(1, "a@x"), (2, "b@x")], label
        assert constraint_kinds(db) == ["CHECK", "NOT NULL", "PRIMARY KEY", "UNIQUE"], label


def test_constraints_an_engine_does_not_enforce_are_warned_about(tmp_path: Path) -> None:
    root = project(tmp_path)
    with Project(root).session("run") as session:
        node = session.manifest.nodes["model.demo.customers"]
        adapter = DuckDBAdapter(session.target)
        adapter.constraint_support = {
            **adapter.constraint_support,
            "check": NOT_SUPPORTED,
            "unique": NOT_ENFORCED,
        }
        warnings: list[str] = []
        schema = table_schema(node, adapter, warnings.append)
    assert [c for c in schema.columns if c[0] == "email"] == [("email", "varchar", ())]  # the check is left out
    assert schema.constraints == ('constraint "one_account_per_email" unique ("email")',)  # declared, not enforced
    assert any("`check` constraint is not supported by duckdb" in w for w in warnings)
    assert any("`unique` constraint is not enforced by duckdb" in w for w in warnings)


def test_views_keep_their_contract_without_ddl(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / "models" / "customers.sql").write_text(GOOD.replace("'table'", "'view'"))
    assert run_cli("run", cwd=root).exit_code == 0
    assert query(embedded_db(root), "select count(*) from customers") == [(2,)]
