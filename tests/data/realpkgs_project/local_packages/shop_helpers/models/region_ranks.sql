select customer_id, region, region_rank
from (
    select
        customer_id,
        region,
        row_number() over (partition by region order by sum(amount) desc, customer_id) as region_rank
    from {{ ref('raw_orders') }}
    group by customer_id, region
) as ranked
where region_rank <= {{ var('rank_limit') }}
