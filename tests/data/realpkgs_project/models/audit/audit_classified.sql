{{ audit_helper.compare_and_classify_relation_rows(
    a_relation=ref('dim_customers', v=1),
    b_relation=ref('dim_customers', v=2),
    primary_key_columns=['customer_id'],
    columns=['customer_id', 'first_name', 'order_count', 'lifetime_amount'],
    sample_limit=100
) }}
