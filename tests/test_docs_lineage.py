"""Column lineage over compiled SQL: what each output column is computed from, or why that is unknown."""

from __future__ import annotations

import pytest

from modelkit.analysis.lineage import LineageContext, analyse
from modelkit.analysis.lineage_pool import analyse_many


def context() -> LineageContext:
    ctx = LineageContext("duckdb", "db", "main")
    ctx.add_relation(
        ctx.key("db", "main", "orders"),
        "model.p.orders",
        {"id": "INTEGER", "customer_id": "INTEGER", "amount": "DOUBLE"},
    )
    ctx.add_relation(ctx.key("db", "main", "customers"), "model.p.customers", {"id": "INTEGER", "name": "VARCHAR"})
    ctx.add_relation(ctx.key("db", "raw", "orders"), "source.p.raw.orders", {"id": "INTEGER", "user_id": "INTEGER"})
    ctx.add_relation(ctx.key("db", "main", "unbuilt"), "model.p.unbuilt", None)  # a node the database lacks
    ctx.add_ephemeral("__dbt__cte__eph", "model.p.eph", {"order_id": "", "total": ""})
    return ctx


def summary(sql: str, parents: tuple[str, ...] = ()) -> dict[str, tuple]:
    found = analyse(context(), sql, parents)
    assert found.error is None, found.error
    out = {}
    for name in found.columns:
        col = found.get(name)
        out[name] = (col.status, sorted((u.unique_id, u.column) for u in col.upstream))
    return out


CASES = [
    (
        "renamed and passed through",
        'select id as order_id, amount from "db"."main"."orders"',
        {
            "order_id": ("direct", [("model.p.orders", "id")]),
            "amount": ("direct", [("model.p.orders", "amount")]),
        },
    ),
    (
        "computed from two columns of a join",
        "select o.id, o.amount * c.id as score, c.name from db.main.orders o join db.main.customers c on o.customer_id = c.id",
        {
            "id": ("direct", [("model.p.orders", "id")]),
            "score": ("derived", [("model.p.customers", "id"), ("model.p.orders", "amount")]),
            "name": ("direct", [("model.p.customers", "name")]),
        },
    ),
    (
        "through CTEs and an aggregate",
        "with x as (select customer_id, sum(amount) as total from db.main.orders group by 1) select customer_id, total from x",
        {
            "customer_id": ("direct", [("model.p.orders", "customer_id")]),
            "total": ("derived", [("model.p.orders", "amount")]),
        },
    ),
    (
        "literals and count(*) read no column",
        "select 'x' as kind, count(*) as n from db.main.orders",
        {"kind": ("none", []), "n": ("none", [])},
    ),
    (
        "star expanded from the catalog's columns",
        "select * from db.main.customers",
        {"id": ("direct", [("model.p.customers", "id")]), "name": ("direct", [("model.p.customers", "name")])},
    ),
    (
        "an inlined ephemeral model stands as its own node",
        "with __dbt__cte__eph as (select id as order_id, amount as total from db.main.orders) "
        "select o.id, e.total from db.main.orders o left join __dbt__cte__eph e on o.id = e.order_id",
        {
            "id": ("direct", [("model.p.orders", "id")]),
            "total": ("direct", [("model.p.eph", "total")]),
        },
    ),
    (
        "a union reads both branches",
        "select id from db.main.orders union all select id from db.main.customers",
        {"id": ("derived", [("model.p.customers", "id"), ("model.p.orders", "id")])},
    ),
    (
        "DuckDB's star modifiers and FROM-first syntax",
        "from db.main.orders select * exclude (customer_id) replace (amount * 2 as amount)",
        {"id": ("direct", [("model.p.orders", "id")]), "amount": ("derived", [("model.p.orders", "amount")])},
    ),
    (
        "lateral column aliases",
        "select id + 1 as b, b * 2 as c from db.main.orders",
        {"b": ("derived", [("model.p.orders", "id")]), "c": ("derived", [("model.p.orders", "id")])},
    ),
    (
        "a window function reads its partition and order columns",
        "select id, row_number() over (partition by customer_id order by amount) as rn from db.main.orders",
        {
            "id": ("direct", [("model.p.orders", "id")]),
            "rn": ("derived", [("model.p.orders", "amount"), ("model.p.orders", "customer_id")]),
        },
    ),
    (
        "unqualified relations resolve in the target's database and schema",
        "select name from customers",
        {"name": ("direct", [("model.p.customers", "name")])},
    ),
]


@pytest.mark.parametrize("label, sql, expected", CASES, ids=[c[0] for c in CASES])
def test_column_lineage(label: str, sql: str, expected: dict) -> None:
    assert summary(sql) == expected


def test_a_column_that_comes_from_no_relation_is_unresolved_not_guessed() -> None:
    found = analyse(context(), "select u.v from db.main.orders, unnest([1, 2]) as u(v)")
    column = found.get("v")
    assert column.status == "unresolved"
    assert column.upstream == []  # never attributed to orders
    assert "UNNEST" in (column.reason or "")


def test_duckdb_columns_expression_is_unresolved_not_a_literal() -> None:
    found = analyse(context(), "select id, columns('a.*') from db.main.orders")
    assert found.get("id").status == "direct"
    pattern = [c for c in found.columns if c != "id"][0]
    assert found.get(pattern).status == "unresolved"
    assert "COLUMNS(...)" in (found.get(pattern).reason or "")


def test_an_ambiguous_column_is_unresolved() -> None:
    # `y` could come from either relation: the schema of `unbuilt` is unknown
    found = analyse(context(), "select o.id, y from db.main.orders o join db.main.unbuilt u on o.id = u.id")
    assert found.get("id").status == "direct"
    assert found.get("y").status == "unresolved"
    assert "cannot tell which relation" in (found.get("y").reason or "")


def test_a_column_missing_from_a_known_relation_is_unresolved() -> None:
    found = analyse(context(), "select nothere from db.main.orders")
    assert found.get("nothere").status == "unresolved"
    assert "not a column of db.main.orders" in (found.get("nothere").reason or "")


def test_star_over_unknown_columns_says_so() -> None:
    found = analyse(context(), "select * from db.main.unbuilt")
    assert found.columns == []
    assert "selects * from a relation whose columns are unknown" in (found.error or "")
    assert found.get("anything").status == "unresolved"


def test_sql_that_does_not_parse_is_reported() -> None:
    found = analyse(context(), "select from where (")
    assert found.error is not None and "sqlglot" in found.error
    assert found.get("x").status == "unresolved"


def test_a_table_function_is_an_upstream_outside_the_project() -> None:
    found = analyse(context(), "select col from read_csv('data.csv')")
    col = found.get("col")
    assert col.status == "direct"
    assert [(u.unique_id, u.relation.lower(), u.column) for u in col.upstream] == [
        (None, "read_csv('data.csv')", "col")
    ]


def test_parents_decide_between_nodes_that_are_one_relation() -> None:
    ctx = context()
    ctx.add_relation(ctx.key("db", "raw", "orders"), "seed.p.raw_orders", {"id": "INTEGER", "user_id": "INTEGER"})
    sql = "select user_id from db.raw.orders"
    assert analyse(ctx, sql, ["seed.p.raw_orders"]).get("user_id").upstream[0].unique_id == "seed.p.raw_orders"
    assert analyse(ctx, sql, ["source.p.raw.orders"]).get("user_id").upstream[0].unique_id == "source.p.raw.orders"


@pytest.mark.parametrize("workers, count", [(2, 6), (3, 90)])
def test_many_queries_on_worker_processes_give_the_same_answers(workers: int, count: int) -> None:
    ctx = context()
    jobs = [(f"q{i}", f"select id as c{i}, amount from db.main.orders", []) for i in range(count)]
    serial = analyse_many(ctx, jobs, workers=1)
    parallel = analyse_many(ctx, jobs, workers=workers, threshold=0)
    assert serial.keys() == parallel.keys() and len(parallel) == count
    for uid in serial:
        assert serial[uid] == parallel[uid]
    assert parallel["q3"].get("c3").upstream[0].column == "id"


def test_cache_reuses_an_analysis_only_while_its_inputs_are_unchanged(tmp_path) -> None:
    from modelkit.analysis.lineage_cache import LineageCache

    ctx = context()
    job = ("model.p.x", "select id, amount from db.main.orders", ["model.p.orders"])
    cache = LineageCache(tmp_path, ctx)
    assert cache.get(job) is None
    cache.put(job, analyse(ctx, job[1], job[2]))
    cache.save([job])
    again = LineageCache(tmp_path, ctx)
    hit = again.get(job)
    assert hit is not None and hit == analyse(ctx, job[1], job[2]) and again.hits == 1
    # other SQL, other parents: analysed again
    assert again.get((job[0], job[1] + " where id > 0", job[2])) is None
    assert again.get((job[0], job[1], [])) is None
    # the columns of a relation the query reads changed: analysed again
    changed = context()
    changed.add_relation(changed.key("db", "main", "orders"), "model.p.orders", {"id": "INTEGER", "total": "DOUBLE"})
    assert LineageCache(tmp_path, changed).get(job) is None
    # a relation the query does not read changed: still reused
    other = context()
    other.add_relation(other.key("db", "main", "customers"), "model.p.customers", {"id": "INTEGER"})
    assert LineageCache(tmp_path, other).get(job) is not None
    # another target schema: nothing reused
    assert LineageCache(tmp_path, LineageContext("duckdb", "db", "other")).entries == {}


def test_a_worker_that_dies_leaves_its_share_to_the_main_process(monkeypatch) -> None:
    import modelkit.analysis.lineage_pool as pool

    monkeypatch.setattr(pool.sys, "executable", "/bin/false")
    jobs = [(f"q{i}", "select id from db.main.orders", []) for i in range(4)]
    found = analyse_many(context(), jobs, workers=2, threshold=0)
    assert sorted(found) == ["q0", "q1", "q2", "q3"]
    assert all(f.get("id").upstream[0].unique_id == "model.p.orders" for f in found.values())
