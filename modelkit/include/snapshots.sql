{#- dbt's snapshot macros: the strategies, the staging query that finds inserts, updates and deletes, and
    the merge that applies it. modelkit's own snapshots run in Python; these serve snapshot
    materializations a project writes, and projects that call them. -#}

{% macro get_snapshot_table_column_names() -%}
    {{ return({'dbt_valid_to': 'dbt_valid_to', 'dbt_valid_from': 'dbt_valid_from', 'dbt_scd_id': 'dbt_scd_id',
               'dbt_updated_at': 'dbt_updated_at', 'dbt_is_deleted': 'dbt_is_deleted'}) }}
{%- endmacro %}
{% macro _snapshot_columns() -%}
    {{ return(config.get('snapshot_table_column_names') or get_snapshot_table_column_names()) }}
{%- endmacro %}

{#- `check` or `timestamp`, or `package.name`: the macro snapshot_<name>_strategy -#}
{% macro strategy_dispatch(name) -%}
    {%- set package_name, strategy = name.split('.', 1) if '.' in name else (none, name) -%}
    {%- if package_name is not none and package_name not in context -%}
        {{ exceptions.raise_compiler_error("Could not find package '" ~ package_name ~ "', called with '" ~ name ~ "'") }}
    {%- endif -%}
    {%- set scope = context if package_name is none else context[package_name] -%}
    {%- set macro_name = 'snapshot_' ~ strategy ~ '_strategy' -%}
    {%- if macro_name not in scope -%}
        {{ exceptions.raise_compiler_error("The specified strategy macro '" ~ strategy ~ "' was not found in package '" ~ package_name ~ "'") }}
    {%- endif -%}
    {{ return(scope[macro_name]) }}
{%- endmacro %}

{% macro snapshot_hash_arguments(args) -%}
    {{ adapter.dispatch('snapshot_hash_arguments', 'dbt')(args) }}
{%- endmacro %}
{% macro default__snapshot_hash_arguments(args) -%}
    md5({%- for arg in args -%}
        coalesce(cast({{ arg }} as varchar ), '')
        {% if not loop.last %} || '|' || {% endif %}
    {%- endfor -%})
{%- endmacro %}

{% macro snapshot_get_time() -%}{{ adapter.dispatch('snapshot_get_time', 'dbt')() }}{%- endmacro %}
{% macro default__snapshot_get_time() -%}{{ current_timestamp() }}{%- endmacro %}

{% macro get_snapshot_get_time_data_type() -%}
    {%- set columns = adapter.get_column_schema_from_query('select ' ~ snapshot_get_time() ~ ' as dbt_snapshot_time') -%}
    {{ return(columns[0].dtype if columns else none) }}
{%- endmacro %}

{% macro snapshot_string_as_time(timestamp) -%}
    {{ adapter.dispatch('snapshot_string_as_time', 'dbt')(timestamp) }}
{%- endmacro %}
{% macro default__snapshot_string_as_time(timestamp) -%}
    {% do exceptions.raise_not_implemented('snapshot_string_as_time macro not implemented for adapter ' ~ adapter.type()) %}
{%- endmacro %}

{#- the strategies: each returns unique_key, updated_at, row_changed (SQL comparing the snapshotted row
    with the current one), scd_id (SQL), invalidate_hard_deletes and hard_deletes -#}
{% macro snapshot_timestamp_strategy(node, snapshotted_rel, current_rel, model_config, target_exists) -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set updated_at = config.get('updated_at') -%}
    {%- set hard_deletes = adapter.get_hard_deletes_behavior(config) -%}
    {#- compared with the snapshot's own valid_from: a table once snapshotted with `check` may lack updated_at -#}
    {%- set row_changed = '(' ~ snapshotted_rel ~ '.' ~ _snapshot_columns().dbt_valid_from ~ ' < ' ~ current_rel ~ '.' ~ updated_at ~ ')' -%}
    {{ return({'unique_key': unique_key, 'updated_at': updated_at, 'row_changed': row_changed,
               'scd_id': snapshot_hash_arguments(api.Relation.scd_args(unique_key, updated_at)),
               'invalidate_hard_deletes': hard_deletes == 'invalidate', 'hard_deletes': hard_deletes}) }}
{%- endmacro %}

{#- (whether a checked column is new to the snapshot table, the checked columns it has, quoted) -#}
{% macro snapshot_check_all_get_existing_columns(node, target_exists, check_cols_config) -%}
    {%- if not target_exists -%}{{ return((false, [])) }}{%- endif -%}
    {%- set target_relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
    {%- if check_cols_config == 'all' -%}
        {%- set query_columns = get_columns_in_query(node['compiled_code']) -%}
    {%- elif check_cols_config is iterable and check_cols_config | length > 0 -%}
        {%- set query_columns = get_columns_in_query('select ' ~ check_cols_config | join(', ') ~ ' from (' ~ node['compiled_code'] ~ ') subq') -%}
    {%- else -%}
        {% do exceptions.raise_compiler_error("Invalid value for 'check_cols': " ~ check_cols_config) %}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list -%}
    {%- set present = [] -%}
    {%- for column in query_columns if column in existing -%}{%- do present.append(adapter.quote(column)) -%}{%- endfor -%}
    {{ return((present | length < query_columns | length, present)) }}
{%- endmacro %}

{% macro snapshot_check_strategy(node, snapshotted_rel, current_rel, model_config, target_exists) -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- set hard_deletes = adapter.get_hard_deletes_behavior(config) -%}
    {%- set updated_at = config.get('updated_at') or snapshot_get_time() -%}
    {%- set column_added, check_cols = snapshot_check_all_get_existing_columns(node, target_exists, config.get('check_cols')) -%}
    {%- set changes = [] -%}
    {%- for col in check_cols -%}
        {%- set before, now = snapshotted_rel ~ '.' ~ col, current_rel ~ '.' ~ col -%}
        {%- do changes.append(before ~ ' != ' ~ now ~ ' or ( ((' ~ before ~ ' is null) and not (' ~ now ~ ' is null)) or ((not ' ~ before ~ ' is null) and (' ~ now ~ ' is null)) )') -%}
    {%- endfor -%}
    {%- set row_changed = '(' ~ (get_true_sql() if column_added else changes | join(' or ')) ~ ')' -%}
    {{ return({'unique_key': unique_key, 'updated_at': updated_at, 'row_changed': row_changed,
               'scd_id': snapshot_hash_arguments(api.Relation.scd_args(unique_key, updated_at)),
               'invalidate_hard_deletes': hard_deletes == 'invalidate', 'hard_deletes': hard_deletes}) }}
{%- endmacro %}

{#- the unique key's columns in the staging query: dbt_unique_key, or dbt_unique_key_<n> for a list -#}
{% macro unique_key_fields(unique_key) -%}
    {%- if unique_key is string or unique_key is not iterable -%}{{ unique_key }} as dbt_unique_key
    {%- else -%}
        {%- for key in unique_key -%}{{ key }} as dbt_unique_key_{{ loop.index }}{{ ', ' if not loop.last }}{%- endfor -%}
    {%- endif -%}
{%- endmacro %}
{% macro unique_key_join_on(unique_key, identifier, from_identifier) -%}
    {%- if unique_key is string or unique_key is not iterable -%}{{ identifier }}.dbt_unique_key = {{ from_identifier }}.dbt_unique_key
    {%- else -%}
        {%- for key in unique_key -%}
            {{ equals(identifier ~ '.dbt_unique_key_' ~ loop.index, from_identifier ~ '.dbt_unique_key_' ~ loop.index) }}{{ ' and ' if not loop.last }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
{% macro unique_key_is_null(unique_key, identifier) -%}
    {{ identifier }}.{{ 'dbt_unique_key' if unique_key is string or unique_key is not iterable else 'dbt_unique_key_1' }} is null
{%- endmacro %}
{% macro unique_key_is_not_null(unique_key, identifier) -%}
    {{ identifier }}.{{ 'dbt_unique_key' if unique_key is string or unique_key is not iterable else 'dbt_unique_key_1' }} is not null
{%- endmacro %}

{#- valid_to of a current row: null, or the dbt_valid_to_current config (typed as updated_at) -#}
{% macro get_dbt_valid_to_current(strategy, columns) -%}
    coalesce(nullif({{ strategy.updated_at }}, {{ strategy.updated_at }}), {{ config.get('dbt_valid_to_current') or 'null' }})
    as {{ columns.dbt_valid_to }}
{%- endmacro %}

{% macro get_list_of_column_names(columns) -%}
    {{ return(columns | map(attribute='name') | list) }}
{%- endmacro %}

{#- the first build: the query with the snapshot's meta columns -#}
{% macro build_snapshot_table(strategy, sql) -%}
    {{ adapter.dispatch('build_snapshot_table', 'dbt')(strategy, sql) }}
{%- endmacro %}
{% macro default__build_snapshot_table(strategy, sql) -%}
    {%- set columns = _snapshot_columns() -%}
    select *,
        {{ strategy.scd_id }} as {{ columns.dbt_scd_id }},
        {{ strategy.updated_at }} as {{ columns.dbt_updated_at }},
        {{ strategy.updated_at }} as {{ columns.dbt_valid_from }},
        {{ get_dbt_valid_to_current(strategy, columns) }}
        {%- if strategy.hard_deletes == 'new_record' %}, 'False' as {{ columns.dbt_is_deleted }}{% endif %}
    from (
        {{ sql }}
    ) sbq
{%- endmacro %}

{#- the changes since the last run, one row each, with dbt_change_type insert, update or delete -#}
{% macro snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {{ adapter.dispatch('snapshot_staging_table', 'dbt')(strategy, source_sql, target_relation) }}
{%- endmacro %}
{% macro default__snapshot_staging_table(strategy, source_sql, target_relation) -%}
    {%- set columns = _snapshot_columns() -%}
    {%- set key = strategy.unique_key -%}
    {%- set deletes = strategy.hard_deletes in ('invalidate', 'new_record') -%}
    {%- set new_record = strategy.hard_deletes == 'new_record' -%}
    {%- set current_to = config.get('dbt_valid_to_current') -%}
    {%- set is_current = ('(' ~ equals(columns.dbt_valid_to, current_to | trim) ~ ' or ' ~ columns.dbt_valid_to ~ ' is null)') if current_to else columns.dbt_valid_to ~ ' is null' -%}
    {%- set latest_is_deleted -%}
        snapshotted_data.{{ columns.dbt_is_deleted }} = 'True'
        and snapshotted_data.{{ columns.dbt_valid_to }} {{ ('= ' ~ current_to) if current_to else 'is null' }}
    {%- endset -%}
    {%- set deleted_again = (" or snapshotted_data." ~ columns.dbt_is_deleted ~ " = 'True'") if new_record else '' -%}
    with snapshot_query as (
        {{ source_sql }}
    ),
    snapshotted_data as (
        select *, {{ unique_key_fields(key) }}
        from {{ target_relation }}
        where {{ is_current }}
    ),
    insertions_source_data as (
        select *, {{ unique_key_fields(key) }},
            {{ strategy.updated_at }} as {{ columns.dbt_updated_at }},
            {{ strategy.updated_at }} as {{ columns.dbt_valid_from }},
            {{ get_dbt_valid_to_current(strategy, columns) }},
            {{ strategy.scd_id }} as {{ columns.dbt_scd_id }}
        from snapshot_query
    ),
    updates_source_data as (
        select *, {{ unique_key_fields(key) }},
            {{ strategy.updated_at }} as {{ columns.dbt_updated_at }},
            {{ strategy.updated_at }} as {{ columns.dbt_valid_from }},
            {{ strategy.updated_at }} as {{ columns.dbt_valid_to }}
        from snapshot_query
    ),
    {%- if deletes %}
    deletes_source_data as (
        select *, {{ unique_key_fields(key) }}
        from snapshot_query
    ),
    {%- endif %}
    insertions as (
        select 'insert' as dbt_change_type, source_data.*
            {%- if new_record %}, 'False' as {{ columns.dbt_is_deleted }}{% endif %}
        from insertions_source_data as source_data
        left outer join snapshotted_data
            on {{ unique_key_join_on(key, 'snapshotted_data', 'source_data') }}
        where {{ unique_key_is_null(key, 'snapshotted_data') }}
            or ({{ unique_key_is_not_null(key, 'snapshotted_data') }} and ({{ strategy.row_changed }}{{ deleted_again }}))
    ),
    updates as (
        select 'update' as dbt_change_type, source_data.*, snapshotted_data.{{ columns.dbt_scd_id }}
            {%- if new_record %}, snapshotted_data.{{ columns.dbt_is_deleted }}{% endif %}
        from updates_source_data as source_data
        join snapshotted_data
            on {{ unique_key_join_on(key, 'snapshotted_data', 'source_data') }}
        where ({{ strategy.row_changed }}{{ deleted_again }})
    )
    {%- if deletes %},
    deletes as (
        select 'delete' as dbt_change_type, source_data.*,
            {{ snapshot_get_time() }} as {{ columns.dbt_valid_from }},
            {{ snapshot_get_time() }} as {{ columns.dbt_updated_at }},
            {{ snapshot_get_time() }} as {{ columns.dbt_valid_to }},
            snapshotted_data.{{ columns.dbt_scd_id }}
            {%- if new_record %}, snapshotted_data.{{ columns.dbt_is_deleted }}{% endif %}
        from snapshotted_data
        left join deletes_source_data as source_data
            on {{ unique_key_join_on(key, 'snapshotted_data', 'source_data') }}
        where {{ unique_key_is_null(key, 'source_data') }}
            {%- if new_record %} and not ({{ latest_is_deleted }}){% endif %}
    )
    {%- endif %}
    {%- if new_record %}
    {%- set snapshotted_cols = get_list_of_column_names(get_columns_in_relation(target_relation)) -%}
    {%- set new_scd_id = snapshot_hash_arguments([columns.dbt_scd_id, snapshot_get_time()]) -%},
    deletion_records as (
        select 'insert' as dbt_change_type,
            {% for name in get_columns_in_query(source_sql) -%}
            {{ 'snapshotted_data' if name in snapshotted_cols else 'source_data' }}.{{ adapter.quote(name) }},
            {% endfor -%}
            {%- if key is string or key is not iterable -%}
            snapshotted_data.dbt_unique_key as dbt_unique_key,
            {%- else -%}
            {%- for k in key %}snapshotted_data.{{ k }} as dbt_unique_key_{{ loop.index }},{% endfor -%}
            {%- endif %}
            {{ snapshot_get_time() }} as {{ columns.dbt_valid_from }},
            {{ snapshot_get_time() }} as {{ columns.dbt_updated_at }},
            snapshotted_data.{{ columns.dbt_valid_to }} as {{ columns.dbt_valid_to }},
            {{ new_scd_id }} as {{ columns.dbt_scd_id }},
            'True' as {{ columns.dbt_is_deleted }}
        from snapshotted_data
        left join deletes_source_data as source_data
            on {{ unique_key_join_on(key, 'snapshotted_data', 'source_data') }}
        where {{ unique_key_is_null(key, 'source_data') }} and not ({{ latest_is_deleted }})
    )
    {%- endif %}
    select * from insertions
    union all
    select * from updates
    {%- if deletes %}
    union all
    select * from deletes
    {%- endif %}
    {%- if new_record %}
    union all
    select * from deletion_records
    {%- endif %}
{%- endmacro %}

{#- the staging query as a temporary table; dbt-duckdb's chooses the temporary relation itself -#}
{% macro build_snapshot_staging_table(strategy, sql, target_relation) -%}
    {%- set temporary = duckdb__dispatch_temporary_relation(target_relation) if adapter.type() == 'duckdb'
                        else {'relation': make_temp_relation(target_relation), 'temporary': true} -%}
    {% call statement('build_snapshot_staging_relation') -%}
        {{ create_table_as(temporary.temporary, temporary.relation, snapshot_staging_table(strategy, sql, target_relation)) }}
    {%- endcall %}
    {{ return(temporary.relation) }}
{%- endmacro %}

{#- columns the source gained, added to the snapshot table -#}
{% macro create_columns(relation, columns) -%}{{ adapter.dispatch('create_columns', 'dbt')(relation, columns) }}{%- endmacro %}
{% macro default__create_columns(relation, columns) -%}
    {%- for column in columns -%}
        {% call statement() -%}
            alter table {{ relation.render() }} add column {{ adapter.quote(column.name) }} {{ column.expanded_data_type }};
        {%- endcall %}
    {%- endfor -%}
{%- endmacro %}

{#- the staging table applied: current rows closed (update, delete), new rows inserted -#}
{% macro snapshot_merge_sql(target, source, insert_cols) -%}
    {{ adapter.dispatch('snapshot_merge_sql', 'dbt')(target, source, insert_cols) }}
{%- endmacro %}
{% macro default__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set columns = _snapshot_columns() -%}
    {%- set current_to = config.get('dbt_valid_to_current') -%}
    merge into {{ target.render() }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    on DBT_INTERNAL_SOURCE.{{ columns.dbt_scd_id }} = DBT_INTERNAL_DEST.{{ columns.dbt_scd_id }}
    when matched
     {% if current_to -%}
        and ({{ equals('DBT_INTERNAL_DEST.' ~ columns.dbt_valid_to, current_to | trim) }} or DBT_INTERNAL_DEST.{{ columns.dbt_valid_to }} is null)
     {%- else -%}
        and DBT_INTERNAL_DEST.{{ columns.dbt_valid_to }} is null
     {%- endif %}
     and DBT_INTERNAL_SOURCE.dbt_change_type in ('update', 'delete')
        then update
        set {{ columns.dbt_valid_to }} = DBT_INTERNAL_SOURCE.{{ columns.dbt_valid_to }}
    when not matched
     and DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'
        then insert ({{ insert_cols | join(', ') }})
        values ({{ insert_cols | join(', ') }})
{%- endmacro %}
{% macro duckdb__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set columns = _snapshot_columns() -%}
    {%- set current_to = config.get('dbt_valid_to_current') -%}
    update {{ target }} as DBT_INTERNAL_TARGET
    set {{ columns.dbt_valid_to }} = DBT_INTERNAL_SOURCE.{{ columns.dbt_valid_to }}
    from {{ source }} as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.{{ columns.dbt_scd_id }}::text = DBT_INTERNAL_TARGET.{{ columns.dbt_scd_id }}::text
      and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update'::text, 'delete'::text)
      {% if current_to -%}
      and (DBT_INTERNAL_TARGET.{{ columns.dbt_valid_to }} = {{ current_to }} or DBT_INTERNAL_TARGET.{{ columns.dbt_valid_to }} is null);
      {%- else -%}
      and DBT_INTERNAL_TARGET.{{ columns.dbt_valid_to }} is null;
      {%- endif %}

    insert into {{ target }} ({{ insert_cols | join(', ') }})
    select {% for column in insert_cols -%}DBT_INTERNAL_SOURCE.{{ column }}{{ ', ' if not loop.last }}{%- endfor %}
    from {{ source }} as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'::text;
{%- endmacro %}

{% macro post_snapshot(staging_relation) -%}{{ adapter.dispatch('post_snapshot', 'dbt')(staging_relation) }}{%- endmacro %}
{% macro default__post_snapshot(staging_relation) -%}{%- endmacro %}

{#- a warning when updated_at and the snapshot time differ in type -#}
{% macro get_updated_at_column_data_type(snapshot_sql) -%}
    {%- set found = get_column_schema_from_query(snapshot_sql) | selectattr('name', 'in', ['dbt_updated_at', 'DBT_UPDATED_AT']) | list -%}
    {{ return(found[0].dtype if found else none) }}
{%- endmacro %}
{% macro check_time_data_types(sql) -%}
    {%- set updated_at_type = get_updated_at_column_data_type(sql) -%}
    {%- set time_type = get_snapshot_get_time_data_type() -%}
    {%- if time_type is not none and updated_at_type is not none and time_type != updated_at_type -%}
        {% do exceptions.warn('Data type of snapshot table timestamp columns (' ~ time_type ~ ') doesn\'t match derived column \'updated_at\' (' ~ updated_at_type ~ '). Please update snapshot config \'updated_at\'.') %}
    {%- endif -%}
{%- endmacro %}
