"""``modelkit lineage`` on the sample project: column lineage through CTEs, joins, an ephemeral model
and ``select *``, with how each column is used; node graphs; text, JSON and DOT; nothing is built."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_PROJECT, embedded_db, run_cli, write_files

UID = "model.shop."


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lineage") / "shop"
    shutil.copytree(SAMPLE_PROJECT, root, ignore=shutil.ignore_patterns("target", "logs"))
    return root


def lineage(shop: Path, *args: str) -> dict:
    out = run_cli("lineage", *args, "--output", "json", cwd=shop)
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def edges(data: dict, direction: str) -> set[tuple[str, str, str, str, str]]:
    return {
        (e["from"]["name"], e["from"].get("column"), e["how"], e["to"]["name"], e["to"].get("column"))
        for e in data[direction]
    }


# (column, upstream edges expected among the result: (from, column, how, to, column))
UPSTREAM = [
    (
        "customers.lifetime_value",
        {
            # customers: `select * from orders` in a CTE, then sum() in another, then coalesce()
            ("orders", "amount", "aggregated", "customers", "lifetime_value"),
            # orders.amount = coalesce(p.total_amount, 0), p the ephemeral int_order_payments
            ("int_order_payments", "total_amount", "transformed", "orders", "amount"),
            ("stg_payments", "amount", "aggregated", "int_order_payments", "total_amount"),
            ("shop_raw.payments", "amount", "transformed", "stg_payments", "amount"),
            # the join keys decide which rows reach the column
            ("stg_customers", "customer_id", "filtered-by", "customers", "lifetime_value"),
        },
    ),
    (
        "customers.first_name",
        {
            ("stg_customers", "first_name", "copied", "customers", "first_name"),
            ("raw_customers", "first_name", "copied", "stg_customers", "first_name"),
        },
    ),
    ("stg_orders.order_date", {("shop_raw.orders", "order_date", "transformed", "stg_orders", "order_date")}),
]


@pytest.mark.parametrize(("column", "expected"), UPSTREAM, ids=[c[0] for c in UPSTREAM])
def test_upstream_columns_and_how(shop: Path, column: str, expected: set) -> None:
    data = lineage(shop, column, "--upstream")
    assert "downstream" not in data
    assert expected <= edges(data, "upstream")
    assert not embedded_db(shop, "shop").exists()  # nothing was built or connected to


def test_downstream_of_a_column_through_the_ephemeral_model(shop: Path) -> None:
    data = lineage(shop, "stg_payments.amount", "--downstream")
    found = edges(data, "downstream")
    assert ("stg_payments", "amount", "aggregated", "int_order_payments", "credit_card_amount") in found
    assert ("int_order_payments", "total_amount", "transformed", "orders", "amount") in found
    assert ("orders", "amount", "aggregated", "customers", "lifetime_value") in found
    assert ("stg_payments", "amount", "copied", "payments_ledger", "amount") in found
    depths = {(e["to"]["name"], e["to"]["column"]): e["depth"] for e in data["downstream"]}
    assert depths[("customers", "lifetime_value")] == 3
    one = lineage(shop, "stg_payments.amount", "--downstream", "--depth", "1")
    assert {e["depth"] for e in one["downstream"]} == {1}


def test_text_output_is_a_tree(shop: Path) -> None:
    out = run_cli("lineage", "customers.first_name", "--upstream", cwd=shop)
    assert out.exit_code == 0
    assert out.output.splitlines() == [
        "Upstream of customers.first_name:",
        "customers.first_name",
        "├── copied  stg_customers.first_name",
        "│   └── copied  raw_customers.first_name",
        "├── filtered-by  orders.customer_id",  # the join's keys: `using (customer_id)`
        "└── filtered-by  stg_customers.customer_id",
    ]


def test_node_graph_with_depth(shop: Path) -> None:
    data = lineage(shop, "orders", "--depth", "1")
    assert {(e["from"]["name"], e["to"]["name"]) for e in data["upstream"]} == {
        ("stg_orders", "orders"),
        ("int_order_payments", "orders"),
    }
    assert {(e["from"]["name"], e["to"]["name"]) for e in data["downstream"]} == {
        ("orders", "customers"),
        ("orders", "revenue_by_month"),
    }
    full = lineage(shop, "orders", "--upstream")
    assert ("shop_raw.payments", "stg_payments") in {(e["from"]["name"], e["to"]["name"]) for e in full["upstream"]}


def test_dot_output(shop: Path) -> None:
    out = run_cli("lineage", "orders.amount", "--upstream", "--depth", "1", "--output", "dot", cwd=shop)
    assert out.exit_code == 0
    text = out.output
    assert text.startswith("digraph lineage {")
    assert '"model.shop.int_order_payments.total_amount" -> "model.shop.orders.amount" [label="transformed"];' in text
    assert '[label="filtered-by", style=dashed]' in text


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "customers.lifetime_valu",
            "'lifetime_valu' is not a column of model customers. Did you mean 'lifetime_value'?",
        ),
        ("custmers.id", "No node named 'custmers'. Did you mean 'customers'"),
    ],
)
def test_unknown_names_are_usage_errors(shop: Path, target: str, message: str) -> None:
    out = run_cli("lineage", target, cwd=shop)
    assert out.exit_code == 2
    assert message in out.output


def test_the_docs_site_and_the_command_share_the_engine() -> None:
    from modelkit.analysis import lineage as engine
    from modelkit.docs import trace

    assert trace.analyse is engine.analyse


def test_upstream_order_does_not_depend_on_the_process(tmp_path: Path) -> None:
    """A column computed from several upstream columns lists them in one order, whatever the process's
    string hashing (sqlglot gives them in set order)."""
    import os
    import subprocess
    import sys

    root = write_files(
        tmp_path / "demo",
        {
            "modelkit.yml": "name: demo\n",
            "models/a.sql": "select 1 as id, 2 as x, 3 as y, 4 as z",
            "models/b.sql": "select 1 as id, 5 as p, 6 as q",
            "models/total.sql": (
                "select a.id, a.x + a.y + a.z + b.p + b.q as total from {{ ref('a') }} a"
                " join {{ ref('b') }} b on a.id = b.id and b.q > a.z where a.x > 0 and b.p < 9"
            ),
        },
    )
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        out = subprocess.run(
            [sys.executable, "-m", "modelkit.cli", "lineage", "total.total", "--upstream", "--output", "json"],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(out.stdout)
        shutil.rmtree(root / "target", ignore_errors=True)  # traced again, not read from the cache
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())["upstream"]) >= 5
