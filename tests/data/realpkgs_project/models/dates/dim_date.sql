{{ dbt_date.get_date_dimension('2023-01-01', '2025-01-01') }}
