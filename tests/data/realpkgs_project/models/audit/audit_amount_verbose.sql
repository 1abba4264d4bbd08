{{ audit_helper.compare_column_values_verbose(
    a_query="select order_id, amount from " ~ ref('raw_orders'),
    b_query="select order_id, net_amount as amount from " ~ ref('stg_orders') ~ " where order_id <= 30",
    primary_key='order_id',
    column_to_compare='amount'
) }}
