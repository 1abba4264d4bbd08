"""Model access: a private model is referenced only from its own group, a protected model of a package that
sets ``restrict-access`` only from that package (dbt's DbtReferenceError); groups and exposures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import embedded_db, make_project, query, run_cli
from packages_support import make_projects, package_project

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


EXPOSURES = """
exposures:
  - name: weekly_report
    type: dashboard
    maturity: high
    url: https://bi.example/weekly
    owner: {name: Finance, email: finance@example.com}
    depends_on:
      - ref('finance_report')
      - source('raw', 'payments')
sources:
  - name: raw
    tables: [{name: payments}]
"""


def test_groups_and_exposures_are_in_the_manifest(tmp_path: Path) -> None:
    root = project(tmp_path, "select * from {{ ref('finance_report') }}")
    (root / "models" / "exposures.yml").write_text(EXPOSURES)
    (root / "models" / "graph_probe.sql").write_text(
        "select '{{ graph.exposures | length }}' as exposures, '{{ graph.groups | length }}' as groups_"
    )
    assert run_cli("run", cwd=root).exit_code == 0
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert set(manifest["groups"]) == {"group.demo.finance", "group.demo.marketing"}
    assert manifest["groups"]["group.demo.finance"]["owner"] == {"email": None, "name": "Finance"}
    exposure = manifest["exposures"]["exposure.demo.weekly_report"]
    assert exposure["depends_on"]["nodes"] == ["model.demo.finance_report", "source.demo.raw.payments"]
    assert exposure["type"] == "dashboard" and exposure["owner"]["email"] == "finance@example.com"
    assert query(embedded_db(root), "select exposures, groups_ from graph_probe") == [("1", "2")]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"models/exposures.yml": EXPOSURES.replace("finance_report", "finanse_report")}, "Exposure 'weekly_report'"),
        ({"models/exposures.yml": EXPOSURES.replace("type: dashboard", "type: poster")}, "has type 'poster'"),
        ({"models/other.sql": "{{ config(group='finanse') }} select 1 as x"}, "Invalid group 'finanse'"),
    ],
)
def test_bad_groups_and_exposures_are_located_errors(tmp_path: Path, files: dict, message: str) -> None:
    root = project(tmp_path, "select 1 as x")
    for rel, text in files.items():
        (root / rel).write_text(text)
    result = run_cli("parse", cwd=root)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


RESTRICTED = {"dbt_project.yml": package_project("acme", "restrict-access: true\n")}
PUBLIC = {"dbt_project.yml": package_project("acme", "restrict-access: true\nmodels:\n  acme:\n    +access: public\n")}
ACME_REF = "select 1 as x\nunion all\nselect id from {{ ref('acme_orders') }}\n"
# the root project's models, which ref the package's
OWN = {"models/orders_again.sql": "select 1 as id\n", "models/report.sql": "select 1 as x\n"}


def test_a_protected_model_of_a_package_that_restricts_access_is_refused_outside_it(tmp_path: Path) -> None:
    root = make_projects(tmp_path, acme=RESTRICTED, root={**OWN, "models/report.sql": ACME_REF})
    out = run_cli("run", cwd=root)
    assert out.exit_code == 2, out.output
    assert (
        "Node model.demo.report attempted to reference node model.acme.acme_orders, which is not allowed because "
        "the referenced node is protected to the 'acme' package." in " ".join(out.output.split())
    )
    assert "models/report.sql:3" in out.output
    assert not embedded_db(root).exists()  # refused while parsing: nothing was built


@pytest.mark.parametrize(
    ("acme", "root_files"),
    [
        ({}, {"models/report.sql": ACME_REF}),  # without restrict-access, protected models are open to all
        (PUBLIC, {"models/report.sql": ACME_REF}),  # a public model of a restricting package is open to all
        (RESTRICTED, {}),  # the package's own refs to it are allowed
    ],
)
def test_protected_models_open_to_their_package_and_without_restriction(
    tmp_path: Path, acme: dict, root_files: dict
) -> None:
    root = make_projects(tmp_path, acme=acme, root={**OWN, **root_files})
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 0, out.output
    nodes = json.loads((root / "target" / "manifest.json").read_text())["nodes"]
    assert nodes["model.acme.acme_summary"]["depends_on"]["nodes"] == ["model.acme.acme_orders"]


def test_a_semantic_model_outside_a_restricting_package_cannot_use_its_protected_model(tmp_path: Path) -> None:
    semantic = "semantic_models:\n  - name: acme_facts\n    model: ref('acme', 'acme_orders')\n"
    root = make_projects(tmp_path, acme=RESTRICTED, root={**OWN, "models/semantic.yml": semantic})
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 2, out.output
    assert (
        "Node semantic_model.demo.acme_facts attempted to reference node model.acme.acme_orders, which is not "
        "allowed because the referenced node is protected to the 'acme' package." in " ".join(out.output.split())
    )
    assert "models/semantic.yml" in out.output
