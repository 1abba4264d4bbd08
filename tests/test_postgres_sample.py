"""The bundled sample project on PostgreSQL: it builds, its tests pass, and its tables match DuckDB's.

sample_project is written in DuckDB's SQL. PostgreSQL rejects exactly the constructs listed in
:data:`PG_DIALECT_EDITS`; the PostgreSQL copy gets those edits (same results, spelled for
PostgreSQL) and :func:`test_duckdb_sql_the_sample_project_uses_that_postgresql_rejects` shows that
each one is needed, with the error PostgreSQL gives without it. Everything else runs unchanged.
"""

from __future__ import annotations

import datetime
import math
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pg_support
import pytest
import yaml
from conftest import SAMPLE_PROJECT, query, run_cli

pytestmark = pytest.mark.postgres

# (file, DuckDB text, PostgreSQL text): PostgreSQL has no type named "double" and no round(double, int).
MACRO = "macros/cents_to_dollars.sql"
DUCKDB_ROUND = "round(cast({{ column_name }} as double) / 100, {{ scale }})"
PG_ROUND = "cast(round(cast({{ column_name }} as numeric) / 100, {{ scale }}) as double precision)"
PG_DIALECT_EDITS = [
    (MACRO, DUCKDB_ROUND, PG_ROUND),
    ("models/marts/_marts.yml", "data_type: double\n", "data_type: double precision\n"),
]
# Floats compare within this tolerance (relative and absolute): DuckDB rounds doubles to cents,
# the PostgreSQL copy rounds numerics and casts them to double precision.
TOLERANCE = 1e-9
RELATIONS = [
    ("main", "raw_customers"),
    ("main", "raw_orders"),
    ("main", "raw_payments"),
    ("main", "stg_customers"),
    ("main", "stg_orders"),
    ("main", "stg_payments"),
    ("main", "orders"),
    ("main", "customers"),
    ("main", "payments_ledger"),
    ("main", "customers_snapshot"),
    ("main_dbt_test__audit", "relationships_orders_customer_id__customer_id__ref_customers_"),
]


def copy_for_postgres(
    root: Path, server: pg_support.Server, dbname: str, edits: list[tuple[str, str, str]] = PG_DIALECT_EDITS
) -> Path:
    """sample_project copied to ``root`` with a postgres profile (schema main) and ``edits`` applied."""
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    project_file = root / "modelkit.yml"
    project_file.write_text(project_file.read_text().replace("name: shop\n", "name: shop\nprofile: shop\n"))
    profile = {"shop": {"target": "pg", "outputs": {"pg": pg_support.profile_output(server, dbname, "main")}}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    for rel, old, new in edits:
        path = root / rel
        text = path.read_text()
        assert old in text, f"{rel} no longer holds {old!r}"
        path.write_text(text.replace(old, new))
    return root


@pytest.fixture(scope="module")
def built(pg_server: pg_support.Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample built twice on PostgreSQL (first build, then the incremental run) and once on DuckDB."""
    base = tmp_path_factory.mktemp("pg_sample")
    pg_support.create_database(pg_server, "modelkit_sample")
    pg_root = copy_for_postgres(base / "pg", pg_server, "modelkit_sample")
    first = run_cli("build", cwd=pg_root)
    second = run_cli("build", cwd=pg_root)
    duck_root = base / "duckdb"
    shutil.copytree(SAMPLE_PROJECT, duck_root, ignore=shutil.ignore_patterns("target", "logs"))
    duck = run_cli("build", cwd=duck_root)
    assert duck.exit_code == 0, duck.output
    return {"root": pg_root, "first": first, "second": second, "duckdb": duck_root / "target" / "shop.duckdb"}


def test_sample_project_builds_and_passes_its_tests(built: dict[str, Any]) -> None:
    first, second = built["first"], built["second"]
    assert first.exit_code == 0, first.output
    assert "Registered adapter: postgres=" in first.output
    assert "Done. PASS=32 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=33" in first.output
    for line in (
        "OK loaded seed file main.raw_orders",
        "OK created sql view model main.stg_orders",
        "OK created sql table model main.customers",  # the contracted model
        "OK created sql incremental model main.payments_ledger",
        "OK snapshotted main.customers_snapshot",
        "PASS customers::lifetime_value_sums_all_orders",
        "PASS orders::orders_without_payments_have_zero_amount",
        "PASS relationships_orders_customer_id__customer_id__ref_customers_",
        "WARN 1 positive_stg_payments_amount",
        "PASS assert_order_amounts_add_up",
    ):
        assert line in first.output, line
    # the second build takes the incremental and snapshot paths: a merge and a snapshot update
    assert second.exit_code == 0, second.output
    assert "Done. PASS=32 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=33" in second.output
    assert "OK created sql incremental model main.payments_ledger" in second.output
    assert "[MERGE 0 in" in second.output  # nothing newer than the table's payments: nothing merged


def test_tables_match_duckdb(built: dict[str, Any], pg_server: pg_support.Server) -> None:
    """Every seed, model, snapshot and stored test failure: the same columns and rows on both engines."""
    with pg_server.connect("modelkit_sample") as con:
        for schema, name in RELATIONS:
            cur = con.execute(f'select * from "{schema}"."{name}"')
            pg_columns = [d.name for d in cur.description]
            pg_rows = cur.fetchall()
            duck_columns = [r[0] for r in query(built["duckdb"], f'describe "{schema}"."{name}"')]
            duck_rows = query(built["duckdb"], f'select * from "{schema}"."{name}"')
            assert pg_columns == duck_columns, name
            kept = [i for i, c in enumerate(pg_columns) if not c.startswith("dbt_")]  # snapshot times differ
            assert same_rows([[r[i] for i in kept] for r in duck_rows], [[r[i] for i in kept] for r in pg_rows]), (
                f"{name}:\nDuckDB: {sorted(map(str, duck_rows))}\nPostgreSQL: {sorted(map(str, pg_rows))}"
            )
            assert len(pg_rows) == len(duck_rows)


def _normal(value: Any) -> Any:
    if isinstance(value, (Decimal, float)):
        return float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _key(row: list[Any]) -> tuple[str, ...]:
    return tuple(f"{v:.6f}" if isinstance(v, float) else repr(v) for v in row)


def same_rows(expected: list[list[Any]], actual: list[list[Any]]) -> bool:
    """The same multiset of rows, floats equal within TOLERANCE."""
    left = sorted(([_normal(v) for v in row] for row in expected), key=_key)
    right = sorted(([_normal(v) for v in row] for row in actual), key=_key)
    if len(left) != len(right):
        return False
    for a_row, b_row in zip(left, right):
        for a, b in zip(a_row, b_row):
            if isinstance(a, float) and isinstance(b, (float, int)) and not isinstance(b, bool):
                if not math.isclose(a, float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                    return False
            elif a != b:
                return False
    return True


def test_same_rows_tolerates_float_noise_only() -> None:
    assert same_rows([[1, 0.1 + 0.2]], [[1, Decimal("0.3")]])
    assert same_rows([["a", 1.0], ["b", 2.0]], [["b", 2.0], ["a", 1.0]])
    assert not same_rows([[1, 0.3]], [[1, 0.31]])
    assert not same_rows([[1]], [[1], [1]])


def test_duckdb_sql_the_sample_project_uses_that_postgresql_rejects(
    pg_server: pg_support.Server, tmp_path: Path
) -> None:
    """Each edit of PG_DIALECT_EDITS is needed: without it PostgreSQL stops the build with this error."""
    pg_support.create_database(pg_server, "modelkit_sample_unedited")
    steps = [
        ([], "stg_payments", 'type "double" does not exist'),
        ([(MACRO, DUCKDB_ROUND, DUCKDB_ROUND.replace("as double)", "as double precision)"))], "stg_payments",
         "function round(double precision, integer) does not exist"),
        (PG_DIALECT_EDITS[:1], "customers",
         "Column 'lifetime_value' of the contract has data_type 'double', which the database does not know"),
    ]  # fmt: skip
    for index, (edits, failing, message) in enumerate(steps):
        root = copy_for_postgres(tmp_path / f"step{index}", pg_server, "modelkit_sample_unedited", edits)
        result = run_cli("build", "--threads", "4", cwd=root)
        assert result.exit_code == 1, result.output
        assert f"Failure in model {failing} (" in result.output, result.output
        assert message in result.output, result.output
        assert "ERROR=1 " in result.output, result.output
