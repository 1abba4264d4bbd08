{% set old_query %}
    select order_id, amount, status from {{ ref('raw_orders') }}
{% endset %}
{% set new_query %}
    select order_id, net_amount as amount, status from {{ ref('stg_orders') }} where order_id <= 30
{% endset %}
{{ audit_helper.compare_queries(a_query=old_query, b_query=new_query, primary_key='order_id', summarize=false) }}
