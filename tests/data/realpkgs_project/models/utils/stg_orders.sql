select
    {{ dbt_utils.generate_surrogate_key(['order_id', 'customer_id']) }} as order_key,
    {{ dbt_utils.star(from=ref('raw_orders'), except=['discount']) }},
    {{ dbt_utils.safe_divide('discount', 'amount') }} as discount_ratio,
    {{ dbt_utils.safe_add(['amount', 'discount']) }} as gross_amount,
    {{ dbt_utils.safe_subtract(['amount', 'discount']) }} as net_amount,
    {{ dbt_utils.width_bucket('amount', 0, 250, 5) }} as amount_bucket
from {{ ref('raw_orders') }}
