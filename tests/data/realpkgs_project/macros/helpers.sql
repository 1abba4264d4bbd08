{% macro status_values() %}
  {{ return(['placed', 'shipped', 'completed', 'returned']) }}
{% endmacro %}

{#- audit_helper counts distinct (key, row number) pairs in a window, which DuckDB cannot do: this project's
    version, found first through the `dispatch:` search order in dbt_project.yml. -#}
{% macro duckdb___count_num_rows_in_status() %}
  {{ return(audit_helper._count_num_rows_in_status_without_distinct_window_func()) }}
{% endmacro %}
