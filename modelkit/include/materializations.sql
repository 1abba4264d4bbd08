{# The macros dbt's materializations are written with, for materializations a project or package writes in Jinja. #}
{% macro get_create_table_as_sql(temporary, relation, sql) -%}
  {{ adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql) }}
{%- endmacro %}

{% macro default__get_create_table_as_sql(temporary, relation, sql) -%}
  {{ return(create_table_as(temporary, relation, sql)) }}
{%- endmacro %}

{% macro create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {{ adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code, language) }}
{%- endmacro %}

{% macro default__create_table_as(temporary, relation, sql, language='sql') -%}
  create {% if temporary %}temporary {% endif %}table {{ relation.include(database=(not temporary), schema=(not temporary)) }} as (
    {{ sql }}
  );
{%- endmacro %}

{% macro get_create_view_as_sql(relation, sql) -%}
  {{ adapter.dispatch('get_create_view_as_sql', 'dbt')(relation, sql) }}
{%- endmacro %}

{% macro default__get_create_view_as_sql(relation, sql) -%}
  {{ return(create_view_as(relation, sql)) }}
{%- endmacro %}

{% macro create_view_as(relation, sql) -%}
  {{ adapter.dispatch('create_view_as', 'dbt')(relation, sql) }}
{%- endmacro %}

{% macro default__create_view_as(relation, sql) -%}
  create view {{ relation }} as (
    {{ sql }}
  );
{%- endmacro %}

{% macro should_revoke(existing_relation, full_refresh_mode=True) -%}
  {{ return(False) }}
{%- endmacro %}

{% macro apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}
