{{ dbt_utils.union_relations(
    relations=[ref('orders_big'), ref('orders_small')],
    exclude=['discount'],
    source_column_name='_origin'
) }}
