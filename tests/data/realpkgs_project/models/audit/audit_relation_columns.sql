{{ audit_helper.compare_relation_columns(ref('dim_customers', v=1), ref('dim_customers', v=2)) }}
