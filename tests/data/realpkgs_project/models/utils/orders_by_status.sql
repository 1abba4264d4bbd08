select
    region,
    {{ dbt_utils.pivot('status', dbt_utils.get_column_values(ref('raw_orders'), 'status', order_by='status'), agg='sum', then_value='amount', else_value=0) }}
from {{ ref('raw_orders') }}
{{ dbt_utils.group_by(1) }}
