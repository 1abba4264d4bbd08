"""Model access: a private model is referenced only from its own group (dbt's DbtReferenceError)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import embedded_db, make_project, query, run_cli

SCHEMA = """
groups:
  - name: finance
    owner: {name: Finance}
  - name: marketing
    owner: {name: Marketing}
models:
  - name: finance_model
    access: private
    group: finance
  - name: finance_report
    config: {group: finance}
  - name: marketing_model
    config: {group: marketing}
"""


def project(tmp_path: Path, marketing_sql: str) -> Path:
    return make_project(
        tmp_path / "demo",
        {
            "models/schema.yml": SCHEMA,
            "models/finance_model.sql": "select 1 as amount",
            "models/finance_report.sql": "select * from {{ ref('finance_model') }}",
            "models/marketing_model.sql": marketing_sql,
        },
    )


def test_a_private_model_is_refused_outside_its_group(tmp_path: Path) -> None:
    root = project(tmp_path, "select 1 as x\nunion all\nselect * from {{ ref('finance_model') }}")
    result = run_cli("run", cwd=root)
    assert result.exit_code == 2
    assert (
        "Node model.demo.marketing_model attempted to reference node model.demo.finance_model, which is not "
        "allowed because the referenced node is private to the 'finance' group." in " ".join(result.output.split())
    )
    assert "models/marketing_model.sql:3" in result.output
    assert not embedded_db(root).exists()  # refused while parsing: nothing was built


@pytest.mark.parametrize("access", ["protected", "public"])
def test_its_own_group_and_other_access_levels_are_allowed(tmp_path: Path, access: str) -> None:
    root = project(tmp_path, "select * from {{ ref('finance_report') }}")
    assert run_cli("run", cwd=root).exit_code == 0
    assert query(embedded_db(root), "select amount from marketing_model") == [(1,)]
    (root / "models" / "schema.yml").write_text(SCHEMA.replace("access: private", f"access: {access}"))
    (root / "models" / "marketing_model.sql").write_text("select * from {{ ref('finance_model') }}")
    assert run_cli("run", cwd=root).exit_code == 0
