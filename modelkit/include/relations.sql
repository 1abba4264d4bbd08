{#- dbt's relation macros: the SQL that creates, drops, renames and replaces a relation of each type, and
    indexes. Each is dispatched; a type an engine cannot rename or replace raises as dbt's do. -#}

{% macro get_create_sql(relation, sql) -%}
    {{- log('Applying CREATE to: ' ~ relation) -}}
    {{- adapter.dispatch('get_create_sql', 'dbt')(relation, sql) -}}
{%- endmacro %}
{% macro default__get_create_sql(relation, sql) -%}
    {%- if relation.is_view -%}{{ get_create_view_as_sql(relation, sql) }}
    {%- elif relation.is_table -%}{{ get_create_table_as_sql(False, relation, sql) }}
    {%- else -%}{{ exceptions.raise_compiler_error('`get_create_sql` has not been implemented for: ' ~ relation.type) }}
    {%- endif -%}
{%- endmacro %}

{% macro get_create_intermediate_sql(relation, sql) -%}
    {{- log('Applying CREATE INTERMEDIATE to: ' ~ relation) -}}
    {{- adapter.dispatch('get_create_intermediate_sql', 'dbt')(relation, sql) -}}
{%- endmacro %}
{% macro default__get_create_intermediate_sql(relation, sql) -%}
    {%- set intermediate = make_intermediate_relation(relation) -%}
    {{ get_drop_sql(intermediate) }};
    {{ get_create_sql(intermediate, sql) }}
{%- endmacro %}

{% macro get_create_backup_sql(relation) -%}
    {{- log('Applying CREATE BACKUP to: ' ~ relation) -}}
    {{- adapter.dispatch('get_create_backup_sql', 'dbt')(relation) -}}
{%- endmacro %}
{% macro default__get_create_backup_sql(relation) -%}
    {%- set backup = make_backup_relation(relation, relation.type) -%}
    {{ get_drop_sql(backup) }};
    {{ get_rename_sql(relation, backup.identifier) }}
{%- endmacro %}

{% macro get_drop_sql(relation) -%}
    {{- log('Applying DROP to: ' ~ relation) -}}
    {{- adapter.dispatch('get_drop_sql', 'dbt')(relation) -}}
{%- endmacro %}
{% macro default__get_drop_sql(relation) -%}
    {%- if relation.is_view -%}{{ drop_view(relation) }}
    {%- elif relation.is_table -%}{{ drop_table(relation) }}
    {%- else -%}drop {{ relation.type }} if exists {{ relation.render() }} cascade
    {%- endif -%}
{%- endmacro %}

{% macro get_drop_backup_sql(relation) -%}
    {{- log('Applying DROP BACKUP to: ' ~ relation) -}}
    {{- adapter.dispatch('get_drop_backup_sql', 'dbt')(relation) -}}
{%- endmacro %}
{% macro default__get_drop_backup_sql(relation) -%}
    {{ get_drop_sql(make_backup_relation(relation, relation.type)) }}
{%- endmacro %}

{% macro drop_table(relation) -%}{{- adapter.dispatch('drop_table', 'dbt')(relation) -}}{%- endmacro %}
{% macro default__drop_table(relation) -%}drop table if exists {{ relation.render() }} cascade{%- endmacro %}

{% macro drop_view(relation) -%}{{- adapter.dispatch('drop_view', 'dbt')(relation) -}}{%- endmacro %}
{% macro default__drop_view(relation) -%}drop view if exists {{ relation.render() }} cascade{%- endmacro %}

{% macro get_rename_sql(relation, new_name) -%}
    {{- log('Applying RENAME to: ' ~ relation) -}}
    {{- adapter.dispatch('get_rename_sql', 'dbt')(relation, new_name) -}}
{%- endmacro %}
{% macro default__get_rename_sql(relation, new_name) -%}
    {%- if relation.is_view -%}{{ get_rename_view_sql(relation, new_name) }}
    {%- elif relation.is_table -%}{{ get_rename_table_sql(relation, new_name) }}
    {%- else -%}{{ exceptions.raise_compiler_error('`get_rename_sql` has not been implemented for: ' ~ relation.type) }}
    {%- endif -%}
{%- endmacro %}

{% macro get_rename_intermediate_sql(relation) -%}
    {{- log('Applying RENAME INTERMEDIATE to: ' ~ relation) -}}
    {{- adapter.dispatch('get_rename_intermediate_sql', 'dbt')(relation) -}}
{%- endmacro %}
{% macro default__get_rename_intermediate_sql(relation) -%}
    {{ get_rename_sql(make_intermediate_relation(relation), relation.identifier) }}
{%- endmacro %}

{#- renaming and replacing by type: dbt-postgres's SQL; other engines raise, as dbt's defaults do -#}
{% macro get_rename_table_sql(relation, new_name) -%}
    {{- adapter.dispatch('get_rename_table_sql', 'dbt')(relation, new_name) -}}
{%- endmacro %}
{% macro default__get_rename_table_sql(relation, new_name) -%}
    {{ exceptions.raise_compiler_error('`get_rename_table_sql` has not been implemented for this adapter.') }}
{%- endmacro %}
{% macro postgres__get_rename_table_sql(relation, new_name) -%}
    alter table {{ relation }} rename to {{ new_name }}
{%- endmacro %}

{% macro get_rename_view_sql(relation, new_name) -%}
    {{- adapter.dispatch('get_rename_view_sql', 'dbt')(relation, new_name) -}}
{%- endmacro %}
{% macro default__get_rename_view_sql(relation, new_name) -%}
    {{ exceptions.raise_compiler_error('`get_rename_view_sql` has not been implemented for this adapter.') }}
{%- endmacro %}
{% macro postgres__get_rename_view_sql(relation, new_name) -%}
    alter view {{ relation }} rename to {{ new_name }}
{%- endmacro %}

{% macro get_replace_table_sql(relation, sql) -%}
    {{- adapter.dispatch('get_replace_table_sql', 'dbt')(relation, sql) -}}
{%- endmacro %}
{% macro default__get_replace_table_sql(relation, sql) -%}
    {{ exceptions.raise_compiler_error('`get_replace_table_sql` has not been implemented for this adapter.') }}
{%- endmacro %}

{% macro get_replace_view_sql(relation, sql) -%}
    {{- adapter.dispatch('get_replace_view_sql', 'dbt')(relation, sql) -}}
{%- endmacro %}
{% macro default__get_replace_view_sql(relation, sql) -%}
    {{ exceptions.raise_compiler_error('`get_replace_view_sql` has not been implemented for this adapter.') }}
{%- endmacro %}
{% macro postgres__get_replace_view_sql(relation, sql) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create or replace view {{ relation }} as (
        {{ sql }}
    );
{%- endmacro %}

{#- replacing existing_relation by target_relation: in place where the engine can, else through an
    intermediate and a backup relation where it can rename, else drop and create -#}
{% macro get_replace_sql(existing_relation, target_relation, sql) -%}
    {{- log('Applying REPLACE to: ' ~ existing_relation) -}}
    {{- adapter.dispatch('get_replace_sql', 'dbt')(existing_relation, target_relation, sql) -}}
{%- endmacro %}
{% macro default__get_replace_sql(existing_relation, target_relation, sql) -%}
    {%- set renameable = adapter.renameable_relations() -%}
    {%- set replaceable = existing_relation.type == target_relation.type and existing_relation.type in adapter.replaceable_relations() -%}
    {%- set target_renames = target_relation.type in renameable -%}
    {%- set existing_renames = existing_relation.type in renameable -%}
    {%- if replaceable and existing_relation.is_view -%}{{ get_replace_view_sql(target_relation, sql) }}
    {%- elif replaceable and existing_relation.is_table -%}{{ get_replace_table_sql(target_relation, sql) }}
    {%- elif target_renames and existing_renames -%}
        {{ get_create_intermediate_sql(target_relation, sql) }};
        {{ get_create_backup_sql(existing_relation) }};
        {{ get_rename_intermediate_sql(target_relation) }};
        {{ get_drop_backup_sql(existing_relation) }}
    {%- elif target_renames -%}
        {{ get_create_intermediate_sql(target_relation, sql) }};
        {{ get_drop_sql(existing_relation) }};
        {{ get_rename_intermediate_sql(target_relation) }}
    {%- elif existing_renames -%}
        {{ get_create_backup_sql(existing_relation) }};
        {{ get_create_sql(target_relation, sql) }};
        {{ get_drop_backup_sql(existing_relation) }}
    {%- else -%}
        {{ get_drop_sql(existing_relation) }};
        {{ get_create_sql(target_relation, sql) }}
    {%- endif -%}
{%- endmacro %}

{#- the view materialization of older dbt versions: create or replace the view in one statement -#}
{% macro create_or_replace_view() -%}
    {%- set identifier = model['alias'] -%}
    {%- set old_relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- set target_relation = api.Relation.create(identifier=identifier, schema=schema, database=database, type='view') -%}
    {%- set grant_config = config.get('grants') -%}
    {{ run_hooks(pre_hooks) }}
    {%- if old_relation is not none and old_relation.is_table -%}
        {{ handle_existing_table(should_full_refresh(), old_relation) }}
    {%- endif -%}
    {% call statement('main') -%}
        {{ get_create_view_as_sql(target_relation, sql) }}
    {%- endcall %}
    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(old_relation is not none and old_relation.is_view, full_refresh_mode=True)) %}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{%- endmacro %}

{% macro handle_existing_table(full_refresh, old_relation) -%}
    {{ adapter.dispatch('handle_existing_table', 'dbt')(full_refresh, old_relation) }}
{%- endmacro %}
{% macro default__handle_existing_table(full_refresh, old_relation) -%}
    {{ log('Dropping relation ' ~ old_relation.render() ~ ' because it is of type ' ~ old_relation.type) }}
    {{ adapter.drop_relation(old_relation) }}
{%- endmacro %}

{% macro drop_schema_named(schema_name) -%}
    {{ return(adapter.dispatch('drop_schema_named', 'dbt')(schema_name)) }}
{%- endmacro %}
{% macro default__drop_schema_named(schema_name) -%}
    {% do adapter.drop_schema(api.Relation.create(database=target.database, schema=schema_name)) %}
{%- endmacro %}

{#- indexes, from the `indexes` config -#}
{% macro get_create_index_sql(relation, index_dict) -%}
    {{ return(adapter.dispatch('get_create_index_sql', 'dbt')(relation, index_dict)) }}
{%- endmacro %}
{% macro default__get_create_index_sql(relation, index_dict) -%}{{ return(none) }}{%- endmacro %}
{% macro postgres__get_create_index_sql(relation, index_dict) -%}
    {%- set index = adapter.parse_index(index_dict) -%}
    create {% if index.unique %}unique {% endif %}index if not exists "{{ index.render(relation) }}"
    on {{ relation }} {% if index.type %}using {{ index.type | lower }}{% endif %}
    ({{ index.columns | join(', ') }});
{%- endmacro %}

{% macro create_indexes(relation) -%}{{ adapter.dispatch('create_indexes', 'dbt')(relation) }}{%- endmacro %}
{% macro default__create_indexes(relation) -%}
    {%- for index_dict in config.get('indexes', default=[]) or [] -%}
        {%- set create_sql = get_create_index_sql(relation, index_dict) -%}
        {%- if create_sql -%}{% do run_query(create_sql) %}{%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro get_drop_index_sql(relation, index_name) -%}
    {{ adapter.dispatch('get_drop_index_sql', 'dbt')(relation, index_name) }}
{%- endmacro %}
{% macro default__get_drop_index_sql(relation, index_name) -%}
    {{ exceptions.raise_compiler_error('`get_drop_index_sql has not been implemented for this adapter.') }}
{%- endmacro %}
{% macro postgres__get_drop_index_sql(relation, index_name) -%}
    drop index if exists "{{ relation.schema }}"."{{ index_name }}"
{%- endmacro %}

{% macro get_show_indexes_sql(relation) -%}
    {{ adapter.dispatch('get_show_indexes_sql', 'dbt')(relation) }}
{%- endmacro %}
{% macro default__get_show_indexes_sql(relation) -%}
    {{ exceptions.raise_compiler_error('`get_show_indexes_sql has not been implemented for this adapter.') }}
{%- endmacro %}

{#- clones (dbt clone): an engine that cannot clone a table copies it as a view -#}
{% macro can_clone_table() -%}{{ return(adapter.dispatch('can_clone_table', 'dbt')()) }}{%- endmacro %}
{% macro default__can_clone_table() -%}{{ return(False) }}{%- endmacro %}

{% macro create_or_replace_clone(this_relation, defer_relation) -%}
    {{ return(adapter.dispatch('create_or_replace_clone', 'dbt')(this_relation, defer_relation)) }}
{%- endmacro %}
{% macro default__create_or_replace_clone(this_relation, defer_relation) -%}
    create or replace table {{ this_relation.render() }} clone {{ defer_relation.render() }}
{%- endmacro %}
