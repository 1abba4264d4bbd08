{{ audit_helper.compare_relations(
    a_relation=ref('dim_customers', v=1),
    b_relation=ref('dim_customers', v=2),
    exclude_columns=['last_name', 'lifetime_cents'],
    primary_key='customer_id'
) }}
