"""An installed package is part of the project: built, named, configured and listed as dbt does it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import query, run_cli
from packages_support import ACME, make_projects


def db(root: Path) -> Path:
    return root / "target" / "demo.duckdb"


def test_build_builds_the_package_with_its_configs_and_the_root_overrides(tmp_path: Path) -> None:
    root = make_projects(tmp_path)
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert "Found 5 models, 5 data tests, 1 seed, 1 snapshot, 1 source" in out.output
    assert "OK loaded seed file main_acme_seeds.acme_raw_orders" in out.output  # the package's +schema
    # the root project's `models: acme: +schema` and `staging: +materialized: table` win over the package's
    assert "OK created sql table model main_acme.acme_orders" in out.output
    assert "OK snapshotted main.acme_snap" in out.output
    assert "PASS is_even_acme_orders_amount" in out.output  # the package's own generic test
    assert "PASS assert_amounts_positive" in out.output  # and its singular test
    assert "PASS source_not_null_acme_src_events_id" in out.output
    assert "Done. PASS=12 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=12" in out.output
    tables = query(db(root), "select table_schema, table_name, table_type from information_schema.tables order by 1, 2")
    assert tables == [
        ("main", "acme_snap", "BASE TABLE"),
        ("main", "orders_again", "VIEW"),
        ("main", "report", "VIEW"),
        ("main_acme", "acme_events", "BASE TABLE"),
        ("main_acme", "acme_orders", "BASE TABLE"),
        ("main_acme", "acme_summary", "BASE TABLE"),
        ("main_acme_seeds", "acme_raw_orders", "BASE TABLE"),
    ]
    # vars: the root's scoped to acme > the root's global > acme's own; the package's macros and dispatch
    assert query(db(root), "select * from report") == [
        (2, "from_root_for_acme", "from_root", "package_default", 4, "hello from acme")
    ]
    assert query(db(root), "select count(*) from main.acme_snap") == [(2,)]


def test_manifest_names_package_nodes_as_dbt_does(tmp_path: Path) -> None:
    root = make_projects(tmp_path)
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    orders = nodes["model.acme.acme_orders"]
    assert orders["package_name"] == "acme"
    assert orders["fqn"] == ["acme", "staging", "acme_orders"]
    assert orders["path"] == "staging/acme_orders.sql"
    assert orders["original_file_path"] == "models/staging/acme_orders.sql"  # relative to the package
    assert orders["patch_path"] == "acme://models/staging/schema.yml"
    assert orders["description"] == "Orders, as acme keeps them"  # doc() finds the package's docs block
    assert orders["config"]["tags"] == ["acme_staging"]
    assert (orders["schema"], orders["config"]["materialized"]) == ("main_acme", "table")
    summary = nodes["model.acme.acme_summary"]
    assert summary["config"]["tags"] == ["own"] and summary["config"]["materialized"] == "table"
    assert summary["depends_on"]["nodes"] == ["model.acme.acme_orders"]
    assert "macro.acme.acme_double" in summary["depends_on"]["macros"]
    assert nodes["model.demo.report"]["depends_on"]["nodes"] == ["model.acme.acme_summary"]
    assert nodes["model.demo.orders_again"]["depends_on"]["nodes"] == ["model.acme.acme_orders"]
    seed = nodes["seed.acme.acme_raw_orders"]
    assert (seed["original_file_path"], seed["schema"]) == ("seeds/acme_raw_orders.csv", "main_acme_seeds")
    snap = nodes["snapshot.acme.acme_snap"]
    assert snap["fqn"] == ["acme", "acme_snap", "acme_snap"] and snap["original_file_path"] == "snapshots/acme_snap.sql"
    tests = {n["name"]: (uid, n) for uid, n in nodes.items() if n["resource_type"] == "test"}
    uid, unique = tests["unique_acme_orders_id"]
    assert uid.startswith("test.acme.unique_acme_orders_id.")
    assert unique["fqn"] == ["acme", "staging", "unique_acme_orders_id"]
    assert unique["original_file_path"] == "models/staging/schema.yml"
    assert unique["config"]["severity"] == "warn"  # the package's data_tests config
    assert unique["attached_node"] == "model.acme.acme_orders"
    assert tests["assert_amounts_positive"][0] == "test.acme.assert_amounts_positive"
    assert "macro.acme.test_is_even" in tests["is_even_acme_orders_amount"][1]["depends_on"]["macros"]
    source = manifest["sources"]["source.acme.acme_src.events"]
    assert (source["package_name"], source["fqn"]) == ("acme", ["acme", "staging", "acme_src", "events"])
    assert manifest["docs"]["doc.acme.acme_orders_doc"]["original_file_path"] == "models/docs.md"
    assert manifest["macros"]["macro.acme.test_is_even"]["package_name"] == "acme"


def test_ls_lists_package_nodes_by_package_and_fqn(tmp_path: Path) -> None:
    root = make_projects(tmp_path)
    out = run_cli("ls", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "acme.acme_events",
        "acme.staging.acme_orders",
        "acme.acme_summary",
        "demo.orders_again",
        "demo.report",
        "acme.acme_raw_orders",
        "acme.acme_snap.acme_snap",
        "source:acme.acme_src.events",
        "acme.assert_amounts_positive",
        "acme.staging.is_even_acme_orders_amount",
        "acme.staging.not_null_acme_orders_id",
        "acme.staging.source_not_null_acme_src_events_id",
        "acme.staging.unique_acme_orders_id",
    ]
    out = run_cli("ls", "--project-dir", str(root), "-s", "package:acme", "--resource-type", "model")
    assert out.output.splitlines() == ["acme.acme_events", "acme.staging.acme_orders", "acme.acme_summary"]
    out = run_cli("ls", "--project-dir", str(root), "-s", "acme.staging", "--output", "path")
    assert out.output.splitlines()[0] == "models/staging/acme_orders.sql"


def test_root_config_disables_package_nodes_and_compiled_files_go_under_the_package(tmp_path: Path) -> None:
    root = make_projects(
        tmp_path,
        root={
            "dbt_project.yml": """
                name: demo
                profile: demo
                models:
                  acme:
                    acme_events:
                      +enabled: false
                seeds:
                  acme:
                    +schema: raw
                data_tests:
                  acme:
                    +severity: error
                sources:
                  acme:
                    acme_src:
                      +enabled: false
            """,
            "models/orders_again.sql": None,
            "models/report.sql": "select * from {{ ref('acme_summary') }}\n",
        },
    )
    out = run_cli("compile", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    assert "model.acme.acme_events" not in manifest["nodes"] and "model.acme.acme_events" in manifest["disabled"]
    assert manifest["sources"] == {}
    assert manifest["nodes"]["seed.acme.acme_raw_orders"]["schema"] == "main_raw"
    unique = next(n for n in manifest["nodes"].values() if n["name"] == "unique_acme_orders_id")
    assert unique["config"]["severity"] == "error"
    compiled = root / "target" / "compiled" / "acme"
    assert (compiled / "models" / "acme_summary.sql").is_file()
    assert (compiled / "snapshots" / "acme_snap.sql").read_text().strip().startswith("select * from")
    assert (compiled / "models" / "staging" / "schema.yml" / "unique_acme_orders_id.sql").is_file()
    assert '"demo"."main_raw"."acme_raw_orders"' in (compiled / "models" / "staging" / "acme_orders.sql").read_text()


def test_package_hooks_analyses_unit_tests_and_docs(tmp_path: Path) -> None:
    acme_project = ACME["dbt_project.yml"].rstrip(" ") + "        on-run-start: ['select 1 as acme_hook']\n"
    root = make_projects(
        tmp_path,
        root={
            "dbt_project.yml": "name: demo\nprofile: demo\non-run-start: 'select 1 as root_hook'\n",
            "models/schema.yml": "models:\n  - name: report\n    description: \"{{ doc('acme', 'acme_orders_doc') }}\"\n",
        },
        acme={
            "dbt_project.yml": acme_project,
            "analyses/acme_analysis.sql": "select * from {{ ref('acme_orders') }}\n",
            "models/staging/unit.yml": """
                unit_tests:
                  - name: ut_orders
                    model: acme_orders
                    given:
                      - input: ref('acme_raw_orders')
                        rows: [{id: 1, amount: 3}]
                    expect:
                      rows: [{id: 1, amount: 3}]
            """,
        },
    )
    out = run_cli("build", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    assert "Found 5 models, 1 analysis, 5 data tests, 1 seed, 2 operations, 1 snapshot, 1 source" in out.output
    # the packages' hooks run before the root project's, as in dbt
    assert out.output.index("OK hook: acme.on-run-start.0") < out.output.index("OK hook: demo.on-run-start.0")
    assert "PASS acme_orders::ut_orders" in out.output
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    assert nodes["model.demo.report"]["description"] == "Orders, as acme keeps them"
    assert nodes["analysis.acme.acme_analysis"]["fqn"] == ["acme", "acme_analysis"]
    unit = manifest["unit_tests"]["unit_test.acme.acme_orders.ut_orders"]
    assert unit["depends_on"]["nodes"] == ["model.acme.acme_orders"]
    assert nodes["operation.acme.acme-on-run-start-0"]["package_name"] == "acme"


def test_package_macros_are_known_by_their_path_in_the_package(tmp_path: Path) -> None:
    root = make_projects(tmp_path)
    assert run_cli("parse", "--project-dir", str(root)).exit_code == 0
    macros = json.loads((root / "target" / "manifest.json").read_text())["macros"]
    assert macros["macro.acme.acme_double"]["original_file_path"] == "macros/acme.sql"
    assert macros["macro.acme.test_is_even"]["original_file_path"] == "tests/generic/is_even.sql"
    assert (
        macros["macro.acme.acme_double"]["package_name"] == "acme"
        and "file_key" not in macros["macro.acme.acme_double"]
    )
