{{ audit_helper.compare_row_counts(ref('orders_unioned'), ref('raw_orders')) }}
