select order_id, customer_id, amount, status from {{ ref('raw_orders') }} where amount < {{ var('big_order') }}
