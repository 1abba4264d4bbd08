select * from {{ ref('data_except_a') }}
where 0=1
