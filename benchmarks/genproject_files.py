"""The non-model files of a generated project: project and profile files, macros, docs, seeds and schema YAML."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from typing import Any

from genproject_plan import PlannedModel
from genproject_sql import ALL_STATES, RAW_STATES

PROJECT = "bench"
DB_FILE = "bench.duckdb"  # relative to the project folder, where the tools run
REGIONS = ("eu", "na", "latam", "apac", "mea")
TIERS = ("basic", "plus", "gold", "platinum")
SECTORS = ("grocery", "travel", "software", "fuel", "dining", "health")
BANDS = ("low", "mid", "high")
GIVEN_NAMES = ("amara", "bruno", "chen", "dalia", "emeka", "farah", "goran", "hana", "ivo", "jun")
FAMILY_NAMES = ("okafor", "silva", "li", "novak", "haddad", "sato", "berg", "moreau", "rossi", "kim")
MERCHANT_WORDS = ("north", "blue", "corner", "urban", "quick", "green", "harbor", "summit")
STATE_WEIGHTS = (15, 55, 12, 6, 12)  # of RAW_STATES
FIRST_DAY = dt.date(2021, 1, 1)
DAYS = 4 * 365

DBT_PROJECT_YML = f"""\
name: {PROJECT}
version: "1.0.0"
config-version: 2
profile: {PROJECT}

model-paths: ["models"]
seed-paths: ["seeds"]
macro-paths: ["macros"]
test-paths: ["tests"]
target-path: "target"
clean-targets: ["target"]

flags:
  send_anonymous_usage_stats: false

vars:
  first_payment_date: "2021-03-01"
  high_value_threshold: 400

models:
  {PROJECT}:
    staging:
      +materialized: view
    intermediate:
      +materialized: view
    marts:
      +materialized: table
"""

PROFILES_YML = f"""\
{PROJECT}:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {DB_FILE}  # relative: run the tool from the project folder
      threads: 1
"""

MACROS = {
    "cents_to_amount.sql": """\
{% macro cents_to_amount(column) -%}
    cast({{ column }} / 100 as decimal(18, 2))
{%- endmacro %}
""",
    "amount_band.sql": """\
{% macro amount_band(column) -%}
    case
        when {{ column }} >= {{ var('high_value_threshold') }} then 'high'
        when {{ column }} >= {{ var('high_value_threshold') }} / 10 then 'mid'
        else 'low'
    end
{%- endmacro %}
""",
}

DOCS_MD = """\
{% docs payments_shape %}
Has the columns of every payments model: `payment_id` (unique), `account_id`, `merchant_id`,
`paid_on`, `state` and `amount`.
{% enddocs %}

{% docs payment_id %}
Identifier of the payment, unique within the model.
{% enddocs %}

{% docs account_id %}
Identifier of the account, one of the raw_accounts seed.
{% enddocs %}

{% docs payment_state %}
State of the payment as recorded, or a state that an intermediate model assigned.
{% enddocs %}
"""

MODEL_DESCRIPTIONS = {
    "payments": "Payments of the raw_payments seed since the first_payment_date var.",
    "accounts": "Accounts of the raw_accounts seed.",
    "merchants": "Merchants of the raw_merchants seed.",
    "adjust": "{{ doc('payments_shape') }} Amounts net of fees; large settled payments marked.",
    "tag": "{{ doc('payments_shape') }} Payments of platinum accounts marked vip.",
    "filter": "{{ doc('payments_shape') }} Payments without one state and without zero amounts.",
    "merge": "{{ doc('payments_shape') }} Several payments models together, one row per payment.",
    "link": "{{ doc('payments_shape') }} Amounts averaged over the same payment in several models.",
    "rollup": "{{ doc('payments_shape') }} One row per account, its payments summed.",
    "running": "{{ doc('payments_shape') }} Amounts smoothed over each account's latest payments.",
    "activity": "One row per account with its payment totals.",
    "monthly": "Payment counts and amounts per month and state.",
    "fact": "Payments with their merchant's name and sector.",
}

# A data test: ("unique",), ("not_null",), ("accepted_values", values) or ("relationships", model, field).
Test = tuple[Any, ...]
Column = tuple[str, str, list[Test]]


def seeds(rows: int, rng: random.Random) -> dict[str, str]:
    """CSV text of the three seeds, ``rows`` rows each; ids run from 1 to ``rows`` in all three."""
    accounts: list[list[object]] = [["id", "holder_name", "contact_email", "region", "tier", "opened_on"]]
    merchants: list[list[object]] = [["id", "merchant_name", "sector", "monthly_fee_cents"]]
    payments: list[list[object]] = [["id", "account_id", "merchant_id", "paid_at", "state", "amount_cents"]]
    for i in range(1, rows + 1):
        given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
        email = f"{given}.{family}{i}@Mail.test"
        opened = FIRST_DAY - dt.timedelta(days=rng.randrange(DAYS))
        accounts.append([i, f"{given.title()} {family.title()}", email, rng.choice(REGIONS), rng.choice(TIERS), opened])
    for i in range(1, rows + 1):
        words = " ".join(rng.sample(MERCHANT_WORDS, 2))
        merchants.append([i, f"{words} {i}", rng.choice(SECTORS), rng.randrange(0, 20_000, 500)])
    for i in range(1, rows + 1):
        paid = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        state = rng.choices(RAW_STATES, weights=STATE_WEIGHTS)[0]
        amount = rng.randrange(0, 100_000)
        payments.append([i, rng.randint(1, rows), rng.randint(1, rows), paid, state.upper(), amount])
    return {"raw_accounts": to_csv(accounts), "raw_merchants": to_csv(merchants), "raw_payments": to_csv(payments)}


def to_csv(table: list[list[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    return buffer.getvalue()


def columns_of(model: PlannedModel, accounts: str) -> list[Column]:
    """The documented columns of ``model``: (name, description, data tests); ``accounts`` is a stg_accounts model."""
    key: list[Test] = [("unique",), ("not_null",)]
    account_ref: list[Test] = [("not_null",), ("relationships", accounts, "account_id")]
    if model.kind == "accounts":
        return [
            ("account_id", "{{ doc('account_id') }}", key),
            ("region", "Region code, upper case.", []),
            ("tier", "Pricing tier of the account.", [("accepted_values", list(TIERS))]),
            ("contact_email", "Contact address, lower case.", []),
        ]
    if model.kind == "merchants":
        return [
            ("merchant_id", "Identifier of the merchant.", key),
            ("sector", "Business sector.", [("accepted_values", list(SECTORS))]),
            ("monthly_fee", "Monthly fee in currency units.", []),
        ]
    if model.kind == "activity":
        return [
            ("account_id", "{{ doc('account_id') }}", key + account_ref[1:]),
            ("payment_count", "Payments of the account (0 when none).", [("not_null",)]),
            ("total_amount", "Sum of the account's payment amounts.", []),
        ]
    if model.kind == "monthly":
        return [
            ("paid_month", "First day of the month.", [("not_null",)]),
            ("state", "{{ doc('payment_state') }}", [("accepted_values", list(ALL_STATES))]),
            ("payment_count", "Payments of that month in that state.", []),
        ]
    columns: list[Column] = [
        ("payment_id", "{{ doc('payment_id') }}", key),
        ("account_id", "{{ doc('account_id') }}", account_ref),
        ("merchant_id", "Identifier of the merchant.", []),
        ("paid_on", "Day of the payment.", []),
        ("state", "{{ doc('payment_state') }}", [("accepted_values", list(ALL_STATES))]),
        ("amount", "Amount in currency units.", []),
    ]
    if model.kind == "fact":
        columns.append(("sector", "Sector of the merchant.", []))
        columns.append(("amount_band", "Size of the amount.", [("accepted_values", list(BANDS))]))
    return columns


def data_test_lines(test: Test) -> list[str]:
    """YAML lines of one data test, in the ``arguments:`` syntax.

    >>> data_test_lines(("relationships", "stg_accounts_2", "account_id"))
    ['- relationships:', '    arguments:', "      to: ref('stg_accounts_2')", '      field: account_id']
    """
    if len(test) == 1:
        return [f"- {test[0]}"]
    if test[0] == "accepted_values":
        return ["- accepted_values:", "    arguments:", f"      values: {json.dumps(test[1])}"]
    _, model, column = test
    return ["- relationships:", "    arguments:", f"      to: ref('{model}')", f"      field: {column}"]


def schema_yaml(models: list[PlannedModel], accounts: str) -> tuple[str, int]:
    """A _models.yml documenting ``models``, and how many data tests it declares."""
    lines = ["version: 2", "", "models:"]
    tests = 0
    for model in models:
        lines += [f"  - name: {model.name}", f"    description: {json.dumps(MODEL_DESCRIPTIONS[model.kind])}"]
        lines.append("    columns:")
        for name, description, column_tests in columns_of(model, accounts):
            lines += [f"      - name: {name}", f"        description: {json.dumps(description)}"]
            if column_tests:
                lines.append("        data_tests:")
                lines += [f"          {line}" for test in column_tests for line in data_test_lines(test)]
                tests += len(column_tests)
        lines.append("")
    return "\n".join(lines), tests


def singular_test(activity: str) -> str:
    """A singular data test on an account activity mart: it passes when it selects no rows."""
    return (
        "-- An account cannot have more refunds than payments.\n"
        f"select account_id, payment_count, refund_count\nfrom {{{{ ref('{activity}') }}}}\n"
        "where refund_count > payment_count or payment_count < 0\n"
    )
