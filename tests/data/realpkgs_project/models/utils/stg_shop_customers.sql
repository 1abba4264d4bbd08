{{ config(materialized='view') }}
-- depends_on: {{ ref('raw_customers') }}
select customer_id, first_name, last_name from {{ source('shop', 'raw_customers') }}
