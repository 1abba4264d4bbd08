with data as (

    select * from {{ ref('data_equals') }}

)

select *
from data
where
  not {{ equals('x', 'y') }}
