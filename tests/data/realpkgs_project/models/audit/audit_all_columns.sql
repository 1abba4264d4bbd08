{{ audit_helper.compare_all_columns(
    a_relation=ref('dim_customers', v=1),
    b_relation=ref('dim_customers', v=2),
    primary_key='customer_id'
) }}
