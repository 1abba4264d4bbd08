select * from {{ ref('raw_orders') }} where amount >= {{ var('big_order') }}
