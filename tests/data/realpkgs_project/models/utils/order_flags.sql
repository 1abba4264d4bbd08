{{ config(materialized='ephemeral') }}
select order_id, amount >= {{ var('big_order') }} as is_big from {{ ref('raw_orders') }}
