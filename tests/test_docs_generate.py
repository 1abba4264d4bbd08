"""`modelkit docs generate`: manifest.json, catalog.json and the site's data, on real DuckDB."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT, run_cli


def site_data(root: Path) -> dict:
    """The data blocks embedded in target/index.html, as the page reads them."""
    html = (root / "target" / "index.html").read_text(encoding="utf-8")
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S))
    index = json.loads(blocks["mk-index"])
    details = []
    n = 0
    while f"mk-detail-{n}" in blocks:
        details += json.loads(blocks[f"mk-detail-{n}"])
        n += 1
    return {"index": index, "details": details, "lineage": json.loads(blocks["mk-lineage"])}


def node(data: dict, unique_id: str) -> tuple[int, dict, dict]:
    for i, record in enumerate(data["index"]["nodes"]):
        if record["id"] == unique_id:
            return i, record, data["details"][i]
    raise AssertionError(f"{unique_id} not in the site")


@pytest.fixture(scope="module")
def shop_generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The sample project, seeded, run and documented once for the module; and the command's output."""
    root = tmp_path_factory.mktemp("docs") / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target"))
    for command in ("seed", "run"):
        assert run_cli(command, cwd=root).exit_code == 0
    result = run_cli("docs", "generate", cwd=root)
    assert result.exit_code == 0, result.output
    return root, result.output


@pytest.fixture(scope="module")
def shop(shop_generated: tuple[Path, str]) -> Path:
    return shop_generated[0]


def test_console_output_and_files(shop_generated: tuple[Path, str]) -> None:
    shop, out = shop_generated
    assert "Building catalog" in out
    assert f"Catalog written to {(shop / 'target' / 'catalog.json').resolve()}" in out
    assert "Column lineage: 45 of 45 columns resolved" in out  # the snapshot's columns too
    assert "Site written to" in out and "index.html" in out
    for name in ("manifest.json", "catalog.json", "index.html"):
        assert (shop / "target" / name).is_file()


def test_catalog_has_every_built_relation_with_database_columns_in_order(shop: Path) -> None:
    catalog = json.loads((shop / "target" / "catalog.json").read_text())
    assert set(catalog) == {"metadata", "nodes", "sources", "errors"}
    assert catalog["metadata"]["dbt_schema_version"] == "https://schemas.getdbt.com/dbt/catalog/v1.json"
    assert set(catalog["nodes"]) == {
        "model.shop.customers", "model.shop.orders", "model.shop.payments_ledger", "model.shop.stg_customers",
        "model.shop.stg_orders", "model.shop.stg_payments", "seed.shop.raw_customers", "seed.shop.raw_orders", "seed.shop.raw_payments",
    }  # fmt: skip
    # both sources name tables the seeds built
    assert set(catalog["sources"]) == {"source.shop.shop_raw.orders", "source.shop.shop_raw.payments"}
    customers = catalog["nodes"]["model.shop.customers"]
    assert customers["metadata"] == {
        "type": "BASE TABLE", "schema": "main", "name": "customers", "database": "shop", "comment": None, "owner": None,
    }  # fmt: skip
    columns = customers["columns"]
    assert list(columns) == [
        "customer_id", "first_name", "last_name", "first_order", "most_recent_order", "number_of_orders",
        "lifetime_value",
    ]  # fmt: skip
    assert columns["first_order"] == {"type": "DATE", "index": 4, "name": "first_order", "comment": None}
    assert columns["number_of_orders"]["type"] == "BIGINT"
    assert customers["stats"]["row_count"]["value"] == 8
    assert customers["stats"]["has_stats"]["value"] is True
    view = catalog["nodes"]["model.shop.stg_orders"]
    assert view["metadata"]["type"] == "VIEW"
    assert view["stats"] == {
        "has_stats": {
            "id": "has_stats", "label": "Has Stats?", "value": False, "include": False,
            "description": "Indicates whether there are statistics for this table",
        }
    }  # fmt: skip
    assert catalog["sources"]["source.shop.shop_raw.payments"]["stats"]["row_count"]["value"] == 14


def test_manifest_has_compiled_code(shop: Path) -> None:
    manifest = json.loads((shop / "target" / "manifest.json").read_text())
    orders = manifest["nodes"]["model.shop.orders"]
    assert '"shop"."main"."stg_orders"' in orders["compiled_code"]
    assert orders["compiled_path"] == "target/compiled/shop/models/marts/orders.sql"


def test_site_lists_every_node_with_types_and_row_counts(shop: Path) -> None:
    data = site_data(shop)
    ids = {n["id"] for n in data["index"]["nodes"]}
    manifest = json.loads((shop / "target" / "manifest.json").read_text())
    assert set(manifest["nodes"]) | set(manifest["sources"]) <= ids
    _, record, detail = node(data, "model.shop.customers")
    assert record["t"] == "model" and record["m"] == "table" and record["g"] == ["mart"]
    assert record["p"] == "models/marts/customers.sql" and record["s"] == "main"
    assert detail["rows"] == 8 and detail["kind"] == "BASE TABLE" and detail["rn"] == '"shop"."main"."customers"'
    assert detail["yp"] == "models/marts/_marts.yml"
    assert "{{ ref('orders') }}" in detail["raw"] and '"shop"."main"."orders"' in detail["sql"]
    by_name = {c["n"]: c for c in detail["cols"]}
    assert by_name["lifetime_value"]["ty"] == "DOUBLE"
    assert by_name["lifetime_value"]["d"] == "Total paid by the customer over all orders, in dollars."
    assert "o" not in by_name["first_name"] and "d" not in by_name["first_name"]  # from the database
    # the ephemeral model is not in the database: its columns come from binding its query
    _, eph, eph_detail = node(data, "model.shop.int_order_payments")
    assert eph["m"] == "ephemeral" and "rows" not in eph_detail
    assert [(c["n"], c.get("ty")) for c in eph_detail["cols"]][-1] == ("total_amount", "DOUBLE")
    _, source, source_detail = node(data, "source.shop.shop_raw.payments")
    assert source["r"] == "raw_payments" and source_detail["idf"] == "raw_payments"
    assert source_detail["sd"].startswith("Raw tables loaded")


def test_column_lineage_of_the_marts(shop: Path) -> None:
    data = site_data(shop)
    pos = {n["id"]: i for i, n in enumerate(data["index"]["nodes"])}
    lineage = data["lineage"]

    def of(uid: str, column: str) -> tuple[str, list]:
        entry = lineage[str(pos[uid])]["c"][column]
        return entry[0], sorted((data["index"]["nodes"][u[0]]["id"], u[1]) for u in entry[1])

    for mart in ("model.shop.customers", "model.shop.orders"):
        columns = lineage[str(pos[mart])]["c"]
        assert columns and all(entry[0] != "unresolved" for entry in columns.values())
    assert of("model.shop.orders", "amount") == ("derived", [("model.shop.int_order_payments", "total_amount")])
    assert of("model.shop.orders", "status") == ("direct", [("model.shop.stg_orders", "status")])
    assert of("model.shop.customers", "lifetime_value") == ("derived", [("model.shop.orders", "amount")])
    assert of("model.shop.customers", "number_of_orders") == ("none", [])
    assert of("model.shop.int_order_payments", "total_amount") == ("derived", [("model.shop.stg_payments", "amount")])
    # stg_orders reads the source, not the seed that built the same table
    assert of("model.shop.stg_orders", "customer_id") == ("direct", [("source.shop.shop_raw.orders", "user_id")])
    assert of("model.shop.stg_customers", "customer_id") == ("direct", [("seed.shop.raw_customers", "id")])


def test_docs_blocks_and_markdown_descriptions(project_factory) -> None:
    root = project_factory(
        {
            "models/docs.md": """
                {% docs order_status %}
                One of **placed** or _shipped_.
                {% enddocs %}
            """,
            "models/a.sql": "select 1 as id, 'placed' as status",
            "models/a.yml": """
                models:
                  - name: a
                    description: "Orders. See {{ doc('order_status') }}"
                    columns:
                      - name: status
                        description: "{{ doc('order_status') }}"
                        data_tests: [not_null]
            """,
        }
    )
    assert run_cli("run", cwd=root).exit_code == 0
    result = run_cli("docs", "generate", cwd=root)
    assert result.exit_code == 0, result.output
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    a = manifest["nodes"]["model.demo.a"]
    assert a["description"] == "Orders. See One of **placed** or _shipped_."
    assert a["columns"]["status"]["description"] == "One of **placed** or _shipped_."
    assert manifest["docs"]["doc.demo.order_status"]["block_contents"] == "One of **placed** or _shipped_."
    data = site_data(root)
    i, record, detail = node(data, "model.demo.a")
    assert record["d"] == "Orders. See One of **placed** or _shipped_."
    status = next(c for c in detail["cols"] if c["n"] == "status")
    assert status["d"] == "One of **placed** or _shipped_." and status["ty"] == "VARCHAR"
    # the YAML test is listed on its column, not run yet
    test_pos = status["ts"][0]
    test = data["index"]["nodes"][test_pos]
    assert test["n"] == "not_null_a_status" and test["t"] == "test" and test["at"] == i and "st" not in test


def test_a_missing_doc_is_a_project_error(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id",
            "models/a.yml": "models:\n  - name: a\n    description: \"{{ doc('nope') }}\"\n",
        }
    )
    result = run_cli("docs", "generate", "--empty-catalog", cwd=root)
    assert result.exit_code == 2
    assert "Documentation for 'nope' not found" in result.output
    assert "models/a.yml" in result.output
    assert "Traceback" not in result.output


def test_last_test_status_comes_from_run_results(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id",
            "models/a.yml": "models:\n  - name: a\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n",
        }
    )
    assert run_cli("run", cwd=root).exit_code == 0
    manifest = json.loads((root / "target" / "manifest.json").read_text())
    unique_id = next(uid for uid, n in manifest["nodes"].items() if n["name"] == "unique_a_id")
    results = json.loads((root / "target" / "run_results.json").read_text())
    failed = {**results["results"][0], "unique_id": unique_id, "status": "fail", "message": "Got 1 result"}
    results["results"].append(failed)
    (root / "target" / "run_results.json").write_text(json.dumps(results))
    assert run_cli("docs", "generate", cwd=root).exit_code == 0
    data = site_data(root)
    _, _, detail = node(data, "model.demo.a")
    tests = {data["index"]["nodes"][t]["n"]: data["index"]["nodes"][t] for t in detail["cols"][0]["ts"]}
    assert tests["unique_a_id"]["st"] == "fail" and tests["unique_a_id"]["id"] == unique_id
    assert "st" not in tests["not_null_a_id"]
    # then, as dbt's docs generate does, it writes the run_results.json of its compile
    written = json.loads((root / "target" / "run_results.json").read_text())
    assert written["args"]["which"] == "generate"
    assert {r["unique_id"]: r["status"] for r in written["results"]} == {
        "model.demo.a": "success",
        unique_id: "success",
        next(uid for uid, n in manifest["nodes"].items() if n["name"] == "not_null_a_id"): "success",
    }
    assert all(r["compiled"] and [t["name"] for t in r["timing"]] == ["compile", "execute"] for r in written["results"])


def test_select_limits_the_catalog_and_the_lineage(shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    result = run_cli("docs", "generate", "-s", "stg_orders", "stg_payments", cwd=root)
    assert result.exit_code == 0, result.output
    catalog = json.loads((root / "target" / "catalog.json").read_text())
    assert set(catalog["nodes"]) == {"model.shop.stg_orders", "model.shop.stg_payments"}
    assert catalog["sources"] == {}
    data = site_data(root)
    assert len(data["index"]["nodes"]) >= 12  # every node is still listed
    analysed = {data["index"]["nodes"][int(i)]["id"] for i in data["lineage"]}
    assert analysed == {"model.shop.stg_orders", "model.shop.stg_payments"}


def test_no_compile_reuses_the_last_compile(shop: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    (root / "target" / "manifest.json").unlink(missing_ok=True)
    result = run_cli("docs", "generate", "--no-compile", cwd=root)
    assert result.exit_code == 0, result.output
    data = site_data(root)
    assert data["index"]["meta"]["compiled"] == "target/compiled"
    _, _, detail = node(data, "model.shop.orders")
    assert '"shop"."main"."stg_orders"' in detail["sql"]
    assert not (root / "target" / "manifest.json").exists()  # as dbt: --no-compile writes no manifest
    shutil.rmtree(root / "target" / "compiled")
    result = run_cli("docs", "generate", "--no-compile", cwd=root)
    assert result.exit_code == 0
    assert "No compiled SQL under target/compiled/" in result.output
    assert site_data(root)["lineage"] == {}


def test_empty_catalog_and_a_project_never_built(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id, 'x' as name",
            "models/b.sql": "select id, upper(name) as name from {{ ref('a') }}",
        }
    )
    result = run_cli("docs", "generate", "--empty-catalog", cwd=root)
    assert result.exit_code == 0, result.output
    assert json.loads((root / "target" / "catalog.json").read_text())["nodes"] == {}
    data = site_data(root)
    # columns come from the SQL (no types), and lineage still runs through the unbuilt models
    _, _, b = node(data, "model.demo.b")
    assert [(c["n"], c.get("ty"), c["o"]) for c in b["cols"]] == [("id", None, "sql"), ("name", None, "sql")]
    pos = {n["id"]: i for i, n in enumerate(data["index"]["nodes"])}
    assert data["lineage"][str(pos["model.demo.b"])]["c"]["name"] == ["derived", [[pos["model.demo.a"], "name"]]]


def test_bad_selector_is_a_usage_error(shop: Path) -> None:
    result = run_cli("docs", "generate", "-s", "bogus:x", "--empty-catalog", cwd=shop)
    assert result.exit_code == 2
    assert "Unknown selection method 'bogus'" in result.output


def test_regenerating_after_a_change_does_not_show_stale_lineage(project_factory) -> None:
    root = project_factory(
        {
            "models/a.sql": "select 1 as id, 'x' as name",
            "models/b.sql": "select * from {{ ref('a') }}",
        }
    )
    assert run_cli("run", cwd=root).exit_code == 0
    assert run_cli("docs", "generate", cwd=root).exit_code == 0
    assert (root / "target" / "lineage_cache.json").is_file()
    first = site_data(root)
    pos = {n["id"]: i for i, n in enumerate(first["index"]["nodes"])}
    assert set(first["lineage"][str(pos["model.demo.b"])]["c"]) == {"id", "name"}
    # b's SQL is unchanged, but a gains a column: b's star now reads it too
    (root / "models" / "a.sql").write_text("select 1 as id, 'x' as name, 2 as extra")
    assert run_cli("run", cwd=root).exit_code == 0
    assert run_cli("docs", "generate", cwd=root).exit_code == 0
    second = site_data(root)
    pos = {n["id"]: i for i, n in enumerate(second["index"]["nodes"])}
    assert second["lineage"][str(pos["model.demo.b"])]["c"]["extra"] == ["direct", [[pos["model.demo.a"], "extra"]]]


def test_a_model_that_fails_to_compile_stops_the_docs(project_factory) -> None:
    root = project_factory(
        {"models/a.sql": "select 1 as id {% if execute %}{{ exceptions.raise_compiler_error('boom') }}{% endif %}"}
    )
    result = run_cli("docs", "generate", cwd=root)
    assert result.exit_code == 2
    assert "Compilation Error in model a (models/a.sql:1)" in result.output and "boom" in result.output
    assert not (root / "target" / "index.html").exists()


def test_generate_from_python(shop: Path, tmp_path: Path) -> None:
    from modelkit.docs import generate

    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    result = generate(root, select=["+customers"])
    assert result.index_path == root / "target" / "index.html" and result.index_path.is_file()
    assert result.compiled_from == "compile"
    assert result.catalog_entries == 8  # customers and its ancestors that are in the database, sources too
    assert result.columns == 7 + 9 + 4 + 4 + 6 + 4 and result.unresolved_columns == 0
    assert set(result.timings) == {"parse", "compile", "catalog", "descriptions", "lineage", "site"}


def test_lineage_on_worker_processes_while_compiling_matches_the_serial_result(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelkit.docs.trace as trace
    from modelkit.api.session import Session
    from modelkit.docs import GenerateOptions, generate_docs

    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    (root / "target" / "lineage_cache.json").unlink()
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    with Session(root, which="generate") as session:
        result = generate_docs(session, GenerateOptions(workers=2))
    assert result.columns == 45 and result.unresolved_columns == 0
    assert in_any_order(site_data(root)["lineage"]) == in_any_order(site_data(shop)["lineage"])


def in_any_order(lineage: dict) -> dict:
    """The site's column lineage with each column's upstream sorted: sqlglot lists them in the order of a
    set of expressions, whose string hashes differ from one process (a worker's) to the next."""
    return {
        i: {**record, "c": {name: [c[0], sorted(c[1]), *c[2:]] for name, c in record["c"].items()}}
        for i, record in lineage.items()
    }


def catalog_at_once(function, *args):
    """What build runs on a thread, run at once (its future done before anything compiles)."""
    from concurrent.futures import Future

    future: Future = Future()
    future.set_result(function(*args))
    return future


def test_a_compile_error_while_workers_trace_stops_them(project_factory, monkeypatch: pytest.MonkeyPatch) -> None:
    import modelkit.docs.build as build
    import modelkit.docs.trace as trace
    from modelkit.api.session import Session
    from modelkit.core.errors import CompilationError
    from modelkit.docs import GenerateOptions, generate_docs

    root = project_factory({f"models/m{i}.sql": f"select {i} as id" for i in range(5)})
    assert run_cli("run", cwd=root).exit_code == 0  # all built: lineage goes to the workers
    failing = "select 1 as id {% if execute %}{{ exceptions.raise_compiler_error('boom') }}{% endif %}"
    (root / "models" / "m4.sql").write_text(failing)
    monkeypatch.setattr(trace, "PARALLEL_THRESHOLD", 0)
    started: list = []
    real_pool = trace.LineagePool

    def pool(ctx, workers):
        started.append(real_pool(ctx, workers))
        return started[-1]

    monkeypatch.setattr(trace, "LineagePool", pool)
    monkeypatch.setattr(build, "_in_background", catalog_at_once)  # every node compiles with the catalog in
    with Session(root, which="generate") as session, pytest.raises(CompilationError, match="boom"):
        generate_docs(session, GenerateOptions(workers=2))
    assert started and all(w.proc.poll() is not None for w in started[0].workers)
    assert all(not w.thread.is_alive() for w in started[0].workers)


def test_the_cyclic_collector_is_off_while_generating_and_restored(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import modelkit.docs.content as content
    from modelkit.api.session import Session
    from modelkit.docs import generate_docs

    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    seen: list[bool] = []
    real_build = content.build

    def build(inputs):
        seen.append(gc.isenabled())
        return real_build(inputs)

    monkeypatch.setattr(content, "build", build)
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            with Session(root, which="generate") as session:
                generate_docs(session)
            assert gc.isenabled() is enabled  # as it was before
        failing = "select 1 as id {% if execute %}{{ exceptions.raise_compiler_error('boom') }}{% endif %}"
        (root / "models" / "marts" / "customers.sql").write_text(failing)
        gc.enable()
        with Session(root, which="generate") as session, pytest.raises(Exception, match="boom"):
            generate_docs(session)
        assert gc.isenabled()  # restored after a failure too
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False]


def test_adapter_info_for_the_header_opens_no_connection(shop: Path) -> None:
    from modelkit.api.session import Session

    with Session(shop, which="generate") as session:
        info = session.adapter_info()
        assert session.open_adapter is None  # DuckDB tells its version without a connection
        assert info == session.adapter.info() and info["type"] == "duckdb" and info["duckdb"]
        assert session.open_adapter is not None
        assert session.adapter_info() == info  # the open adapter's, once there is one
