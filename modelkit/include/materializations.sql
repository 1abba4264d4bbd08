{# The macros dbt's materializations are written with, for materializations a project or package writes in Jinja. #}
{% macro get_create_table_as_sql(temporary, relation, sql) -%}
  {{ adapter.dispatch('get_create_table_as_sql', 'dbt')(temporary, relation, sql) }}
{%- endmacro %}

{% macro default__get_create_table_as_sql(temporary, relation, sql) -%}
  {{ return(create_table_as(temporary, relation, sql)) }}
{%- endmacro %}

{#- partitioned_by / sorted_by: dbt-duckdb's arguments, passed on to an implementation only when given -#}
{% macro create_table_as(temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none) -%}
  {%- set layout = {} -%}
  {%- if partitioned_by is not none -%}{%- do layout.update({'partitioned_by': partitioned_by}) -%}{%- endif -%}
  {%- if sorted_by is not none -%}{%- do layout.update({'sorted_by': sorted_by}) -%}{%- endif -%}
  {{ adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code, language, **layout) }}
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

{#- whether grants the relation has may need revoking: it exists, and either it is not replaced or a
    replaced relation keeps its grants (copy_grants) -#}
{% macro should_revoke(existing_relation, full_refresh_mode=True) -%}
  {%- if not existing_relation -%}{{ return(False) }}{%- endif -%}
  {{ return(copy_grants() if full_refresh_mode else True) }}
{%- endmacro %}

{% macro apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}
