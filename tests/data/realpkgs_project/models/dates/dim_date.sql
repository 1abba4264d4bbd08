{{ dbt_date.get_date_dimension('2023-12-01', '2024-04-30') }}
