{{ audit_helper.compare_which_relation_columns_differ(
    a_relation=ref('dim_customers', v=1),
    b_relation=ref('dim_customers', v=2),
    primary_key_columns=['customer_id']
) }}
