select
    c.customer_id,
    c.customer_first_name as first_name,
    count(o.order_id) as order_count,
    coalesce(sum(o.amount), 0) as lifetime_amount
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o on o.customer_id = c.customer_id
group by 1, 2
