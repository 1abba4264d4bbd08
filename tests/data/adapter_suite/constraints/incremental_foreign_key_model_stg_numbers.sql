
select * from {{ ref('raw_numbers') }}
