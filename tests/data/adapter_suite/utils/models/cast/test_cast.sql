with data as (

    select * from {{ ref('data_cast') }}

)

select
    {{ cast('field', api.Column.translate_type('string')) }} as actual,
    output as expected

from data
