{#- dbt's incremental macros: the SQL of each strategy, the column helpers and on_schema_change.
    Each dispatched macro can be overridden by a project's or package's <adapter>__<name> or default__<name>. -#}

{% macro get_quoted_csv(column_names) -%}
    {%- set names = [] -%}
    {%- for name in column_names -%}{%- do names.append(adapter.quote(name)) -%}{%- endfor -%}
    {{ return(names | join(', ')) }}
{%- endmacro %}

{#- the columns of source_columns whose name target_columns lacks -#}
{% macro diff_columns(source_columns, target_columns) -%}
    {%- set target_names = target_columns | map(attribute='name') | list -%}
    {{ return(source_columns | rejectattr('name', 'in', target_names) | list) }}
{%- endmacro %}

{% macro diff_column_data_types(source_columns, target_columns) -%}
    {{ return(adapter.dispatch('diff_column_data_types', 'dbt')(source_columns, target_columns)) }}
{%- endmacro %}
{% macro default__diff_column_data_types(source_columns, target_columns) -%}
    {%- set changed = [] -%}
    {%- for source_column in source_columns -%}
        {%- set same_name = target_columns | selectattr('name', 'equalto', source_column.name) | list -%}
        {%- if same_name -%}
            {%- set target_column = same_name[0] -%}
            {%- if source_column.expanded_data_type != target_column.expanded_data_type
                  and not source_column.can_expand_to(other_column=target_column) -%}
                {%- do changed.append({'column_name': target_column.name, 'new_type': source_column.expanded_data_type}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(changed) }}
{%- endmacro %}

{% macro get_merge_update_columns(merge_update_columns, merge_exclude_columns, dest_columns) -%}
    {{ return(adapter.dispatch('get_merge_update_columns', 'dbt')(merge_update_columns, merge_exclude_columns, dest_columns)) }}
{%- endmacro %}
{% macro default__get_merge_update_columns(merge_update_columns, merge_exclude_columns, dest_columns) -%}
    {%- if merge_update_columns and merge_exclude_columns -%}
        {{ exceptions.raise_compiler_error('Model cannot specify merge_update_columns and merge_exclude_columns. Please update model to use only one config') }}
    {%- endif -%}
    {%- if merge_update_columns -%}{{ return(merge_update_columns) }}{%- endif -%}
    {%- set excluded = (merge_exclude_columns or []) | map('lower') | list -%}
    {%- set kept = [] -%}
    {%- for column in dest_columns if column.name | lower not in excluded -%}
        {%- do kept.append(column.quoted) -%}
    {%- endfor -%}
    {{ return(kept) }}
{%- endmacro %}

{#- on_schema_change -#}
{% macro incremental_validate_on_schema_change(on_schema_change, default='ignore') -%}
    {%- if on_schema_change in ['sync_all_columns', 'append_new_columns', 'fail', 'ignore'] -%}
        {{ return(on_schema_change) }}
    {%- endif -%}
    {% do log('Invalid value for on_schema_change (%s) specified. Setting default value of %s.' % (on_schema_change, default)) %}
    {{ return(default) }}
{%- endmacro %}

{% macro check_for_schema_changes(source_relation, target_relation) -%}
    {{ return(adapter.dispatch('check_for_schema_changes', 'dbt')(source_relation, target_relation)) }}
{%- endmacro %}
{% macro default__check_for_schema_changes(source_relation, target_relation) -%}
    {%- set source_columns = adapter.get_columns_in_relation(source_relation) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target_relation) -%}
    {%- set changes = {
        'source_not_in_target': diff_columns(source_columns, target_columns),
        'target_not_in_source': diff_columns(target_columns, source_columns),
        'source_columns': source_columns,
        'target_columns': target_columns,
        'new_target_types': diff_column_data_types(source_columns, target_columns),
    } -%}
    {%- do changes.update({'schema_changed': (changes['source_not_in_target'] or changes['target_not_in_source'] or changes['new_target_types']) | length > 0}) -%}
    {% do log('\n    In ' ~ target_relation ~ ':\n        Schema changed: ' ~ changes['schema_changed']
        ~ '\n        Source columns not in target: ' ~ changes['source_not_in_target']
        ~ '\n        Target columns not in source: ' ~ changes['target_not_in_source']
        ~ '\n        New column types: ' ~ changes['new_target_types'] ~ '\n  ') %}
    {{ return(changes) }}
{%- endmacro %}

{% macro sync_column_schemas(on_schema_change, target_relation, schema_changes_dict) -%}
    {{ return(adapter.dispatch('sync_column_schemas', 'dbt')(on_schema_change, target_relation, schema_changes_dict)) }}
{%- endmacro %}
{% macro default__sync_column_schemas(on_schema_change, target_relation, schema_changes_dict) -%}
    {%- set added = schema_changes_dict['source_not_in_target'] -%}
    {%- set removed = schema_changes_dict['target_not_in_source'] -%}
    {%- set retyped = schema_changes_dict['new_target_types'] -%}
    {%- if on_schema_change == 'append_new_columns' and added -%}
        {%- do alter_relation_add_remove_columns(target_relation, added, none) -%}
    {%- elif on_schema_change == 'sync_all_columns' -%}
        {%- if added or removed -%}
            {%- do alter_relation_add_remove_columns(target_relation, added, removed) -%}
        {%- endif -%}
        {%- for change in retyped -%}
            {%- do alter_column_type(target_relation, change['column_name'], change['new_type']) -%}
        {%- endfor -%}
    {%- endif -%}
    {% do log('\n    In ' ~ target_relation ~ ':\n        Schema change approach: ' ~ on_schema_change
        ~ '\n        Columns added: ' ~ added ~ '\n        Columns removed: ' ~ removed
        ~ '\n        Data types changed: ' ~ retyped ~ '\n  ') %}
{%- endmacro %}

{#- the columns the strategy writes (the new relation's), after applying on_schema_change; {} for 'ignore' -#}
{% macro process_schema_changes(on_schema_change, source_relation, target_relation) -%}
    {{ return(adapter.dispatch('process_schema_changes', 'dbt')(on_schema_change, source_relation, target_relation)) }}
{%- endmacro %}
{% macro default__process_schema_changes(on_schema_change, source_relation, target_relation) -%}
    {%- if on_schema_change == 'ignore' -%}{{ return({}) }}{%- endif -%}
    {%- set changes = check_for_schema_changes(source_relation, target_relation) -%}
    {%- if changes['schema_changed'] and on_schema_change == 'fail' -%}
        {% do exceptions.raise_compiler_error(
            'The source and target schemas on this incremental model are out of sync!\n'
            ~ 'They can be reconciled in several ways:\n'
            ~ '  - set the `on_schema_change` config to either append_new_columns or sync_all_columns, depending on your situation.\n'
            ~ '  - Re-run the incremental model with `full_refresh: True` to update the target schema.\n'
            ~ '  - update the schema manually and re-run the process.\n\n'
            ~ 'Additional troubleshooting context:\n'
            ~ '   Source columns not in target: ' ~ changes['source_not_in_target'] ~ '\n'
            ~ '   Target columns not in source: ' ~ changes['target_not_in_source'] ~ '\n'
            ~ '   New column types: ' ~ changes['new_target_types']) %}
    {%- elif changes['schema_changed'] -%}
        {%- do sync_column_schemas(on_schema_change, target_relation, changes) -%}
    {%- endif -%}
    {{ return(changes['source_columns']) }}
{%- endmacro %}

{#- the statements of each strategy -#}
{% macro get_insert_into_sql(target_relation, temp_relation, dest_columns) -%}
    {%- set columns_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    insert into {{ target_relation }} ({{ columns_csv }})
    (
        select {{ columns_csv }}
        from {{ temp_relation }}
    )
{%- endmacro %}

{% macro get_merge_unique_key_match(source_unique_key, target_unique_key) -%}
    {{ return(adapter.dispatch('get_merge_unique_key_match', 'dbt')(source_unique_key, target_unique_key)) }}
{%- endmacro %}
{% macro default__get_merge_unique_key_match(source_unique_key, target_unique_key) -%}
    {{ return(equals(source_unique_key, target_unique_key) | trim) }}
{%- endmacro %}

{% macro get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
    {%- set incremental_predicates = kwargs.get('predicates', incremental_predicates) -%}
    {{ adapter.dispatch('get_merge_sql', 'dbt')(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
{% macro default__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
    {%- set conditions = [] + (incremental_predicates or []) -%}
    {%- if not unique_key -%}
        {%- do conditions.append('FALSE') -%}
    {%- elif unique_key is string -%}
        {%- do conditions.append(get_merge_unique_key_match(('DBT_INTERNAL_SOURCE.' ~ unique_key) | trim, ('DBT_INTERNAL_DEST.' ~ unique_key) | trim)) -%}
    {%- else -%}
        {%- for key in unique_key -%}
            {%- do conditions.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' = DBT_INTERNAL_DEST.' ~ key) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set columns_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- set update_columns = get_merge_update_columns(config.get('merge_update_columns'), config.get('merge_exclude_columns'), dest_columns) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    merge into {{ target }} as DBT_INTERNAL_DEST
        using {{ source }} as DBT_INTERNAL_SOURCE
        on ({{ conditions | join(') and (') }})
    {% if unique_key -%}
    when matched then update set
        {% for column in update_columns -%}
            {{ column }} = DBT_INTERNAL_SOURCE.{{ column }}{{ ', ' if not loop.last }}
        {%- endfor %}
    {% endif -%}
    when not matched then insert
        ({{ columns_csv }})
    values
        ({{ columns_csv }})
{%- endmacro %}

{% macro get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {{ adapter.dispatch('get_delete_insert_merge_sql', 'dbt')(target, source, unique_key, dest_columns, incremental_predicates) }}
{%- endmacro %}
{% macro default__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set columns_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- if unique_key -%}
        {%- set keys = ([unique_key] if unique_key is string else unique_key) | join(', ') -%}
        delete from {{ target }} as DBT_INTERNAL_DEST
        where ({{ keys }}) in (
            select distinct {{ keys }}
            from {{ source }} as DBT_INTERNAL_SOURCE
        )
        {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
        {%- endfor %};
    {% endif %}
    insert into {{ target }} ({{ columns_csv }})
    (
        select {{ columns_csv }}
        from {{ source }}
    )
{%- endmacro %}

{% macro get_insert_overwrite_merge_sql(target, source, dest_columns, predicates, include_sql_header=false) -%}
    {{ adapter.dispatch('get_insert_overwrite_merge_sql', 'dbt')(target, source, dest_columns, predicates, include_sql_header) }}
{%- endmacro %}
{% macro default__get_insert_overwrite_merge_sql(target, source, dest_columns, predicates, include_sql_header) -%}
    {%- set columns_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none and include_sql_header }}
    merge into {{ target }} as DBT_INTERNAL_DEST
        using {{ source }} as DBT_INTERNAL_SOURCE
        on FALSE
    when not matched by source
        {% if predicates %} and {{ predicates | join(' and ') }} {% endif %}
        then delete
    when not matched then insert
        ({{ columns_csv }})
    values
        ({{ columns_csv }})
{%- endmacro %}

{#- each strategy's macro takes dbt's arg_dict: target_relation, temp_relation, unique_key, dest_columns,
    incremental_predicates -#}
{% macro get_incremental_append_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_append_sql', 'dbt')(arg_dict)) }}
{%- endmacro %}
{% macro default__get_incremental_append_sql(arg_dict) -%}
    {{ return(get_insert_into_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['dest_columns'])) }}
{%- endmacro %}

{% macro get_incremental_delete_insert_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_delete_insert_sql', 'dbt')(arg_dict)) }}
{%- endmacro %}
{% macro default__get_incremental_delete_insert_sql(arg_dict) -%}
    {{ return(get_delete_insert_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'], arg_dict['incremental_predicates'])) }}
{%- endmacro %}

{% macro get_incremental_merge_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_merge_sql', 'dbt')(arg_dict)) }}
{%- endmacro %}
{% macro default__get_incremental_merge_sql(arg_dict) -%}
    {{ return(get_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'], arg_dict['incremental_predicates'])) }}
{%- endmacro %}

{% macro get_incremental_insert_overwrite_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_insert_overwrite_sql', 'dbt')(arg_dict)) }}
{%- endmacro %}
{% macro default__get_incremental_insert_overwrite_sql(arg_dict) -%}
    {{ return(get_insert_overwrite_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['dest_columns'], arg_dict['incremental_predicates'])) }}
{%- endmacro %}

{% macro get_incremental_default_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_default_sql', 'dbt')(arg_dict)) }}
{%- endmacro %}
{% macro default__get_incremental_default_sql(arg_dict) -%}
    {{ return(get_incremental_append_sql(arg_dict)) }}
{%- endmacro %}

{% macro get_incremental_microbatch_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_microbatch_sql', 'dbt')(arg_dict)) }}
{%- endmacro %}
{% macro default__get_incremental_microbatch_sql(arg_dict) -%}
    {{ exceptions.raise_not_implemented('microbatch materialization strategy not implemented for adapter ' ~ adapter.type()) }}
{%- endmacro %}
