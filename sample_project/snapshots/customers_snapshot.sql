{#
    The history of each customer's name: `modelkit snapshot` adds a new version of a row
    when first_name or last_name changes, and closes the rows of customers that disappear.
#}
{% snapshot customers_snapshot %}

{{
    config(
        unique_key='id',
        strategy='check',
        check_cols=['first_name', 'last_name'],
        hard_deletes='invalidate'
    )
}}

select * from {{ ref('raw_customers') }}

{% endsnapshot %}
