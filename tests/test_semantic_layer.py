"""Metrics, semantic models and saved queries: manifest.json and semantic_manifest.json in dbt 1.11's shapes
(as dbt writes them for the same project), their edges, the "Found" line, the Jinja graph and selection."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from conftest import embedded_db, make_project, query, run_cli
from packages_support import ROOT, make_projects

MODELS = {
    "models/orders.sql": "select 1 as order_id, 10 as customer_id, date '2024-01-01' as ordered_at, 5.0 as amount",
    "models/customers.sql": "select 10 as customer_id, date '2023-12-01' as first_seen_at",
    "models/metricflow_time_spine.sql": (
        "select cast(range as date) as date_day from range(date '2024-01-01', date '2024-02-01', interval 1 day)"
    ),
}
SPINE = """
models:
  - name: metricflow_time_spine
    time_spine:
      standard_granularity_column: date_day
    columns:
      - name: date_day
        granularity: day
"""
SEMANTIC = """
semantic_models:
  - name: orders
    description: Order facts
    model: ref('orders')
    defaults: {agg_time_dimension: ordered_at}
    entities:
      - {name: order_id, type: primary}
      - {name: customer, type: foreign, expr: customer_id}
    dimensions:
      - name: ordered_at
        type: time
        type_params: {time_granularity: day}
      - {name: status, type: categorical}
    measures:
      - {name: order_total, agg: sum, expr: amount}
      - {name: order_count, agg: count, expr: "1", create_metric: true}
  - name: customers
    model: ref('customers')
    defaults: {agg_time_dimension: first_seen_at}
    entities:
      - {name: customer, type: primary, expr: customer_id}
    dimensions:
      - name: first_seen_at
        type: time
        type_params: {time_granularity: day}
    measures:
      - {name: customer_count, agg: count_distinct, expr: customer_id}
metrics:
  - name: revenue
    label: Revenue
    description: Total revenue
    type: simple
    filter: "{{ Dimension('order_id__status') }} = 'placed'"
    type_params:
      measure: order_total
  - name: customers_count
    label: Customers
    type: simple
    type_params:
      measure: {name: customer_count, fill_nulls_with: 0, join_to_timespine: true}
  - name: revenue_per_order
    label: Revenue per order
    type: ratio
    type_params: {numerator: revenue, denominator: order_count}
  - name: double_revenue
    label: Double revenue
    type: derived
    type_params:
      expr: rev * 2
      metrics:
        - {name: revenue, alias: rev, offset_window: 1 months}
  - name: cumulative_revenue
    label: Cumulative revenue
    type: cumulative
    type_params:
      measure: order_total
      cumulative_type_params: {window: 7 days}
  - name: order_conversion
    label: Conversion
    type: conversion
    type_params:
      conversion_type_params:
        entity: customer
        base_measure: customer_count
        conversion_measure: order_count
        window: 7 days
saved_queries:
  - name: revenue_by_status
    description: Revenue per status
    query_params:
      metrics: [revenue, order_count]
      group_by: ["Dimension('order_id__status')"]
      where: "{{ Dimension('order_id__status') }} = 'placed'"
    exports:
      - name: revenue_export
        config: {export_as: table}
exposures:
  - name: dash
    type: dashboard
    owner: {name: Finance}
    depends_on: [ref('orders'), metric('revenue')]
"""


def semantic_project(tmp_path: Path, **files: str | None) -> Path:
    """The demo project with semantic models, each kind of metric, a saved query and an exposure."""
    base = {**MODELS, "models/spine.yml": SPINE, "models/semantic.yml": SEMANTIC}
    for key, text in files.items():  # models__extra_yml: models/extra.yml
        base[key.replace("__", "/").replace("_yml", ".yml").replace("_sql", ".sql").replace("_md", ".md")] = text
    return make_project(tmp_path / "demo", {k: v for k, v in base.items() if v is not None})


def flat(output: str) -> str:
    """The console output as one line: timestamps dropped, whitespace runs as one space."""
    return " ".join(" ".join(re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in output.splitlines()).split())


def artifact(root: Path, name: str = "manifest.json") -> dict:
    return json.loads((root / "target" / name).read_text())


def test_manifest_lists_metrics_semantic_models_and_saved_queries_in_dbts_shapes(tmp_path: Path) -> None:
    root = semantic_project(tmp_path)
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 0, out.output
    assert "Found 3 models, 1 exposure, 7 metrics," in out.output
    assert out.output.rstrip().splitlines()[-2].endswith("macros, 2 semantic models, 1 saved query")
    manifest = artifact(root)
    metrics, models, queries = manifest["metrics"], manifest["semantic_models"], manifest["saved_queries"]
    # as dbt orders them: each file's metrics, then the metrics its semantic models' measures create
    assert list(metrics) == [
        f"metric.demo.{n}"
        for n in ("revenue", "customers_count", "revenue_per_order", "double_revenue", "cumulative_revenue",
                  "order_conversion", "order_count")
    ]  # fmt: skip
    assert list(models) == ["semantic_model.demo.orders", "semantic_model.demo.customers"]
    assert list(queries) == ["saved_query.demo.revenue_by_status"]

    orders = models["semantic_model.demo.orders"]
    assert orders["model"] == "ref('orders')" and orders["refs"] == [
        {"name": "orders", "package": None, "version": None}
    ]
    assert orders["depends_on"] == {"macros": [], "nodes": ["model.demo.orders"]}
    assert orders["node_relation"] == {
        "alias": "orders",
        "schema_name": "main",
        "database": "demo",
        "relation_name": '"demo"."main"."orders"',
    }
    assert (orders["path"], orders["original_file_path"], orders["fqn"]) == (
        "semantic.yml",
        "models/semantic.yml",
        ["demo", "orders"],
    )
    assert orders["entities"][1] == {
        "name": "customer", "type": "foreign", "description": None, "label": None, "role": None,
        "expr": "customer_id", "config": {"meta": {}},
    }  # fmt: skip
    assert orders["measures"][1]["create_metric"] is False  # as dbt lists it, though the metric was made
    assert orders["dimensions"][0]["type_params"] == {"time_granularity": "day", "validity_params": None}
    assert orders["config"] == {"enabled": True, "group": None, "meta": {}}

    revenue = metrics["metric.demo.revenue"]
    measure = {
        "name": "order_total",
        "filter": None,
        "alias": None,
        "join_to_timespine": False,
        "fill_nulls_with": None,
    }
    assert revenue["type_params"]["measure"] == measure and revenue["type_params"]["input_measures"] == [measure]
    assert revenue["filter"] == {
        "where_filters": [{"where_sql_template": "{{ Dimension('order_id__status') }} = 'placed'"}]
    }  # a MetricFlow template: not rendered as Jinja
    assert revenue["depends_on"]["nodes"] == ["semantic_model.demo.orders"]
    assert revenue["config"] == {"enabled": True, "group": None, "meta": {}}
    # each type's dependencies and input measures, as dbt computes them
    depends = {uid.split(".")[-1]: m["depends_on"]["nodes"] for uid, m in metrics.items()}
    assert depends["customers_count"] == ["semantic_model.demo.customers"]
    assert depends["revenue_per_order"] == ["metric.demo.revenue", "metric.demo.order_count"]
    assert depends["double_revenue"] == ["metric.demo.revenue"]
    assert depends["cumulative_revenue"] == ["semantic_model.demo.orders"]
    assert depends["order_conversion"] == ["semantic_model.demo.customers", "semantic_model.demo.orders"]
    inputs = {uid.split(".")[-1]: [i["name"] for i in m["type_params"]["input_measures"]] for uid, m in metrics.items()}
    assert inputs["revenue_per_order"] == ["order_total", "order_count"]
    assert inputs["order_conversion"] == ["customer_count", "order_count"]
    derived = metrics["metric.demo.double_revenue"]["type_params"]["metrics"][0]
    assert derived == {
        "name": "revenue", "filter": None, "alias": "rev", "offset_window": {"count": 1, "granularity": "month"},
        "offset_to_grain": None,
    }  # fmt: skip
    cumulative = metrics["metric.demo.cumulative_revenue"]["type_params"]["cumulative_type_params"]
    assert cumulative == {
        "window": {"count": 7, "granularity": "day"},
        "grain_to_date": None,
        "period_agg": "first",
        "metric": None,
    }
    conversion = metrics["metric.demo.order_conversion"]["type_params"]["conversion_type_params"]
    assert (conversion["entity"], conversion["calculation"]) == ("customer", "conversion_rate")
    made = metrics["metric.demo.order_count"]
    assert (made["label"], made["description"], made["type_params"]["expr"]) == (
        "order_count", "Metric created from measure order_count", "1",
    )  # fmt: skip
    assert metrics["metric.demo.customers_count"]["type_params"]["measure"]["fill_nulls_with"] == 0

    query_ = queries["saved_query.demo.revenue_by_status"]
    assert query_["depends_on"]["nodes"] == ["metric.demo.revenue", "metric.demo.order_count"]
    assert query_["query_params"]["where"]["where_filters"][0]["where_sql_template"].startswith("{{ Dimension(")
    assert query_["exports"] == [
        {
            "name": "revenue_export",
            "config": {"export_as": "table", "schema_name": "main", "alias": "revenue_export", "database": "demo"},
            "unrendered_config": {"export_as": "table"},
        }
    ]
    assert query_["config"] == {
        "enabled": True, "group": None, "meta": {}, "export_as": None, "schema": None, "cache": {"enabled": False},
    }  # fmt: skip
    exposure = manifest["exposures"]["exposure.demo.dash"]
    assert exposure["metrics"] == [["revenue"]]
    assert exposure["depends_on"]["nodes"] == ["model.demo.orders", "metric.demo.revenue"]

    # the graph: parent and child maps list every member, sorted
    assert manifest["parent_map"]["semantic_model.demo.orders"] == ["model.demo.orders"]
    assert manifest["parent_map"]["saved_query.demo.revenue_by_status"] == [
        "metric.demo.order_count",
        "metric.demo.revenue",
    ]
    assert manifest["child_map"]["model.demo.orders"] == ["exposure.demo.dash", "semantic_model.demo.orders"]
    assert manifest["child_map"]["metric.demo.revenue"] == [
        "exposure.demo.dash", "metric.demo.double_revenue", "metric.demo.revenue_per_order",
        "saved_query.demo.revenue_by_status",
    ]  # fmt: skip
    assert manifest["child_map"]["saved_query.demo.revenue_by_status"] == []
    spine = manifest["nodes"]["model.demo.metricflow_time_spine"]
    assert spine["time_spine"] == {"standard_granularity_column": "date_day", "custom_granularities": []}
    assert spine["columns"]["date_day"]["granularity"] == "day"
    assert manifest["nodes"]["model.demo.orders"]["time_spine"] is None


def test_semantic_manifest_json_is_metricflows_shape(tmp_path: Path) -> None:
    root = semantic_project(tmp_path)
    assert run_cli("parse", cwd=root).exit_code == 0
    semantic = artifact(root, "semantic_manifest.json")
    assert list(semantic) == ["semantic_models", "metrics", "project_configuration", "saved_queries"]
    assert semantic["project_configuration"] == {
        "time_spine_table_configurations": [],
        "metadata": None,
        "dsi_package_version": {"major_version": "0", "minor_version": "9", "patch_version": "0"},
        "time_spines": [
            {
                "node_relation": {
                    "alias": "metricflow_time_spine",
                    "schema_name": "main",
                    "database": "demo",
                    "relation_name": '"demo"."main"."metricflow_time_spine"',
                },
                "primary_column": {"name": "date_day", "time_granularity": "day"},
                "custom_granularities": [],
            }
        ],
    }
    orders = semantic["semantic_models"][0]
    assert list(orders) == [
        "name", "defaults", "description", "node_relation", "primary_entity", "entities", "measures",
        "dimensions", "label", "metadata", "config",
    ]  # fmt: skip
    assert orders["entities"][0] == {
        "name": "order_id", "description": None, "type": "primary", "role": None, "expr": None,
        "metadata": None, "label": None, "config": {"meta": {}},
    }  # fmt: skip
    assert list(orders["measures"][0]) == [
        "name", "agg", "description", "create_metric", "expr", "agg_params", "metadata",
        "non_additive_dimension", "agg_time_dimension", "label", "config",
    ]  # fmt: skip
    revenue = semantic["metrics"][0]
    assert list(revenue) == [
        "name", "description", "type", "type_params", "filter", "metadata", "label", "config", "time_granularity",
    ]  # fmt: skip
    assert list(revenue["type_params"]) == [
        "measure", "numerator", "denominator", "expr", "window", "grain_to_date", "metrics",
        "conversion_type_params", "cumulative_type_params", "input_measures",
    ]  # fmt: skip
    cumulative = next(m for m in semantic["metrics"] if m["name"] == "cumulative_revenue")
    assert cumulative["type_params"]["cumulative_type_params"] == {
        "window": {"count": 7, "granularity": "day"}, "grain_to_date": None, "period_agg": "first",
    }  # fmt: skip
    assert semantic["saved_queries"] == [
        {
            "name": "revenue_by_status",
            "query_params": {
                "metrics": ["revenue", "order_count"],
                "group_by": ["Dimension('order_id__status')"],
                "order_by": [],
                "limit": None,
                "where": {"where_filters": [{"where_sql_template": "{{ Dimension('order_id__status') }} = 'placed'"}]},
            },
            "description": "Revenue per status",
            "metadata": None,
            "label": None,
            "exports": [
                {
                    "name": "revenue_export",
                    "config": {"export_as": "table", "schema_name": "main", "alias": "revenue_export"},
                }
            ],
            "tags": [],
        }
    ]


def test_a_project_without_semantic_resources_writes_an_empty_semantic_manifest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "demo", {"models/a.sql": "select 1 as x"})
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 0 and "metric" not in out.output
    semantic = artifact(root, "semantic_manifest.json")
    assert semantic["semantic_models"] == semantic["metrics"] == semantic["saved_queries"] == []
    assert semantic["project_configuration"]["time_spines"] == []
    manifest = artifact(root)
    assert manifest["metrics"] == manifest["semantic_models"] == manifest["saved_queries"] == {}


def test_the_legacy_time_spine_model_counts_with_dbts_deprecation_warning(tmp_path: Path) -> None:
    root = semantic_project(tmp_path, models__spine_yml=None)
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 0, out.output
    text = flat(out.output)
    assert (
        "[WARNING]: Time spines without YAML configuration are in the process of deprecation. Please add YAML "
        "configuration for your 'metricflow_time_spine' model." in text
    )
    configuration = artifact(root, "semantic_manifest.json")["project_configuration"]
    assert configuration["time_spines"] == []
    assert configuration["time_spine_table_configurations"] == [
        {"location": '"demo"."main"."metricflow_time_spine"', "column_name": "date_day", "grain": "day"}
    ]


def test_project_configs_groups_and_disabled_resources(tmp_path: Path) -> None:
    root = semantic_project(
        tmp_path,
        modelkit_yml="""
            name: demo
            semantic-models:
              demo:
                +meta: {team: core}
            metrics:
              demo:
                +meta: {owner: finance}
            saved-queries:
              demo:
                +schema: exports
        """,
        models__extra_yml="""
            groups:
              - {name: finance, owner: {name: Finance}}
            metrics:
              - name: retired
                label: Retired
                type: simple
                config: {enabled: false}
                type_params: {measure: order_total}
              - name: grouped
                label: Grouped
                type: simple
                config: {group: finance}
                type_params: {measure: order_total}
            semantic_models:
              - name: retired_facts
                model: ref('orders')
                config: {enabled: false}
                measures: [{name: retired_total, agg: sum, expr: amount, create_metric: true}]
            saved_queries:
              - {name: retired_query, config: {enabled: false}, query_params: {metrics: [revenue]}}
        """,
    )
    assert run_cli("parse", cwd=root).exit_code == 0
    manifest = artifact(root)
    orders = manifest["semantic_models"]["semantic_model.demo.orders"]
    assert orders["config"]["meta"] == {"team": "core"} and orders["unrendered_config"] == {}
    assert orders["dimensions"][0]["config"] == {"meta": {"team": "core"}}  # elements get their model's meta
    revenue = manifest["metrics"]["metric.demo.revenue"]
    assert revenue["meta"] == revenue["config"]["meta"] == {"owner": "finance"}
    assert revenue["unrendered_config"] == {"meta": {"owner": "finance"}}
    made = manifest["metrics"]["metric.demo.order_count"]  # from a measure: its semantic model's meta too
    assert made["config"]["meta"] == {"owner": "finance", "team": "core"}
    export = manifest["saved_queries"]["saved_query.demo.revenue_by_status"]["exports"][0]
    assert export["config"]["schema_name"] == "exports"  # the saved query's `schema`, as given
    assert "metric.demo.retired" not in manifest["metrics"]
    assert manifest["disabled"]["metric.demo.retired"][0]["config"]["enabled"] is False
    disabled_model = manifest["disabled"]["semantic_model.demo.retired_facts"][0]
    assert disabled_model["refs"] == [{"name": "orders", "package": None, "version": None}]
    assert disabled_model["depends_on"]["nodes"] == [] and disabled_model["node_relation"] is None
    assert "metric.demo.retired_total" in manifest["disabled"]  # the metric its measure makes: disabled too
    assert "saved_query.demo.retired_query" in manifest["disabled"]
    assert manifest["metrics"]["metric.demo.grouped"]["group"] == "finance"
    assert manifest["group_map"] == {"finance": ["metric.demo.grouped"]}
    out = run_cli("ls", "-s", "group:finance", cwd=root)
    assert out.output.split() == ["metric:demo.grouped"]


def test_graph_variable_in_jinja_lists_the_semantic_resources(tmp_path: Path) -> None:
    probe = (
        "select {{ graph.metrics | length }} as metrics, {{ graph.semantic_models | length }} as semantic_models, "
        "{{ graph.saved_queries | length }} as saved_queries, "
        "'{{ graph.metrics['metric.demo.revenue'].label }}' as label"
    )
    root = semantic_project(tmp_path, models__probe_sql=probe)
    out = run_cli("run", "-s", "probe", cwd=root)
    assert out.exit_code == 0, out.output
    assert query(embedded_db(root), "select * from probe") == [(7, 2, 1, "Revenue")]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-s", "metric:revenue"], ["metric:demo.revenue"]),
        (["-s", "metric:demo.revenue_*"], ["metric:demo.revenue_per_order"]),
        (["-s", "orders"], ["demo.orders", "semantic_model:demo.orders"]),  # fqn: the semantic model too
        (["-s", "+metric:revenue"], ["metric:demo.revenue", "demo.orders", "semantic_model:demo.orders"]),  # by id
        (["-s", "semantic_model:customers+"], [
            "metric:demo.customers_count", "metric:demo.order_conversion", "semantic_model:demo.customers",
        ]),
        (["-s", "saved_query:revenue_by_status"], ["saved_query:demo.revenue_by_status"]),
        (["-s", "resource_type:saved_query"], ["saved_query:demo.revenue_by_status"]),
        (["--resource-type", "semantic_model"], ["semantic_model:demo.customers", "semantic_model:demo.orders"]),
        (["-s", "exposure:dash", "--output", "name"], ["dash"]),
        (["-s", "metric:revenue", "--output", "path"], ["models/semantic.yml"]),
    ],
)  # fmt: skip
def test_selection_methods_of_semantic_resources(tmp_path: Path, args: list[str], expected: list[str]) -> None:
    root = semantic_project(tmp_path)
    out = run_cli("ls", "-q", *args, cwd=root)
    assert out.exit_code == 0, out.output
    assert out.output.split() == expected


def test_ls_lists_them_all_and_as_json_in_dbts_key_order(tmp_path: Path) -> None:
    root = semantic_project(tmp_path)
    out = run_cli("ls", "-q", cwd=root)
    lines = out.output.split()
    assert lines[:2] == ["exposure:demo.dash", "metric:demo.cumulative_revenue"]
    assert "saved_query:demo.revenue_by_status" in lines and "demo.metricflow_time_spine" in lines
    out = run_cli("ls", "-q", "-s", "metric:revenue", "--output", "json", cwd=root)
    assert json.loads(out.output) == {
        "name": "revenue",
        "resource_type": "metric",
        "package_name": "demo",
        "original_file_path": "models/semantic.yml",
        "unique_id": "metric.demo.revenue",
        "tags": [],
        "config": {"enabled": True, "group": None, "meta": {}},
        "depends_on": {"macros": [], "nodes": ["semantic_model.demo.orders"]},
    }
    assert list(json.loads(out.output))[5] == "tags"  # dbt's order for metrics: tags before config
    bad = run_cli("ls", "-s", "metric:a.b.c", cwd=root)
    assert bad.exit_code == 2
    assert 'Invalid metric selector value "a.b.c". Metrics must be of the form' in bad.output


def test_run_selects_the_models_a_metric_depends_on(tmp_path: Path) -> None:
    root = semantic_project(tmp_path)
    out = run_cli("run", "-s", "+metric:revenue", cwd=root)
    assert out.exit_code == 0, out.output
    assert "1 of 1 OK created sql view model main.orders" in out.output
    assert query(
        embedded_db(root), "select count(*) from information_schema.tables where table_name = 'customers'"
    ) == [(0,)]


BROKEN = [
    ("measure: order_total\n", "measure: order_totl\n",
     "Parsing Error in metric revenue (models/semantic.yml)",
     "A semantic model having a measure `order_totl` does not exist but was referenced."),
    ("numerator: revenue,", "numerator: revenu,",
     "Parsing Error in metric revenue_per_order (models/semantic.yml)",
     "The metric `revenu` does not exist but was referenced by metric `revenue_per_order`."),
    ("{name: revenue, alias: rev", "{name: revenue_x, alias: rev",
     "Parsing Error in metric double_revenue",
     "The metric `revenue_x` does not exist but was referenced by metric `double_revenue`."),
    ("model: ref('customers')", "model: ref('custmers')",
     "models/semantic.yml",
     "Semantic_Model 'semantic_model.demo.customers' (models/semantic.yml) depends on a node named 'custmers' "
     "which was not found"),
    ("metrics: [revenue, order_count]", "metrics: [revenue, order_cnt]",
     "models/semantic.yml",
     "Saved_Query 'saved_query.demo.revenue_by_status' (models/semantic.yml) depends on a metric named "
     "'order_cnt' which was not found"),
    ("metric('revenue')", "metric('revenu')",
     "models/semantic.yml",
     "Exposure 'exposure.demo.dash' (models/semantic.yml) depends on a metric named 'revenu' which was not found"),
    ("type: ratio", "type: ratioo", "models/semantic.yml", "metric type `ratioo` is invalid"),
    ("window: 7 days}", "window: seven days}", "models/semantic.yml",
     "Invalid count (seven) in cumulative/conversion metric window string: (seven days)"),
    ("{numerator: revenue, denominator: order_count}", "{numerator: revenue, denominator: revenue_per_order}",
     "models/semantic.yml", "Found a cycle: revenue_per_order -> revenue_per_order"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "where", "message"), BROKEN)
def test_broken_references_are_dbts_errors_naming_the_file(
    tmp_path: Path, old: str, new: str, where: str, message: str
) -> None:
    assert old in SEMANTIC
    root = semantic_project(tmp_path, models__semantic_yml=SEMANTIC.replace(old, new))
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 2, out.output
    text = flat(out.output)
    assert where in text and message in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("spine", "message"),
    [
        (None, "The semantic layer requires a time spine model with granularity DAY or smaller in the project"),
        (SPINE.replace("granularity: day", "granularity: month"), "requires a time spine model with granularity DAY"),
        (SPINE.replace("column: date_day", "column: day_date"),
         "Time spine standard granularity column must be defined on the model. Got invalid column name 'day_date'"),
        (SPINE.replace("        granularity: day\n", ""),
         "Time spine standard granularity column must have a granularity defined."),
    ],
)  # fmt: skip
def test_semantic_models_need_a_time_spine(tmp_path: Path, spine: str | None, message: str) -> None:
    # (named metricflow_time_spine, a model would count as a day time spine whatever its YAML says)
    spine = spine.replace("name: metricflow_time_spine", "name: calendar") if spine else None
    root = semantic_project(tmp_path, models__spine_yml=spine)
    (root / "models" / "metricflow_time_spine.sql").rename(root / "models" / "calendar.sql")
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 2, out.output
    assert message in flat(out.output)


ACME_SEMANTIC = """
semantic_models:
  - name: acme_orders_sm
    model: ref('acme_orders')
    entities: [{name: acme_order, type: primary, expr: id}]
    measures: [{name: acme_amount, agg: sum, expr: amount, agg_time_dimension: ordered_day}]
    dimensions: [{name: ordered_day, type: time, expr: current_date, type_params: {time_granularity: day}}]
metrics:
  - name: acme_total
    label: Acme total
    type: simple
    type_params: {measure: acme_amount}
"""


def test_a_packages_semantic_resources_and_a_root_metric_on_its_measure(tmp_path: Path) -> None:
    root = make_projects(
        tmp_path,
        acme={"models/semantic/acme.yml": ACME_SEMANTIC},
        root={
            "dbt_project.yml": textwrap.dedent(ROOT["dbt_project.yml"])
            + "metrics:\n  acme:\n    +meta: {from_root: true}\n",
            "models/spine.yml": SPINE,
            "models/metricflow_time_spine.sql": MODELS["models/metricflow_time_spine.sql"],
            "models/metrics.yml": """
                metrics:
                  - name: doubled
                    label: Doubled
                    type: derived
                    type_params: {expr: tot * 2, metrics: [{name: acme_total, alias: tot}]}
                  - name: own_total
                    label: Own total
                    type: simple
                    type_params: {measure: acme_amount}
                exposures:
                  - name: acme_board
                    type: dashboard
                    owner: {name: Finance}
                    depends_on: ["metric('acme', 'acme_total')"]
            """,
        },
    )
    out = run_cli("parse", "--project-dir", str(root))
    assert out.exit_code == 0, out.output
    manifest = artifact(root)
    facts = manifest["semantic_models"]["semantic_model.acme.acme_orders_sm"]
    assert facts["fqn"] == ["acme", "semantic", "acme_orders_sm"] and facts["path"] == "semantic/acme.yml"
    assert facts["depends_on"]["nodes"] == ["model.acme.acme_orders"]
    assert facts["node_relation"]["schema_name"] == "main_acme"  # placed as the package's model is
    total = manifest["metrics"]["metric.acme.acme_total"]
    assert total["config"]["meta"] == {"from_root": True}  # the root project's config for the package's path
    assert total["unrendered_config"] == {"meta": {"from_root": True}}
    assert manifest["metrics"]["metric.demo.doubled"]["depends_on"]["nodes"] == ["metric.acme.acme_total"]
    assert manifest["metrics"]["metric.demo.own_total"]["depends_on"]["nodes"] == ["semantic_model.acme.acme_orders_sm"]
    out = run_cli(
        "ls", "-q", "-s", "package:acme", "--resource-type", "metric", "semantic_model", "--project-dir", str(root)
    )
    assert out.output.split() == ["metric:acme.acme_total", "semantic_model:acme.acme_orders_sm"]


def test_descriptions_use_docs_blocks_and_values_render_jinja_but_filters_stay_templates(tmp_path: Path) -> None:
    semantic = SEMANTIC.replace("description: Total revenue", "description: '{{ doc(\"revenue_doc\") }}'")
    semantic = semantic.replace("label: Revenue\n", "label: \"{{ var('revenue_label', 'Revenue') }}\"\n")
    semantic = semantic.replace("description: Order facts", "description: '{{ doc(\"orders_doc\") }}'")
    root = semantic_project(
        tmp_path,
        models__semantic_yml=semantic,
        models__docs_md="{% docs revenue_doc %}Money in{% enddocs %}\n{% docs orders_doc %}One row per order{% enddocs %}",
    )
    assert run_cli("parse", "--vars", "{revenue_label: Turnover}", cwd=root).exit_code == 0
    manifest = artifact(root)
    revenue = manifest["metrics"]["metric.demo.revenue"]
    assert (revenue["description"], revenue["label"]) == ("Money in", "Turnover")
    assert (
        revenue["filter"]["where_filters"][0]["where_sql_template"] == "{{ Dimension('order_id__status') }} = 'placed'"
    )
    assert manifest["semantic_models"]["semantic_model.demo.orders"]["description"] == "One row per order"
    assert artifact(root, "semantic_manifest.json")["metrics"][0]["description"] == "Money in"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "metrics:\n  - {name: revenue, label: Again, type: simple, type_params: {measure: order_total}}\n",
            'modelkit found two metrics with the name "revenue". Since these resources have the same name',
        ),
        (
            "semantic_models:\n  - name: more\n    model: ref('orders')\n    config: {enabled: false}\n"
            "    measures: [{name: hidden_total, agg: sum, expr: amount}]\n"
            "metrics:\n  - {name: hidden, label: Hidden, type: simple, type_params: {measure: hidden_total}}\n",
            "The measure `hidden_total` is referenced on disabled semantic model `more`.",
        ),
        (
            "metrics:\n  - {name: off_metric, label: Off, type: simple, config: {enabled: false}, "
            "type_params: {measure: order_total}}\n"
            "  - {name: on_metric, label: On, type: derived, type_params: {expr: x, metrics: [off_metric]}}\n",
            "The metric `off_metric` is disabled and thus cannot be referenced.",
        ),
        (
            "metrics:\n  - {name: grouped, label: G, type: simple, config: {group: nobody}, "
            "type_params: {measure: order_total}}\n",
            "Parsing Error in metric grouped (models/extra.yml) Invalid group 'nobody', expected one of []",
        ),
    ],
)
def test_duplicate_disabled_and_ungrouped_resources_are_dbts_errors(tmp_path: Path, extra: str, message: str) -> None:
    root = semantic_project(tmp_path, models__extra_yml=extra)
    out = run_cli("parse", cwd=root)
    assert out.exit_code == 2, out.output
    assert message in flat(out.output)
