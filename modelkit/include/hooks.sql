{# Hooks with an explicit transaction flag, as dbt's before_begin() / in_transaction() / after_commit(). #}
{% macro before_begin(sql) -%}{{ return({'sql': sql, 'transaction': False}) }}{%- endmacro %}
{% macro in_transaction(sql) -%}{{ return({'sql': sql, 'transaction': True}) }}{%- endmacro %}
{% macro after_commit(sql) -%}{{ return({'sql': sql, 'transaction': False}) }}{%- endmacro %}
