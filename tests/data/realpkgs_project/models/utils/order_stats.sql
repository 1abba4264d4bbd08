{%- set total = dbt_utils.get_single_value("select count(*) from " ~ ref('raw_orders'), default=-1) -%}
{%- set by_region = dbt_utils.get_query_results_as_dict("select region, count(*) as n from " ~ ref('raw_orders') ~ " group by region order by region") -%}
{%- set columns = dbt_utils.get_filtered_columns_in_relation(ref('raw_orders'), except=['discount']) -%}
select
    {{ total }} as total_orders,
    '{{ by_region["region"] | join(",") }}' as regions,
    {{ by_region["n"] | sum }} as region_total,
    '{{ columns | join(",") }}' as kept_columns,
    '{{ dbt_utils.slugify("Orders By Region!") }}' as slug,
    '{{ dbt_utils.pretty_time("%Y")[:2] }}' as century
