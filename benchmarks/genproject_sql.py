"""The SQL of each kind of generated model.

Every staging payments model, intermediate model and payments fact has the same six columns (PAYMENT_COLUMNS),
with ``payment_id`` unique, so any of them can be read, joined or unioned in place of another. Amounts are
DECIMAL(18, 2), and every average is an exact decimal sum divided once, so the results do not depend on the
order in which DuckDB's threads add rows up; the one ``row_number()`` orders by every column, so that ties
between rows, when any, are between identical rows. Two builds of a project therefore store the same data.

No model has more rows than the seeds it comes from: each kind keeps, filters, de-duplicates or
aggregates the rows of its parents, and joins only on unique keys.

Templates use ``string.Template`` placeholders (``$parent``) so that Jinja's braces need no escaping.
"""

from __future__ import annotations

import random
from string import Template

from genproject_plan import PlannedModel

PAYMENT_COLUMNS = ("payment_id", "account_id", "merchant_id", "paid_on", "state", "amount")
RAW_STATES = ("authorized", "settled", "refunded", "disputed", "failed")
DERIVED_STATES = ("settled_high", "vip", "rolled_up")
ALL_STATES = RAW_STATES + DERIVED_STATES
NET_FACTORS = ("0.97", "0.985", "1.00")  # never above 1: amounts cannot grow along a chain of models
COLUMN_LIST = ", ".join(PAYMENT_COLUMNS)


def ref(name: str) -> str:
    """The Jinja call that refers to a model or seed.

    >>> ref("stg_payments_1")
    "{{ ref('stg_payments_1') }}"
    """
    return "{{ ref('" + name + "') }}"


STAGING_PAYMENTS = Template("""\
with source as (

    select * from $seed

)

select
    id as payment_id,
    account_id,
    merchant_id,
    cast(paid_at as date) as paid_on,
    lower(state) as state,
    {{ cents_to_amount('amount_cents') }} as amount
from source
where cast(paid_at as date) >= cast('{{ var("first_payment_date") }}' as date)$extra_filter
""")

STAGING_ACCOUNTS = Template("""\
select
    id as account_id,
    trim(holder_name) as holder_name,
    lower(contact_email) as contact_email,
    upper(region) as region,
    tier,
    cast(opened_on as date) as opened_on
from $seed
""")

STAGING_MERCHANTS = Template("""\
select
    id as merchant_id,
    merchant_name,
    sector,
    {{ cents_to_amount('monthly_fee_cents') }} as monthly_fee
from $seed
""")

ADJUST = Template("""\
select
    payment_id,
    account_id,
    merchant_id,
    paid_on,
    case
        when state = 'settled' and amount >= {{ var('high_value_threshold') }} then 'settled_high'
        else state
    end as state,
    cast(amount * $factor as decimal(18, 2)) as amount
from $parent
""")

TAG = Template("""\
with payments as (

    select * from $parent

),

accounts as (

    select account_id, tier from $dimension

)

select
    payments.payment_id,
    payments.account_id,
    payments.merchant_id,
    payments.paid_on,
    case
        when accounts.tier = 'platinum' then 'vip'
        else payments.state
    end as state,
    payments.amount
from payments
left join accounts
    on payments.account_id = accounts.account_id
""")

FILTER = Template("""\
select $columns
from $parent
where state <> '$dropped_state'
    and amount > 0
""")

MERGE = Template("""\
with combined as (

$selects

),

numbered as (

    select
        *,
        row_number() over (
            partition by payment_id
            order by paid_on desc, amount desc, state, account_id, merchant_id
        ) as pick
    from combined

)

select $columns
from numbered
where pick = 1
""")

LINK = Template("""\
select
    base.payment_id,
    base.account_id,
    base.merchant_id,
    base.paid_on,
    coalesce($states, base.state) as state,
    cast(
        ($amounts) / $count
        as decimal(18, 2)
    ) as amount
from $parent as base
$joins
""")

ROLLUP = Template("""\
select
    account_id as payment_id,
    account_id,
    min(merchant_id) as merchant_id,
    max(paid_on) as paid_on,
    'rolled_up' as state,
    cast(sum(amount) as decimal(18, 2)) as amount
from $parent
group by account_id
""")

RUNNING = Template("""\
select
    payment_id,
    account_id,
    merchant_id,
    paid_on,
    state,
    cast(sum(amount) over recent / count(*) over recent as decimal(18, 2)) as amount
from $parent
window recent as (
    partition by account_id
    order by paid_on, payment_id
    rows between $preceding preceding and current row
)
""")

ACTIVITY = Template("""\
with per_account as (

    select
        account_id,
        count(*) as payment_count,
        sum(case when state = 'refunded' then 1 else 0 end) as refund_count,
        cast(sum(amount) as decimal(18, 2)) as total_amount,
        min(paid_on) as first_paid_on,
        max(paid_on) as last_paid_on
    from $parent
    group by account_id

)

select
    accounts.account_id,
    accounts.holder_name,
    accounts.region,
    accounts.tier,
    coalesce(per_account.payment_count, 0) as payment_count,
    coalesce(per_account.refund_count, 0) as refund_count,
    coalesce(per_account.total_amount, 0) as total_amount,
    per_account.first_paid_on,
    per_account.last_paid_on
from $dimension as accounts
left join per_account
    on accounts.account_id = per_account.account_id
""")

MONTHLY = Template("""\
select
    date_trunc('month', paid_on) as paid_month,
    state,
    count(*) as payment_count,
    cast(sum(amount) as decimal(18, 2)) as total_amount,
    cast(sum(amount) / count(*) as decimal(18, 2)) as average_amount
from $parent
group by date_trunc('month', paid_on), state
""")

FACT = Template("""\
with payments as (

    select * from $parent

),

merchants as (

    select * from $dimension

)

select
    payments.payment_id,
    payments.account_id,
    payments.merchant_id,
    merchants.merchant_name,
    merchants.sector,
    payments.paid_on,
    payments.state,
    payments.amount,
    {{ amount_band('payments.amount') }} as amount_band
from payments
left join merchants
    on payments.merchant_id = merchants.merchant_id
""")

SEED_OF = {"payments": "raw_payments", "accounts": "raw_accounts", "merchants": "raw_merchants"}
TEMPLATES = {
    "payments": STAGING_PAYMENTS,
    "accounts": STAGING_ACCOUNTS,
    "merchants": STAGING_MERCHANTS,
    "adjust": ADJUST,
    "tag": TAG,
    "filter": FILTER,
    "merge": MERGE,
    "link": LINK,
    "rollup": ROLLUP,
    "running": RUNNING,
    "activity": ACTIVITY,
    "monthly": MONTHLY,
    "fact": FACT,
}


def kind_values(model: PlannedModel, rng: random.Random) -> dict[str, str]:
    """Placeholder values that vary within a kind (drawn from ``rng``)."""
    if model.kind == "payments":
        return {"extra_filter": "\n    and lower(state) <> 'failed'" if rng.random() < 0.25 else ""}
    if model.kind == "adjust":
        return {"factor": rng.choice(NET_FACTORS)}
    if model.kind == "filter":
        return {"dropped_state": rng.choice(RAW_STATES)}
    if model.kind == "running":
        return {"preceding": str(rng.choice((1, 2, 4, 7)))}
    if model.kind == "merge":
        selects = [f"    select {COLUMN_LIST} from {ref(p)}" for p in model.parents]
        return {"selects": "\n    union all\n".join(selects)}
    if model.kind == "link":
        others = [f"other_{i}" for i in range(1, len(model.parents))]
        joins = [
            f"left join {ref(p)} as {alias}\n    on {alias}.payment_id = base.payment_id"
            for alias, p in zip(others, model.parents[1:])
        ]
        return {
            "states": ", ".join(f"{alias}.state" for alias in others),
            "amounts": " + ".join(["base.amount"] + [f"coalesce({alias}.amount, base.amount)" for alias in others]),
            "count": str(len(model.parents)),
            "joins": "\n".join(joins),
        }
    return {}


def model_sql(model: PlannedModel, rng: random.Random) -> str:
    """The SQL file of ``model``: its config call, if any, then its query."""
    values = {"columns": COLUMN_LIST, **kind_values(model, rng)}
    if model.kind in SEED_OF:
        values["seed"] = ref(SEED_OF[model.kind])
    if model.parents:
        values["parent"] = ref(model.parents[0])
    if model.dimension:
        values["dimension"] = ref(model.dimension)
    body = TEMPLATES[model.kind].substitute(values)
    return f"{model.config_call}\n\n{body}" if model.config_call else body
