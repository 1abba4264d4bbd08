-- A singular test: each order's amount is the sum of its amounts per payment method.
select order_id
from {{ ref('orders') }}
where abs(amount - (
    {%- for method in var('payment_methods') %}
    {{ method }}_amount{{ " +" if not loop.last }}
    {%- endfor %}
)) > 0.001
