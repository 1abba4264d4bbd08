{#- dbt's relation, schema and column macros. Those that change the database go through the
    adapter object, which keeps modelkit's relation cache right; each is dispatched, so a project's
    duckdb__<name> or default__<name> wins. -#}

{% macro get_columns_in_relation(relation) -%}
    {{ return(adapter.get_columns_in_relation(relation)) }}
{%- endmacro %}

{% macro get_column_schema_from_query(select_sql, select_sql_header=none) -%}
    {{ return(adapter.get_column_schema_from_query(select_sql)) }}
{%- endmacro %}

{% macro get_columns_in_query(select_sql) -%}
    {{ return(adapter.get_column_schema_from_query(select_sql) | map(attribute='name') | list) }}
{%- endmacro %}

{% macro get_empty_subquery_sql(select_sql, select_sql_header=none) -%}
    {%- if select_sql_header is not none -%}{{ select_sql_header }}{%- endif -%}
    select * from (
        {{ select_sql }}
    ) as __dbt_sbq
    where false
    limit 0
{%- endmacro %}

{% macro alter_column_type(relation, column_name, new_column_type) -%}
    {{ return(adapter.dispatch('alter_column_type', 'dbt')(relation, column_name, new_column_type)) }}
{%- endmacro %}
{% macro default__alter_column_type(relation, column_name, new_column_type) -%}
    {% call statement('alter_column_type') %}
        alter table {{ relation.render() }} alter column {{ adapter.quote(column_name) }} set data type {{ new_column_type }}
    {% endcall %}
{%- endmacro %}

{% macro alter_relation_add_remove_columns(relation, add_columns=none, remove_columns=none) -%}
    {{ return(adapter.dispatch('alter_relation_add_remove_columns', 'dbt')(relation, add_columns, remove_columns)) }}
{%- endmacro %}
{% macro default__alter_relation_add_remove_columns(relation, add_columns, remove_columns) -%}
    {% for column in add_columns or [] %}
        {% do run_query('alter table ' ~ relation.render() ~ ' add column ' ~ adapter.quote(column.name) ~ ' ' ~ column.data_type) %}
    {% endfor %}
    {% for column in remove_columns or [] %}
        {% do run_query('alter table ' ~ relation.render() ~ ' drop column ' ~ adapter.quote(column.name)) %}
    {% endfor %}
{%- endmacro %}

{% macro truncate_relation(relation) -%}
    {{ return(adapter.dispatch('truncate_relation', 'dbt')(relation)) }}
{%- endmacro %}
{% macro default__truncate_relation(relation) -%}{% do adapter.truncate_relation(relation) %}{%- endmacro %}

{% macro drop_relation(relation) -%}
    {{ return(adapter.dispatch('drop_relation', 'dbt')(relation)) }}
{%- endmacro %}
{% macro default__drop_relation(relation) -%}{% do adapter.drop_relation(relation) %}{%- endmacro %}

{% macro drop_relation_if_exists(relation) -%}
    {% if relation is not none %}{% do adapter.drop_relation(relation) %}{% endif %}
{%- endmacro %}

{% macro rename_relation(from_relation, to_relation) -%}
    {{ return(adapter.dispatch('rename_relation', 'dbt')(from_relation, to_relation)) }}
{%- endmacro %}
{% macro default__rename_relation(from_relation, to_relation) -%}
    {% do adapter.rename_relation(from_relation, to_relation) %}
{%- endmacro %}

{% macro create_schema(relation) -%}
    {{ return(adapter.dispatch('create_schema', 'dbt')(relation)) }}
{%- endmacro %}
{% macro default__create_schema(relation) -%}{% do adapter.create_schema(relation) %}{%- endmacro %}

{% macro drop_schema(relation) -%}
    {{ return(adapter.dispatch('drop_schema', 'dbt')(relation)) }}
{%- endmacro %}
{% macro default__drop_schema(relation) -%}{% do adapter.drop_schema(relation) %}{%- endmacro %}

{% macro drop_schema_named(schema_name) %}
    {{ return(adapter.dispatch('drop_schema_named', 'dbt') (schema_name)) }}
{% endmacro %}
{% macro default__drop_schema_named(schema_name) %}
  {% set schema_relation = api.Relation.create(schema=schema_name) %}
  {{ adapter.drop_schema(schema_relation) }}
{% endmacro %}

{% macro list_schemas(database) -%}
    {{ return(adapter.dispatch('list_schemas', 'dbt')(database)) }}
{%- endmacro %}
{% macro default__list_schemas(database) -%}
    {% set sql %}
        select schema_name
        from information_schema.schemata
        {% if database is not none %}where lower(catalog_name) = '{{ database | lower }}'{% endif %}
    {% endset %}
    {{ return(run_query(sql)) }}
{%- endmacro %}

{% macro check_schema_exists(information_schema, schema) -%}
    {{ return(adapter.dispatch('check_schema_exists', 'dbt')(information_schema, schema)) }}
{%- endmacro %}
{% macro default__check_schema_exists(information_schema, schema) -%}
    {% set sql -%}
        select count(*)
        from information_schema.schemata
        where lower(schema_name) = '{{ schema | lower }}'
        and lower(catalog_name) = '{{ information_schema.database | lower }}'
    {%- endset %}
    {{ return(run_query(sql)) }}
{%- endmacro %}

{% macro list_relations_without_caching(schema_relation) -%}
    {{ return(adapter.dispatch('list_relations_without_caching', 'dbt')(schema_relation)) }}
{%- endmacro %}
{% macro default__list_relations_without_caching(schema_relation) -%}
    {% set sql %}
        select
            '{{ schema_relation.database }}' as database,
            table_name as name,
            table_schema as schema,
            case table_type when 'BASE TABLE' then 'table' when 'VIEW' then 'view' when 'LOCAL TEMPORARY' then 'table' end as type
        from information_schema.tables
        where lower(table_schema) = '{{ schema_relation.schema | lower }}'
        and lower(table_catalog) = '{{ schema_relation.database | lower }}'
    {% endset %}
    {{ return(run_query(sql)) }}
{%- endmacro %}

{% macro make_temp_relation(base_relation, suffix='__dbt_tmp') -%}
    {{ return(adapter.dispatch('make_temp_relation', 'dbt')(base_relation, suffix)) }}
{%- endmacro %}
{% macro default__make_temp_relation(base_relation, suffix) -%}
    {{ return(base_relation.incorporate(path={"identifier": base_relation.identifier ~ suffix})) }}
{%- endmacro %}

{#- the relation a materialization builds before swapping it in: beside the target, whatever an engine's
    make_temp_relation does -#}
{% macro make_intermediate_relation(base_relation, suffix='__dbt_tmp') -%}
    {{ return(adapter.dispatch('make_intermediate_relation', 'dbt')(base_relation, suffix)) }}
{%- endmacro %}
{% macro default__make_intermediate_relation(base_relation, suffix) -%}
    {{ return(default__make_temp_relation(base_relation, suffix)) }}
{%- endmacro %}

{% macro make_backup_relation(base_relation, backup_relation_type, suffix='__dbt_backup') -%}
    {{ return(adapter.dispatch('make_backup_relation', 'dbt')(base_relation, backup_relation_type, suffix)) }}
{%- endmacro %}
{% macro default__make_backup_relation(base_relation, backup_relation_type, suffix) -%}
    {{ return(base_relation.incorporate(path={"identifier": base_relation.identifier ~ suffix}, type=backup_relation_type)) }}
{%- endmacro %}

{% macro load_cached_relation(relation) -%}
    {{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}

{% macro load_relation(relation) -%}{{ return(load_cached_relation(relation)) }}{%- endmacro %}

{% macro get_or_create_relation(database, schema, identifier, type) -%}
    {%- set target_relation = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {% if target_relation %}{% do return([true, target_relation]) %}{% endif %}
    {%- set new_relation = api.Relation.create(database=database, schema=schema, identifier=identifier, type=type) -%}
    {% do return([false, new_relation]) %}
{%- endmacro %}

{#- comments (persist_docs), as dbt-duckdb writes them -#}
{% macro escape_comment(comment) -%}
    {% if comment is not string %}
        {% do exceptions.raise_compiler_error('cannot escape a non-string: ' ~ comment) %}
    {% endif %}
    {%- set magic = '$dbt_comment_literal_block$' -%}
    {%- if magic in comment -%}
        {%- do exceptions.raise_compiler_error('The string ' ~ magic ~ ' is not allowed in comments.') -%}
    {%- endif -%}
    {{ magic }}{{ comment }}{{ magic }}
{%- endmacro %}

{% macro alter_relation_comment(relation, relation_comment) -%}
    {{ return(adapter.dispatch('alter_relation_comment', 'dbt')(relation, relation_comment)) }}
{%- endmacro %}
{% macro default__alter_relation_comment(relation, relation_comment) -%}
    comment on {{ relation.type }} {{ relation }} is {{ escape_comment(relation_comment) }};
{%- endmacro %}

{% macro alter_column_comment(relation, column_dict) -%}
    {{ return(adapter.dispatch('alter_column_comment', 'dbt')(relation, column_dict)) }}
{%- endmacro %}
{% macro default__alter_column_comment(relation, column_dict) -%}
    {% set existing_columns = adapter.get_columns_in_relation(relation) | map(attribute="name") | list %}
    {% for column_name in column_dict if (column_name in existing_columns) %}
        comment on column {{ relation }}.{{ adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name }} is {{ escape_comment(column_dict[column_name]['description']) }};
    {% endfor %}
{%- endmacro %}

{% macro persist_docs(relation, model, for_relation=true, for_columns=true) -%}
    {{ return(adapter.dispatch('persist_docs', 'dbt')(relation, model, for_relation, for_columns)) }}
{%- endmacro %}
{#- the documented columns the relation has; the others are reported -#}
{% macro validate_doc_columns(relation, column_dict, existing_column_names) %}
    {% set existing_lower = existing_column_names | map("lower") | list %}
    {% set missing = [] %}
    {% set filtered = {} %}
    {% for col_name in column_dict %}
        {% if column_dict[col_name]['quote'] %}
            {% set present = col_name in existing_column_names %}
        {% else %}
            {% set present = col_name | lower in existing_lower %}
        {% endif %}
        {% if present %}
            {% do filtered.update({col_name: column_dict[col_name]}) %}
        {% else %}
            {% do missing.append(col_name) %}
        {% endif %}
    {% endfor %}
    {% if missing | length > 0 %}
        {{ exceptions.warn("In relation " ~ relation.render() ~ ": The following columns are specified in the schema but are not present in the database: " ~ missing | join(", ")) }}
    {% endif %}
    {{ return(filtered) }}
{% endmacro %}

{% macro default__persist_docs(relation, model, for_relation, for_columns) -%}
    {% if for_relation and config.persist_relation_docs() and model.description %}
        {% do run_query(alter_relation_comment(relation, model.description)) %}
    {% endif %}
    {% if for_columns and config.persist_column_docs() and model.columns %}
        {% set existing_columns = adapter.get_columns_in_relation(relation) | map(attribute="name") | list %}
        {% set filtered_columns = validate_doc_columns(relation, model.columns, existing_columns) %}
        {% set sql = alter_column_comment(relation, filtered_columns) %}
        {% if sql and sql | trim | length > 0 %}{% do run_query(sql) %}{% endif %}
    {% endif %}
{%- endmacro %}

{% macro set_sql_header(config) -%}
    {{ config.set('sql_header', caller()) }}
{%- endmacro %}

{#- materialization configs, as dbt's: a node's store_failures wins over the --store-failures flag -#}
{% macro should_store_failures() -%}
    {% set config_store_failures = config.get('store_failures') %}
    {% if config_store_failures is none %}
        {% set config_store_failures = flags.STORE_FAILURES %}
    {% endif %}
    {% do return(config_store_failures) %}
{%- endmacro %}

{#- contracts: the declared columns as an empty query, and the check that the model's query matches them -#}
{% macro get_empty_schema_sql(columns) -%}
    {{ return(adapter.dispatch('get_empty_schema_sql', 'dbt')(columns)) }}
{%- endmacro %}
{% macro default__get_empty_schema_sql(columns) -%}
    {%- set untyped = [] -%}
    {%- set naked_numeric = [] -%}
    select
    {% for key in columns -%}
        {%- set col = columns[key] -%}
        {%- if col['data_type'] is not defined or col['data_type'] is none -%}
            {%- do untyped.append(col['name']) -%}
        {%- elif col['data_type'].strip().lower() in ('numeric', 'decimal', 'number') -%}
            {%- do naked_numeric.append(col['name']) -%}
        {%- endif %}
    {{ cast('null', col['data_type']) }} as {{ adapter.quote(col['name']) if col.get('quote') else col['name'] }}{{ ', ' if not loop.last }}
    {%- endfor -%}
    {%- if untyped -%}
        {{ exceptions.column_type_missing(column_names=untyped) }}
    {%- elif naked_numeric -%}
        {{ exceptions.warn('Detected columns with numeric type and unspecified precision/scale, this can lead to unintended rounding: ' ~ naked_numeric ~ '`') }}
    {%- endif -%}
{%- endmacro %}

{% macro format_columns(columns) -%}
    {%- set formatted = [] -%}
    {%- for column in columns -%}{%- do formatted.append(adapter.dispatch('format_column', 'dbt')(column)) -%}{%- endfor -%}
    {{ return(formatted) }}
{%- endmacro %}
{% macro default__format_column(column) -%}
    {{ return({'name': column.name, 'data_type': column.dtype, 'formatted': column.column.lower() ~ ' ' ~ column.dtype}) }}
{%- endmacro %}

{% macro get_assert_columns_equivalent(sql) -%}
    {{ adapter.dispatch('get_assert_columns_equivalent', 'dbt')(sql) }}
{%- endmacro %}
{% macro default__get_assert_columns_equivalent(sql) -%}{{ return(assert_columns_equivalent(sql)) }}{%- endmacro %}

{#- raises the contract error unless the query's columns are the declared ones, by name and type -#}
{% macro assert_columns_equivalent(sql) -%}
    {%- set declared = model['columns'] -%}
    {%- if not declared -%}{{ exceptions.raise_contract_error([], []) }}{%- endif -%}
    {%- set sql_columns = format_columns(get_column_schema_from_query(sql, config.get('sql_header', none))) -%}
    {%- set yaml_columns = format_columns(get_column_schema_from_query(get_empty_schema_sql(declared))) -%}
    {%- set yaml_by_name = {} -%}
    {%- for column in yaml_columns -%}{%- do yaml_by_name.setdefault(column['name'], column) -%}{%- endfor -%}
    {%- if sql_columns | length != yaml_columns | length -%}
        {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
    {%- endif -%}
    {%- for column in sql_columns -%}
        {%- if column['name'] not in yaml_by_name or yaml_by_name[column['name']]['formatted'] != column['formatted'] -%}
            {%- do exceptions.raise_contract_error(yaml_columns, sql_columns) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- the declared columns, in order, selected from the model's query -#}
{% macro get_select_subquery(sql) -%}
    {{ return(adapter.dispatch('get_select_subquery', 'dbt')(sql)) }}
{%- endmacro %}
{% macro default__get_select_subquery(sql) -%}
    select {{ adapter.dispatch('get_column_names', 'dbt')() }}
    from (
        {{ sql }}
    ) as model_subq
{%- endmacro %}
{% macro default__get_column_names() -%}
    {%- for key in model['columns'] -%}
        {%- set col = model['columns'][key] -%}
        {{ adapter.quote(col['name']) if col.get('quote') else col['name'] }}{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
{#- dbt-duckdb's: the same list, in parentheses -#}
{% macro get_column_names() -%}
    ({% for key in model['columns'] -%}
        {%- set col = model['columns'][key] -%}
        {{ adapter.quote(col['name']) if col.get('quote') else col['name'] }}{{ ', ' if not loop.last }}
    {%- endfor %})
{%- endmacro %}

{#- the column list of `create table (...)` under an enforced contract: each column with its type and
    constraints, then the model's constraints -#}
{% macro get_table_columns_and_constraints() -%}
    {{ adapter.dispatch('get_table_columns_and_constraints', 'dbt')() }}
{%- endmacro %}
{% macro default__get_table_columns_and_constraints() -%}{{ return(table_columns_and_constraints()) }}{%- endmacro %}
{% macro table_columns_and_constraints() -%}
    {%- set parts = adapter.render_raw_columns_constraints(raw_columns=model['columns'])
                    + adapter.render_raw_model_constraints(raw_constraints=model['constraints']) -%}
    (
    {% for part in parts -%}
      {{ part }}{{ ',' if not loop.last }}
    {% endfor -%}
    )
{%- endmacro %}

{#- relations and their last change, from the catalog: not implemented for DuckDB or PostgreSQL, as in dbt -#}
{% macro get_relations() -%}{{ return(adapter.dispatch('get_relations', 'dbt')()) }}{%- endmacro %}
{% macro default__get_relations() -%}
    {{ exceptions.raise_not_implemented('get_relations macro not implemented for adapter ' ~ adapter.type()) }}
{%- endmacro %}
