select * from {{ ref('data_intersect_a') }}
where 0=1
