{{ dbt_utils.nullcheck_table(ref('stg_customers')) }}
