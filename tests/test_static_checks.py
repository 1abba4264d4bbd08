"""The checks against DuckDB itself: every query DuckDB accepts is accepted (no false positives), and
the names DuckDB's binder rejects are reported as such."""

from __future__ import annotations

import duckdb
import pytest

from modelkit.analysis.checks import check_query
from modelkit.analysis.findings import AMBIGUOUS_COLUMN, SET_ARITY, TYPE_MISMATCH, UNKNOWN_COLUMN
from modelkit.analysis.relations import Relations
from modelkit.analysis.shapes import Shape

TABLES = {
    "orders": "select 1 as id, 2 as customer_id, 3.5::double as amount, date '2024-01-01' as order_date, "
    "'x' as status, [1, 2] as tags, {'a': 1, 'b': 'q'} as info",
    "customers": "select 2 as id, 'Ann' as name, 'NL' as country",
}
REPORTED = (UNKNOWN_COLUMN, AMBIGUOUS_COLUMN, SET_ARITY, TYPE_MISMATCH)

VALID = [
    "select o.id, c.name from orders o join customers c on o.customer_id = c.id",
    "select * from orders join customers using (id)",
    "select id from orders natural join customers",
    "select amount * 2 as a2, a2 + 1 as a3 from orders",
    "select amount * 2 as a2 from orders where a2 > 1",
    "select status, count(*) from orders group by all order by all",
    "select status, count(*) as n from orders group by status having n > 0",
    "select id, row_number() over (partition by status order by amount) as rn from orders qualify rn = 1",
    "select list_transform(tags, lambda x: x + id) as t from orders",
    "select [x * 2 for x in tags if x > 1] as doubled from orders",
    "select info.a, info['b'] from orders",
    "select o.info.a from orders o",
    "select o from orders o",
    "select t.tag from orders, unnest(tags) as t(tag)",
    "select * exclude (tags, info) from orders",
    "select * replace (amount * 2 as amount) from orders",
    "select columns('am.*') from orders",
    "select id from orders o where exists (select 1 from customers c where c.id = o.customer_id)",
    "select id from orders where customer_id = (select max(id) from customers where country = status)",
    "with a as (select id, amount from orders), b as (select id, sum(amount) as total from a group by id) "
    "select a.id, b.total from a join b using (id)",
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select n from r",
    "select i from range(3) t(i)",
    "select x, y from (values (1, 'a'), (2, 'b')) v(x, y)",
    "select count(*) filter (where amount > 1) as big from orders",
    "select string_agg(status, ',' order by id) from orders",
    "select id, lag(amount) over w from orders window w as (order by id)",
    "select distinct on (status) status, id from orders order by status, id",
    "select rowid, id, current_date from orders",
    "select id, amount from orders union all by name select id, 1.0 as amount from customers",
    "select * from orders o asof join customers c on o.id >= c.id",
    "select * from orders positional join customers",
    "select c.* exclude (country) from customers c",
    """select "ID", "Name" from customers""",
    "select struct_pack(k := id) as s, {'k': id, 'v': status} as t from orders",
    "select id from orders where order_date > '2023-12-31'",
    "select s.total from (select sum(amount) as total from orders) as s",
    "select id, (select count(*) from customers c where c.id = orders.customer_id) as n from orders",
    "select x.id from orders x join lateral (select x.amount * 2 as dbl) y on true",
    "select id from orders union all select id from customers order by id",
]

INVALID = [  # (query, what the analysis reports, what DuckDB's error says)
    ("select idd from orders", UNKNOWN_COLUMN, 'Referenced column "idd" not found'),
    ("select o.nme from orders o", UNKNOWN_COLUMN, 'does not have a column named "nme"'),
    ("select id from orders join customers on customer_id = customers.id", AMBIGUOUS_COLUMN, "Ambiguous reference"),
    ("with c as (select id from orders) select c.amount from c", UNKNOWN_COLUMN, 'does not have a column named "amount"'),
    ("select id from (select id as oid from orders) s", UNKNOWN_COLUMN, 'Referenced column "id" not found'),
    ("select id from orders where exists (select 1 from customers c where c.idd = orders.id)", UNKNOWN_COLUMN,
     'Referenced table "c" not found'),  # DuckDB looks for c.idd outside the subquery too, and gives up there
    ("select id from orders union all select id, name from customers", SET_ARITY, "same number of result columns"),
    ("select id from orders where order_date > 5", TYPE_MISMATCH, "Cannot compare values of type DATE and type"),
]  # fmt: skip


@pytest.fixture(scope="module")
def setup() -> tuple[duckdb.DuckDBPyConnection, Relations]:
    con = duckdb.connect()
    relations = Relations("duckdb", "memory", "main")
    for name, sql in TABLES.items():
        con.execute(f"create table {name} as {sql}")
        columns = con.execute(f"describe {name}").fetchall()
        shape = Shape([c[0] for c in columns], [c[1] for c in columns])
        relations.add(relations.key(None, None, name), f"model.p.{name}", f"model {name}", shape)
    return con, relations


PARENTS = frozenset({"model.p.orders", "model.p.customers"})


@pytest.mark.parametrize("sql", VALID)
def test_what_duckdb_accepts_is_accepted(setup, sql: str) -> None:
    con, relations = setup
    con.execute(sql).fetchall()  # valid, as DuckDB sees it
    found = check_query(sql, relations, parents=PARENTS)
    assert [f for f in found.findings if f.code in REPORTED] == []


@pytest.mark.parametrize(("sql", "code", "duckdb_says"), INVALID)
def test_what_duckdb_rejects_is_reported(setup, sql: str, code: str, duckdb_says: str) -> None:
    con, relations = setup
    with pytest.raises(duckdb.Error, match=duckdb_says):
        con.execute(sql).fetchall()
    found = check_query(sql, relations, parents=PARENTS)
    assert [f.code for f in found.findings if f.code in REPORTED] == [code]


def test_output_columns_follow_the_query(setup) -> None:
    con, relations = setup
    sql = "select o.* exclude (tags, info), c.name as customer from orders o join customers c on c.id = o.customer_id"
    found = check_query(sql, relations, parents=PARENTS)
    assert list(found.shape.names) == [d[0] for d in con.execute(sql).description]
    assert found.shape.complete and found.shape.type_of("amount") == "DOUBLE"
    assert not check_query("select amount + 1 from orders", relations, parents=PARENTS).shape.complete  # unnamed
    both = check_query("select * from orders join customers on customers.id = orders.id", relations, parents=PARENTS)
    assert not both.shape.complete  # two columns named id: what the engine calls the second is not known here
