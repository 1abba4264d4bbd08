"""ref(), source() and names across packages: dbt's search order, and dbt's errors for clashes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import query, run_cli, write_files
from packages_support import ROOT, TWO_PACKAGES, make_projects, package_project


def manifest(root: Path) -> dict:
    return json.loads((root / "target" / "manifest.json").read_text())


def test_unqualified_refs_look_in_the_root_project_first_then_the_package(tmp_path: Path) -> None:
    root = make_projects(
        tmp_path,
        root={
            # a root model with the name of a package model: it builds elsewhere (main, not main_acme)
            "models/acme_orders.sql": "select 100 as id, 0 as amount\n",
            "models/orders_again.sql": "select * from {{ ref('acme', 'acme_orders') }}\n",
            "models/from_source.sql": "select * from {{ source('acme_src', 'events') }}\n",
        },
    )
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    nodes = manifest(root)["nodes"]
    # from the root project: its own model; with the package named: the package's
    assert nodes["model.demo.orders_again"]["depends_on"]["nodes"] == ["model.acme.acme_orders"]
    assert nodes["model.demo.from_source"]["depends_on"]["nodes"] == ["source.acme.acme_src.events"]
    # from a package node, unqualified, dbt looks in the root project first too
    assert nodes["model.acme.acme_summary"]["depends_on"]["nodes"] == ["model.demo.acme_orders"]
    assert query(root / "target" / "demo.duckdb", "select n from main_acme.acme_summary") == [(1,)]
    assert (
        "[WARNING]: The node 'acme_summary'in package 'acme' depends on the root project node "
        "'model.demo.acme_orders'.This may lead to unexpected cycles downstream." in out.output
    )
    # a package's generic test refers to its own model (attached to it, not to the root's namesake)
    unique = next(n for n in nodes.values() if n["name"] == "unique_acme_orders_id")
    assert unique["attached_node"] == "model.acme.acme_orders"
    # dbt's behaviour flag: a package's node looks in its own package first
    flag = "        flags:\n          require_ref_searches_node_package_before_root: true\n"
    write_files(root, {"dbt_project.yml": ROOT["dbt_project.yml"].rstrip(" ") + flag})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert "[WARNING]" not in out.output
    assert manifest(root)["nodes"]["model.acme.acme_summary"]["depends_on"]["nodes"] == ["model.acme.acme_orders"]


def test_a_name_defined_by_two_packages_must_be_qualified(tmp_path: Path) -> None:
    beta = {
        "dbt_project.yml": package_project("beta", "models:\n  beta:\n    +schema: beta\n"),
        "models/acme_summary.sql": "select 'beta' as who\n",
    }
    report = {"models/report.sql": "select * from {{ ref('acme_summary') }}\n"}
    root = make_projects(tmp_path, root={"packages.yml": TWO_PACKAGES, **report}, others={"beta": beta})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert "Compilation Error in model report (models/report.sql:1)" in out.output
    assert (
        "When referencing 'acme_summary', modelkit found nodes in multiple packages: "
        "'model.acme.acme_summary', 'model.beta.acme_summary'" in out.output
    )
    assert "To fix this, use two-argument 'ref', with the package name first: 'acme' or 'beta'" in out.output
    write_files(root, {"models/report.sql": "select * from {{ ref('beta', 'acme_summary') }}\n"})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert manifest(root)["nodes"]["model.demo.report"]["depends_on"]["nodes"] == ["model.beta.acme_summary"]


def test_two_nodes_of_one_package_with_one_name(tmp_path: Path) -> None:
    root = make_projects(tmp_path, acme={"models/a/dup.sql": "select 1 as x\n", "models/b/dup.sql": "select 2 as x\n"})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert 'modelkit found two models with the name "dup".' in out.output
    assert 'when looking for ref("dup").' in out.output
    assert "- model.acme.dup (models/b/dup.sql)" in out.output
    assert "- model.acme.dup (models/a/dup.sql)" in out.output


def test_two_packages_building_one_relation(tmp_path: Path) -> None:
    beta = {"dbt_project.yml": package_project("beta"), "models/report.sql": "select 'beta' as who\n"}
    root = make_projects(tmp_path, root={"packages.yml": TWO_PACKAGES}, others={"beta": beta})
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert 'modelkit found two resources with the database representation ""demo"."main"."report"".' in out.output
    assert "- model.demo.report (models/report.sql)" in out.output
    assert "- model.beta.report (models/report.sql)" in out.output
    # the same name in two schemas is fine, and the root's unqualified ref means the root's own model
    write_files(tmp_path / "beta", {"dbt_project.yml": package_project("beta", "models:\n  +schema: beta\n")})
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert query(root / "target" / "demo.duckdb", "select who from main_beta.report") == [("beta",)]


def test_missing_and_disabled_package_refs(tmp_path: Path) -> None:
    root = make_projects(tmp_path, root={"models/report.sql": "select * from {{ ref('acme', 'nope') }}\n"})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert (
        "model 'model.demo.report' (models/report.sql) depends on a node named 'nope' "
        "in package or project 'acme' which was not found" in out.output
    )
    write_files(
        root,
        {
            "models/report.sql": "select * from {{ ref('acme_events') }}\n",
            "dbt_project.yml": "name: demo\nprofile: demo\nmodels:\n  acme:\n    acme_events:\n      +enabled: false\n",
        },
    )
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert "depends on a node named 'acme_events' which is disabled" in out.output


def test_package_folders_must_be_installed_and_uniquely_named(tmp_path: Path) -> None:
    root = make_projects(tmp_path)
    write_files(root, {"packages.yml": TWO_PACKAGES})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert (
        "modelkit found 2 package(s) specified in packages.yml, but only 1 package(s) installed in dbt_packages. "
        'Run "modelkit deps" to install package dependencies.' in out.output
    )
    write_files(root / "dbt_packages" / "acme_copy", {"dbt_project.yml": package_project("acme")})
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 2, out.output
    assert 'modelkit found more than one package with the name "acme" included in this project.' in out.output


def test_the_root_project_overrides_a_package_source(tmp_path: Path) -> None:
    root = make_projects(
        tmp_path,
        root={
            "models/sources.yml": """
                sources:
                  - name: acme_src
                    overrides: acme
                    loader: the root project
                    tables:
                      - name: events
                        identifier: acme_raw_orders
                        description: Events, as the root project sees them
                        columns:
                          - name: id
                            data_tests: [unique]
                      - name: missing_table
                  - name: no_such_source
                    overrides: acme
            """,
        },
    )
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert "During parsing, modelkit encountered source overrides that had no target:" in out.output
    assert "  - Source table acme.acme_src.missing_table (in models/sources.yml)" in out.output
    assert "  - Source acme.no_such_source (in models/sources.yml)" in out.output
    data = manifest(root)
    assert list(data["sources"]) == ["source.acme.acme_src.events"]  # the override is no source of the root's
    source = data["sources"]["source.acme.acme_src.events"]
    assert (source["description"], source["loader"]) == ("Events, as the root project sees them", "the root project")
    tests = {n["name"]: uid for uid, n in data["nodes"].items() if n["resource_type"] == "test"}
    assert "source_not_null_acme_src_events_id" not in tests  # the override's columns replace the package's
    assert tests["source_unique_acme_src_events_id"].startswith("test.acme.source_unique_acme_src_events_id.")
    assert "PASS source_unique_acme_src_events_id" in out.output
