select
    {{ dbt_utils.star(from=ref('raw_customers'), relation_alias='c', prefix='customer_', except=['customer_id', 'website']) }},
    c.customer_id,
    {{ dbt_utils.get_url_host('c.website') }} as website_host,
    {{ dbt_utils.get_url_path('c.website') }} as website_path,
    {{ dbt_utils.get_url_parameter('c.website', 'ref') }} as website_ref,
    round({{ dbt_utils.haversine_distance(40.0, -74.0, 'c.lat', 'c.lon', unit='km') }}, 3) as km_from_origin
from {{ ref('raw_customers') }} as c
