select * from {{ ref('data_except_b') }}
{{ except() }}
select * from {{ ref('data_except_a') }}
