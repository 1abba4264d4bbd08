{%- set statuses = dbt_utils.get_column_values(table=ref('raw_orders'), column='status', where="region <> 'north'", order_by='count(*) desc, status', max_records=3, default=[]) -%}
select
    f.is_big,
    {{ dbt_utils.pivot('status', statuses, quote_identifiers=true, suffix='_n', prefix='s_') }}
from {{ ref('raw_orders') }} as o
join {{ ref('order_flags') }} as f using (order_id)
group by 1
