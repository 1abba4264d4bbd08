{%- set launch = dbt_date.date(2024, 2, 1) -%}
{%- set launch_ts = dbt_date.datetime(2024, 2, 1, 9, 30, tz='UTC') -%}
select
    o.order_id,
    o.order_date,
    {{ dbt_date.day_name('o.order_date') }} as day_name,
    {{ dbt_date.day_name('o.order_date', short=false) }} as day_name_long,
    {{ dbt_date.month_name('o.order_date') }} as month_name,
    {{ dbt_date.day_of_week('o.order_date') }} as day_of_week,
    {{ dbt_date.day_of_year('o.order_date') }} as day_of_year,
    {{ dbt_date.week_start('o.order_date') }} as week_start,
    {{ dbt_date.week_end('o.order_date') }} as week_end,
    {{ dbt_date.iso_week_start('o.order_date') }} as iso_week_start,
    {{ dbt_date.iso_week_of_year('o.order_date') }} as iso_week_of_year,
    {{ dbt_date.date_part('quarter', 'o.order_date') }} as quarter,
    {{ dbt_date.n_days_away(3, 'o.order_date') }} as three_days_later,
    {{ dbt_date.n_days_ago(7, 'o.order_date') }} as week_before,
    {{ dbt_date.to_unixtimestamp('cast(o.order_date as timestamp)') }} as order_epoch,
    {{ dbt_date.from_unixtimestamp(dbt_date.to_unixtimestamp('cast(o.order_date as timestamp)')) }} as order_ts_roundtrip,
    {{ dbt_date.convert_timezone('cast(o.order_date as timestamp)') }} as order_ts_local,
    {{ dbt_date.convert_timezone('cast(o.order_date as timestamp)', 'Asia/Tokyo', 'UTC') }} as order_ts_tokyo,
    o.order_date >= cast('{{ launch.isoformat() }}' as date) as after_launch,
    '{{ launch_ts.strftime("%Y-%m-%d %H:%M %Z") }}' as launch_label,
    {{ dbt_date.is_before(dbt_date.date(2024, 1, 1), launch) }} as launch_is_after_new_year,
    d.day_of_month,
    d.month_name_short
from {{ ref('raw_orders') }} as o
left join {{ ref('dim_date') }} as d on d.date_day = o.order_date
