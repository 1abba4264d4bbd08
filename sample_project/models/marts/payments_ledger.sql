-- Every payment, kept incrementally: after the first build, a run reads only the payments
-- newer than those already in the table and merges them in (see docs/stateful.md).
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='payment_id',
        on_schema_change='append_new_columns'
    )
}}

select
    payment_id,
    order_id,
    payment_method,
    amount,
    '{{ "incremental run" if is_incremental() else "full build" }}' as loaded_by
from {{ ref('stg_payments') }}
{% if is_incremental() %}
where payment_id > (select max(payment_id) from {{ this }})
{% endif %}
