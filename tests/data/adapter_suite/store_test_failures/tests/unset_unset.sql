
select *
from {{ ref('chipmunks') }}
where shirt = 'green'
