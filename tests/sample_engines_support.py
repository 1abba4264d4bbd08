"""What the bundled sample project builds, shared by the tests that build it on other engines than
DuckDB and compare the results with DuckDB's."""

from __future__ import annotations

# every seed, model, snapshot and stored test failure the sample project builds: (schema, relation)
RELATIONS = [
    ("main", "raw_customers"),
    ("main", "raw_orders"),
    ("main", "raw_payments"),
    ("main", "stg_customers"),
    ("main", "stg_orders"),
    ("main", "stg_payments"),
    ("main", "orders"),
    ("main", "customers"),
    ("main", "payments_ledger"),
    ("main", "customers_snapshot"),
    ("main_dbt_test__audit", "relationships_orders_customer_id__customer_id__ref_customers_"),
]

DONE_LINE = "Done. PASS=32 WARN=1 ERROR=0 SKIP=0 NO-OP=0 TOTAL=33"

# lines of a first build of the sample project, on any engine
FIRST_BUILD_LINES = (
    "OK loaded seed file main.raw_orders",
    "OK created sql view model main.stg_orders",
    "OK created sql table model main.customers",  # the contracted model
    "OK created sql incremental model main.payments_ledger",
    "OK snapshotted main.customers_snapshot",
    "PASS customers::lifetime_value_sums_all_orders",
    "PASS orders::orders_without_payments_have_zero_amount",
    "PASS relationships_orders_customer_id__customer_id__ref_customers_",
    "WARN 1 positive_stg_payments_amount",
    "PASS assert_order_amounts_add_up",
)
