"""Real public packages (dbt_utils, dbt_date, dbt_expectations, codegen, audit_helper) installed from a
local package hub, used by the project in ``tests/data/realpkgs_project``: its models call their macros,
its YAML uses their generic tests, and codegen's macros run as operations.

The project also has a local package, a project materialization, model versions, a source made by an
``on-run-start`` hook and Jinja in its YAML; ``test_dbt_builds_the_same_project_the_same`` builds it
with dbt too and compares every table (dbt from ``MODELKIT_DBT_EXECUTABLE`` or ``dbt`` on ``PATH``).
"""

from __future__ import annotations

import datetime
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from artifact_schemas import artifacts_under, schema_errors
from conftest import query, run_cli
from deps_support import HubServer, read_yaml
from realpkgs_support import HUB_PACKAGES, dbt_executable, publish_all, run_dbt, table_rows

PROJECT = Path(__file__).resolve().parent / "data" / "realpkgs_project"
# The one test meant to warn: customers further from the origin come later, so distances increase.
DELIBERATE_WARN = "dbt_expectations_expect_column_values_to_be_decreasing_stg_customers_km_from_origin"
MODEL_YAML_ARGS = "{model_names: [stg_orders, customer_report], upstream_descriptions: true}"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    with HubServer(tmp_path_factory.mktemp("hub")) as server:
        publish_all(server)
        yield server


def copy_project(dest: Path) -> Path:
    shutil.copytree(PROJECT, dest, ignore=shutil.ignore_patterns("target", "dbt_packages", "*.duckdb", "logs"))
    return dest


class Built:
    def __init__(self, root: Path, hub: HubServer) -> None:
        self.root, self.hub = root, hub
        self.env = {"DBT_PACKAGE_HUB_URL": hub.url}
        self.deps = run_cli("deps", cwd=root, env=self.env)
        self.hub_requests = list(hub.requests)
        self.build = run_cli("build", cwd=root, env=self.env)
        self.db = root / "realpkgs.duckdb"
        self.results = build_results(root)  # before any operation writes its own run_results.json

    def operation(self, macro: str, args: str) -> str:
        out = run_cli("run-operation", macro, "--args", args, cwd=self.root, env=self.env)
        assert out.exit_code == 0, out.output
        return operation_output(out.output)

    def rows(self, sql: str) -> list[tuple]:
        return query(self.db, sql)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, hub: HubServer) -> Built:
    return Built(copy_project(tmp_path_factory.mktemp("modelkit") / "realpkgs"), hub)


def build_results(root: Path) -> dict[str, dict[str, Any]]:
    path = root / "target" / "run_results.json"
    return {r["unique_id"]: r for r in json.loads(path.read_text())["results"]} if path.is_file() else {}


def operation_output(output: str) -> str:
    """What an operation printed: its output without the log lines (those that start with a time)."""
    lines = output.splitlines()
    keep = [line for line in lines if not line[:2].isdigit() or line[2:3] != ":"]
    return "\n".join(keep).strip() + "\n"


# -- deps ------------------------------------------------------------------------------------------
def test_deps_installs_the_hub_packages_and_their_dependencies(built: Built) -> None:
    assert built.deps.exit_code == 0, built.deps.output
    lock = read_yaml(built.root / "package-lock.yml")
    locked = {e["name"]: e.get("version") for e in lock["packages"]}
    assert locked == {**{p.name: p.version for p in HUB_PACKAGES}, "shop_helpers": None}
    # dbt_date is nobody's direct requirement: it came from dbt_expectations' hub entry
    assert "/api/v1/godatadriven/dbt_date.json" in built.hub_requests
    assert any(r.endswith("/dbt_date-0.21.0.tar.gz") for r in built.hub_requests)
    installed = built.root / "dbt_packages"
    for package in HUB_PACKAGES:
        folder = installed / package.name
        assert (folder / "LICENSE").is_file() and (folder / "macros").is_dir(), package.name
        assert read_yaml(folder / "dbt_project.yml")["name"] == package.name
    assert (installed / "shop_helpers").resolve() == (built.root / "local_packages" / "shop_helpers").resolve()


# -- build -----------------------------------------------------------------------------------------
def test_build_succeeds_with_every_package_test_passing(built: Built) -> None:
    assert built.build.exit_code == 0, built.build.output
    results = built.results
    statuses = {uid: r["status"] for uid, r in results.items()}
    warned = [uid for uid, status in statuses.items() if status == "warn"]
    assert [uid.split(".")[2] for uid in warned] == [next(u for u in statuses if DELIBERATE_WARN in u).split(".")[2]]
    assert {s for uid, s in statuses.items() if uid not in warned} == {"success", "pass"}
    # every generic test dbt_utils and dbt_expectations define is used, and each of them ran
    manifest = json.loads((built.root / "target" / "manifest.json").read_text())
    used = {
        (n["test_metadata"]["namespace"], n["test_metadata"]["name"])
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "test" and n.get("test_metadata") and uid in results
    }
    for package in ("dbt_utils", "dbt_expectations"):
        defined = {
            (package, m["name"][len("test_") :])
            for m in manifest["macros"].values()
            if m["package_name"] == package and m["name"].startswith("test_")
        }
        assert len(defined) > 10 and defined <= used, sorted(defined - used)
    errors = [e for path in artifacts_under(built.root / "target") for e in schema_errors(path)]
    assert not errors, errors[:20]


def test_dbt_utils_macros(built: Built) -> None:
    # generate_surrogate_key: md5 of the fields joined with '-'; star without `discount`
    assert built.rows(
        "select count(*) from stg_orders s join raw_orders r using (order_id) "
        "where s.order_key <> md5(cast(r.order_id as varchar) || '-' || cast(r.customer_id as varchar))"
    ) == [(0,)]
    columns = [r[0] for r in built.rows("select column_name from (describe stg_orders)")]
    assert columns[:7] == ["order_key", "order_id", "customer_id", "order_date", "status", "amount", "region"]
    # pivot over get_column_values: one column per status, the sums of amount
    statuses = [r[0] for r in built.rows("select distinct status from raw_orders order by 1")]
    pivot = built.rows(f"select region, {', '.join(statuses)} from orders_by_status order by region")
    plain = built.rows(
        "select region, "
        + ", ".join(f"sum(case when status = '{s}' then amount else 0 end)" for s in statuses)
        + " from raw_orders group by region order by region"
    )
    assert pivot == plain
    # unpivot: one row per order and kept column; date_spine: every day of the first quarter
    assert built.rows("select count(*), count(distinct attribute) from orders_unpivoted") == [(40 * 5, 5)]
    assert built.rows("select min(date_day), max(date_day), count(*) from order_days") == [
        (datetime.datetime(2024, 1, 1), datetime.datetime(2024, 3, 31), 91)
    ]
    # deduplicate keeps each event's latest version; union_relations tags each row with its relation
    assert built.rows("select event_id, version from events_latest order by 1") == built.rows(
        "select event_id, max(version) from raw_events group by 1 order by 1"
    )
    assert built.rows("select count(*), count(distinct _origin) from orders_unioned") == [(40, 2)]
    assert built.rows("select total_orders, region_total, kept_columns, slug, century from order_stats") == [
        (40, 40, "order_id,customer_id,order_date,status,amount,region", "orders_by_region", "20")
    ]
    assert built.rows("select count(*), min(generated_number), max(generated_number) from numbers") == [(12, 1, 12)]
    host, path, ref = built.rows("select website_host, website_path, website_ref from stg_customers limit 1")[0]
    assert (host, path, ref) == ("www.lee.example.com", "shop/page", "ads")


def test_dbt_date_macros(built: Built) -> None:
    days = (datetime.date(2025, 1, 1) - datetime.date(2023, 1, 1)).days
    assert built.rows("select count(*) from dim_date") == [(days,)]
    row = built.rows(
        "select day_of_week_name, day_of_week_iso, month_name, quarter_of_year from dim_date "
        "where date_day = date '2024-01-01'"
    )
    assert row == [("Monday", 1, "January", 1)]
    order = built.rows(
        "select order_date, day_name, order_ts_local, order_ts_tokyo, order_epoch, after_launch, launch_label "
        "from order_dates where order_id = 3"
    )[0]
    date = order[0]
    midnight_utc = datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.timezone.utc)
    assert order[1] == midnight_utc.strftime("%a")
    assert order[2] == midnight_utc.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    assert order[3] == midnight_utc.astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    assert order[4] == int(midnight_utc.timestamp())
    assert order[5] == (date >= datetime.date(2024, 2, 1)) and order[6] == "2024-02-01 09:30 UTC"
    assert built.rows("select count(distinct fiscal_year_number), count(*) > 300 from fiscal_periods") == [(1, True)]


def test_audit_helper_macros(built: Built) -> None:
    # v1 and v2 of dim_customers differ in lifetime_amount for every customer who had a discount
    discounted = built.rows("select count(distinct customer_id) from raw_orders where discount > 0")[0][0]
    summary = dict(built.rows("select in_a, count from main_audit.audit_customers where in_a and not in_b") or [])
    assert summary == {True: discounted}
    assert built.rows("select count from main_audit.audit_customers where in_a and in_b") == [(10 - discounted,)]
    columns = built.rows("select column_name, in_a_only, in_b_only from main_audit.audit_relation_columns order by 1")
    assert ("last_name", False, True) in columns and ("lifetime_cents", False, True) in columns
    differ = dict(built.rows("select column_name, has_difference from main_audit.audit_columns_differ"))
    assert differ["lifetime_amount"] is True and differ["first_name"] is False
    counts = dict(built.rows("select relation_name, total_records from main_audit.audit_row_counts"))
    assert sorted(counts.values()) == [40, 40]
    classified = dict(
        built.rows("select dbt_audit_row_status, count(*) from main_audit.audit_query_classified group by 1")
    )
    assert classified == {"identical": 27, "removed": 13}  # orders with id % 3 = 0 are missing on one side


def test_project_features_with_packages(built: Built) -> None:
    # a project materialization writing a YAML-configured (Jinja) stamp; model versions; a local package
    assert built.rows("select distinct _stamp from customer_report") == [("report-dev",)]
    assert built.rows("select table_type from information_schema.tables where table_name = 'customer_report'") == [
        ("BASE TABLE",)
    ]
    assert {r[0] for r in built.rows("select table_name from information_schema.tables")} >= {
        "dim_customers_v1",
        "dim_customers_v2",
        "region_ranks",
        "shop_regions",
    }
    latest = [r[0] for r in built.rows("select column_name from (describe latest_customers)")]
    assert latest == ["customer_id", "first_name", "order_count", "lifetime_amount"]  # v1 is the latest
    assert built.rows("select max(region_rank) from region_ranks") == [(3,)]  # the package's own var


# -- codegen ---------------------------------------------------------------------------------------
def test_codegen_generate_model_yaml_and_source(built: Built) -> None:
    printed = yaml.safe_load(built.operation("generate_model_yaml", MODEL_YAML_ARGS))
    models = {m["name"]: m for m in printed["models"]}
    assert list(models) == ["stg_orders", "customer_report"]
    for name, model in models.items():
        described = built.rows(f"select column_name, lower(column_type) from (describe {name})")
        assert [(c["name"], c["data_type"]) for c in model["columns"]] == described
    printed = yaml.safe_load(
        built.operation(
            "codegen.generate_source", "{schema_name: main, table_names: [raw_orders], generate_columns: true}"
        )
    )
    (table,) = printed["sources"][0]["tables"]
    described = built.rows("select column_name, lower(column_type) from (describe raw_orders)")
    assert [(c["name"], c["data_type"]) for c in table["columns"]] == described


def test_codegen_generate_base_model(built: Built) -> None:
    sql = built.operation("generate_base_model", "{source_name: shop, table_name: raw_orders}")
    assert "select * from {{ source('shop', 'raw_orders') }}" in sql
    columns = [r[0] for r in built.rows("select column_name from (describe raw_orders)")]
    body = sql.split("select\n", 2)[-1].split("from source")[0]
    assert [c.strip().rstrip(",") for c in body.strip().splitlines()] == columns


# -- the same project under dbt ----------------------------------------------------------------------
@dataclass
class DbtBuilt:
    root: Path
    results: dict[str, dict[str, Any]]
    model_yaml: str


@pytest.fixture(scope="module")
def dbt_built(tmp_path_factory: pytest.TempPathFactory, hub: HubServer) -> DbtBuilt:
    dbt = dbt_executable()
    if dbt is None:
        pytest.skip("dbt is not installed (set MODELKIT_DBT_EXECUTABLE or put dbt on PATH)")
    if shutil.which(dbt) is None:  # named, but not there: a broken install must not pass as a skip
        pytest.fail(f"MODELKIT_DBT_EXECUTABLE names {dbt}, which is not an executable")
    root = copy_project(tmp_path_factory.mktemp("dbt") / "realpkgs")
    env = {"DBT_PACKAGE_HUB_URL": hub.url}
    for args in (["deps"], ["build"]):
        done = run_dbt(dbt, args, root, env)
        assert done.returncode == 0, f"dbt {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    results = build_results(root)
    done = run_dbt(dbt, ["run-operation", "generate_model_yaml", "--args", MODEL_YAML_ARGS], root, env)
    assert done.returncode == 0, done.stdout
    return DbtBuilt(root, results, operation_output(done.stdout))


def test_dbt_builds_the_same_project_the_same(built: Built, dbt_built: DbtBuilt) -> None:
    dbt_root = dbt_built.root
    assert built.build.exit_code == 0, built.build.output
    assert (built.root / "package-lock.yml").read_text() == (dbt_root / "package-lock.yml").read_text()
    ours, theirs = table_rows(built.db), table_rows(dbt_root / "realpkgs.duckdb")
    assert sorted(ours) == sorted(theirs)
    assert len(ours) >= 30
    differing = [name for name in theirs if ours[name] != theirs[name]]
    assert not differing, {name: (ours[name][:3], theirs[name][:3]) for name in differing}
    columns = "select table_schema, table_name, column_name, data_type from information_schema.columns order by all"
    assert built.rows(columns) == query(dbt_root / "realpkgs.duckdb", columns)
    # every node, test and hook with the same status (and a failing or warning test's count)
    summary = lambda results: {uid: (r["status"], r["failures"]) for uid, r in results.items()}  # noqa: E731
    assert summary(built.results) == summary(dbt_built.results)
    assert built.operation("generate_model_yaml", MODEL_YAML_ARGS) == dbt_built.model_yaml
