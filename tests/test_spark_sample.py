"""The bundled sample project on Spark: it builds, its tests pass, its tables match DuckDB's, and a
second build after new seed rows takes the incremental (merge) and snapshot paths.

sample_project is written in DuckDB's SQL and says so (``dialect: duckdb``). The Spark copy is the
project as it is, with a spark profile: modelkit translates its SQL, the types of the contract of
``customers`` (``varchar`` is Spark's ``string``) and the types of its seeds (a DuckDB seed's small
whole numbers are ``INTEGER``, Spark's ``int``, where dbt-spark's inference says ``bigint``).
:func:`test_without_its_dialect_spark_rejects_the_sample` shows the translation is what makes it run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SAMPLE_PROJECT, query, run_cli
from sample_engines_support import DONE_LINE, FIRST_BUILD_LINES, RELATIONS
from spark_support import rows, same_rows, session_output

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]


def copy_for_spark(root: Path, dirs: Any, *, dialect: bool = True) -> Path:
    """sample_project copied to ``root`` with a spark profile (schema main, as its source says); without
    its ``dialect:`` line when ``dialect`` is False."""
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    project_file = root / "modelkit.yml"
    text = project_file.read_text().replace("name: shop\n", "name: shop\nprofile: shop\n")
    assert re.search(r"^dialect: duckdb$", text, re.M)
    if not dialect:
        text = re.sub(r"^dialect: duckdb\n", "", text, flags=re.M)
    project_file.write_text(text)
    profile = {"shop": {"target": "dev", "outputs": {"dev": session_output(dirs, "main")}}}
    (root / "profiles.yml").write_text(yaml.safe_dump(profile))
    return root


@pytest.fixture(scope="session")  # not module: tests of other modules may run between these on the worker
def built(spark_dirs: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample built on Spark (its tables read), then its seeds, incremental model and snapshot again
    after new seed rows; and the sample built once on DuckDB."""
    base = tmp_path_factory.mktemp("spark_sample")
    root = copy_for_spark(base / "spark", spark_dirs)
    first = run_cli("build", cwd=root)
    tables = {
        name: (rows(root, f"select * from {schema}.{name}") if first.exit_code == 0 else [])
        for schema, name in RELATIONS
    }
    columns = {
        name: [c[0] for c in rows(root, f"describe table {schema}.{name}")] if first.exit_code == 0 else []
        for schema, name in RELATIONS
    }
    with open(root / "seeds" / "raw_payments.csv", "a", encoding="utf-8") as handle:
        handle.write("15,5,coupon,700\n")
    customers = root / "seeds" / "raw_customers.csv"
    customers.write_text(customers.read_text().replace("6,Sarah,R.,", "6,Sarah,Q.,"))
    seeded = run_cli("seed", cwd=root)  # first: the ledger reads the payments as a source, not through ref()
    assert seeded.exit_code == 0, seeded.output
    second = run_cli("build", "--select", "payments_ledger", "customers_snapshot", cwd=root)
    duck_root = base / "duckdb"
    shutil.copytree(SAMPLE_PROJECT, duck_root, ignore=shutil.ignore_patterns("target", "logs"))
    duck = run_cli("build", cwd=duck_root)
    assert duck.exit_code == 0, duck.output
    return {
        "root": root,
        "first": first,
        "second": second,
        "tables": tables,
        "columns": columns,
        "duckdb": duck_root / "target" / "shop.duckdb",
    }


def test_sample_project_builds_and_passes_its_tests(built: dict[str, Any]) -> None:
    first, second = built["first"], built["second"]
    assert first.exit_code == 0, first.output
    assert "Registered adapter: spark=4.0" in first.output
    assert DONE_LINE in first.output
    for line in FIRST_BUILD_LINES:
        assert line in first.output, line
    assert second.exit_code == 0, second.output
    assert "OK created sql incremental model main.payments_ledger" in second.output
    assert "OK snapshotted main.customers_snapshot" in second.output


def test_tables_match_duckdb(built: dict[str, Any]) -> None:
    """Every seed, model, snapshot and stored test failure of the first build: same columns and rows."""
    for schema, name in RELATIONS:
        spark_columns, spark_rows = built["columns"][name], built["tables"][name]
        duck_columns = [r[0] for r in query(built["duckdb"], f'describe "{schema}"."{name}"')]
        duck_rows = query(built["duckdb"], f'select * from "{schema}"."{name}"')
        assert spark_columns == duck_columns, name
        kept = [i for i, c in enumerate(spark_columns) if not c.startswith("dbt_")]  # snapshot times differ
        assert same_rows([[r[i] for i in kept] for r in duck_rows], [[r[i] for i in kept] for r in spark_rows]), (
            f"{name}:\nDuckDB: {sorted(map(str, duck_rows))}\nSpark: {sorted(map(str, spark_rows))}"
        )


def test_second_build_merges_new_payments_and_records_history(built: dict[str, Any]) -> None:
    root = built["root"]
    ledger = rows(root, "select payment_id, amount, loaded_by from main.payments_ledger order by payment_id")
    assert len(ledger) == 15
    assert ledger[-1] == (15, 7.0, "incremental run")
    assert {loaded for _, _, loaded in ledger[:-1]} == {"full build"}
    history = rows(
        root,
        "select id, last_name, dbt_valid_to is null from main.customers_snapshot where id = 6 order by dbt_valid_from",
    )
    assert history == [(6, "R.", False), (6, "Q.", True)]
    assert rows(root, "select count(*) from main.customers_snapshot where dbt_valid_to is null") == [(8,)]
    assert not [name for name in rows(root, "show tables in main") if "__dbt_tmp" in name[1]]


def test_seed_types_are_duckdb_s_translated(built: dict[str, Any]) -> None:
    """The seeds hold what a DuckDB seed holds, in Spark's names (not dbt-spark's ``bigint`` / ``string``
    guesses for a project written for Spark)."""
    described = {name: dtype for name, dtype, *_ in rows(built["root"], "describe table main.raw_customers")}
    assert described == {"id": "int", "first_name": "string", "last_name": "string", "signed_up_at": "date"}
    duck = {r[0]: r[1] for r in query(built["duckdb"], 'describe "main"."raw_customers"')}
    assert duck == {"id": "INTEGER", "first_name": "VARCHAR", "last_name": "VARCHAR", "signed_up_at": "DATE"}


def test_without_its_dialect_spark_rejects_the_sample(built: dict[str, Any], spark_dirs: Any, tmp_path: Path) -> None:
    """Without ``dialect: duckdb`` the contract's ``varchar`` reaches Spark as written, and the model fails
    before anything is replaced."""
    root = copy_for_spark(tmp_path / "plain", spark_dirs, dialect=False)
    result = run_cli("run", "--select", "customers", cwd=root)
    assert result.exit_code == 1, result.output
    assert "Failure in model customers (" in result.output
    for message in (
        "Column 'first_name' of the contract has data_type 'varchar', which the database does not know",
        "[DATATYPE_MISSING_SIZE]",
    ):
        assert message in result.output, result.output
    assert rows(built["root"], "select count(*) from main.customers") == [(8,)]  # still the first build's
