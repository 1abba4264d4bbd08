select
    c.customer_id,
    c.customer_first_name as first_name,
    c.customer_last_name as last_name,
    count(o.order_id) as order_count,
    coalesce(sum(o.net_amount), 0) as lifetime_amount,
    {{ shop_helpers.cents('coalesce(sum(o.amount), 0)') }} as lifetime_cents
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o on o.customer_id = c.customer_id
group by 1, 2, 3
