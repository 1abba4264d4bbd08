
{% macro my_macro() %}
    {% do log('in a macro' ) %}
{% endmacro %}
