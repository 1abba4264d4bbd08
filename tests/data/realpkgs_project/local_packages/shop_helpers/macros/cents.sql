{% macro cents(expression) -%}
  cast(round(({{ expression }}) * 100) as bigint)
{%- endmacro %}
