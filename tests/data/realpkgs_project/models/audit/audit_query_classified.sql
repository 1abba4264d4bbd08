{{ audit_helper.compare_and_classify_query_results(
    a_query="select order_id, status, amount from " ~ ref('raw_orders'),
    b_query="select order_id, status, amount from " ~ ref('orders_unioned') ~ " where order_id % 3 <> 0",
    primary_key_columns=['order_id'],
    columns=['order_id', 'status', 'amount'],
    sample_limit=100
) }}
