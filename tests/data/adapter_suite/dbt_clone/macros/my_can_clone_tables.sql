
{% macro can_clone_table() %}
    {{ return(False) }}
{% endmacro %}
