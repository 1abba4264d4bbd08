"""The bundled sample project on PostgreSQL: it builds, its tests pass, and its tables match DuckDB's.

sample_project is written in DuckDB's SQL and says so (``dialect: duckdb`` in modelkit.yml). The
PostgreSQL copy is the project as it is, with a postgres profile: modelkit translates its SQL
(``round(double, 2)``, ``cast(... as double)``) and its contract type (``double``) when it compiles
them. :func:`test_without_its_dialect_postgresql_rejects_the_sample` shows the translation is what
makes it run.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pg_support
import pytest
import yaml
from conftest import SAMPLE_PROJECT, query, run_cli
from sample_engines_support import DONE_LINE, FIRST_BUILD_LINES, RELATIONS

pytestmark = pytest.mark.postgres

# Floats compare within this tolerance (relative and absolute): DuckDB rounds doubles to cents,
# PostgreSQL rounds them as numerics and casts them back to double precision.
TOLERANCE = 1e-9
DUCKDB_ROUND = "round(cast(amount as double) / 100, 2)"
PG_ROUND = "CAST(ROUND(CAST(CAST(amount AS DOUBLE PRECISION) / 100 AS DECIMAL), 2) AS DOUBLE PRECISION)"


def copy_for_postgres(root: Path, server: pg_support.Server, dbname: str, *, dialect: bool = True) -> Path:
    """sample_project copied to ``root`` with a postgres profile (schema main, target ``pg``) and a
    DuckDB one (target ``duck``); without its ``dialect:`` line when ``dialect`` is False."""
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    project_file = root / "modelkit.yml"
    text = project_file.read_text().replace("name: shop\n", "name: shop\nprofile: shop\n")
    assert re.search(r"^dialect: duckdb$", text, re.M)
    if not dialect:
        text = re.sub(r"^dialect: duckdb\n", "", text, flags=re.M)
    project_file.write_text(text)
    outputs = {
        "pg": pg_support.profile_output(server, dbname, "main"),
        "duck": {"type": "duckdb", "path": str(root / "target" / "shop.duckdb")},
    }
    (root / "profiles.yml").write_text(yaml.safe_dump({"shop": {"target": "pg", "outputs": outputs}}))
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
    assert DONE_LINE in first.output
    for line in FIRST_BUILD_LINES:
        assert line in first.output, line
    # the second build takes the incremental and snapshot paths: a merge and a snapshot update
    assert second.exit_code == 0, second.output
    assert DONE_LINE in second.output
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


def test_compile_shows_the_sql_each_target_runs(built: dict[str, Any]) -> None:
    """``compile --target`` prints the SQL that target runs; compiled files and manifest.json hold it too."""
    root = built["root"]
    result = run_cli("compile", "--target", "pg", "--select", "stg_payments", cwd=root)
    assert result.exit_code == 0, result.output
    assert PG_ROUND in result.output and DUCKDB_ROUND not in result.output
    compiled = (root / "target/compiled/shop/models/staging/stg_payments.sql").read_text()
    assert f"{PG_ROUND} AS amount" in compiled
    manifest = json.loads((root / "target/manifest.json").read_text())
    assert manifest["nodes"]["model.shop.stg_payments"]["compiled_code"] == compiled

    result = run_cli("compile", "--target", "duck", "--select", "stg_payments", cwd=root)
    assert result.exit_code == 0, result.output
    assert DUCKDB_ROUND in result.output and PG_ROUND not in result.output  # DuckDB's own SQL, as rendered


def test_without_its_dialect_postgresql_rejects_the_sample(pg_server: pg_support.Server, tmp_path: Path) -> None:
    """Without ``dialect: duckdb`` the DuckDB SQL goes to PostgreSQL as written, and stops the build."""
    pg_support.create_database(pg_server, "modelkit_sample_as_written")
    root = copy_for_postgres(tmp_path / "as_written", pg_server, "modelkit_sample_as_written", dialect=False)
    result = run_cli("build", "--threads", "4", cwd=root)
    assert result.exit_code == 1, result.output
    assert "Failure in model stg_payments (" in result.output, result.output
    assert 'type "double" does not exist' in result.output, result.output
