{{ dbt_utils.unpivot(
    relation=ref('stg_orders'),
    cast_to='varchar',
    exclude=['order_id'],
    remove=['order_key', 'discount_ratio', 'amount_bucket', 'gross_amount', 'net_amount'],
    field_name='attribute',
    value_name='attribute_value'
) }}
