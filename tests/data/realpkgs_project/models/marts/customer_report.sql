{{ config(materialized='stamped_table') }}
select
    v2.customer_id,
    v2.first_name,
    v2.lifetime_amount,
    v1.lifetime_amount as lifetime_amount_v1,
    r.region_rank
from {{ ref('dim_customers', v=2) }} as v2
join {{ ref('dim_customers', version=1) }} as v1 using (customer_id)
left join (
    select customer_id, min(region_rank) as region_rank from {{ ref('region_ranks') }} group by 1
) as r on r.customer_id = v2.customer_id
