{#- dbt-duckdb's versions of dbt's dispatched macros, and the helpers its materializations call, so that a
    project's copy of them runs unchanged. -#}

{#- a config value given as a string or a list of strings, as a list -#}
{% macro normalize_string_or_list(raw, field_name) -%}
    {%- if raw is none -%}{{ return([]) }}{%- endif -%}
    {%- set items = [raw] if raw is string else (raw | list if raw is sequence and raw is not mapping else none) -%}
    {%- if items is none -%}
        {% do exceptions.raise_compiler_error(field_name ~ ' must be a list of strings or a string') %}
    {%- endif -%}
    {%- if items | reject('string') | list -%}
        {% do exceptions.raise_compiler_error(field_name ~ ' list values must be non-empty strings') %}
    {%- endif -%}
    {{ return(items) }}
{%- endmacro %}

{% macro normalize_incremental_predicates(incremental_predicates) -%}
    {{ return(normalize_string_or_list(incremental_predicates, 'incremental_predicates')) }}
{%- endmacro %}

{#- partitioned_by / sorted_by apply to DuckLake tables only: elsewhere they are ignored, with a warning -#}
{% macro duckdb__get_partitioned_by(relation, temporary) -%}
    {{ return(_duckdb_layout_columns(relation, temporary, ['partitioned_by', 'partition_by'], false)) }}
{%- endmacro %}
{% macro duckdb__get_sorted_by(relation, temporary) -%}
    {{ return(_duckdb_layout_columns(relation, temporary, ['sorted_by', 'sort_by'], true)) }}
{%- endmacro %}
{% macro _duckdb_layout_columns(relation, temporary, keys, quoted) -%}
    {%- if temporary -%}{{ return(none) }}{%- endif -%}
    {%- set raw = config.get(keys[0], none) -%}
    {%- if raw is none or raw == '' -%}{%- set raw = config.get(keys[1], none) -%}{%- endif -%}
    {%- if raw is none or raw == '' -%}{{ return(none) }}{%- endif -%}
    {%- set label = keys | join('/') -%}
    {%- set columns = normalize_string_or_list(raw, label) -%}
    {%- if not columns -%}
        {% do exceptions.raise_compiler_error(label ~ ' must contain at least one column') %}
    {%- endif -%}
    {%- if not adapter.is_ducklake(relation) -%}
        {% do adapter.warn_once(label ~ ' is only supported for DuckLake relations; ignoring for ' ~ relation) %}
        {{ return(none) }}
    {%- endif -%}
    {%- if quoted -%}
        {%- set quoted = [] -%}
        {%- for column in columns -%}{%- do quoted.append(adapter.quote(column | replace('"', '""'))) -%}{%- endfor -%}
        {%- set columns = quoted -%}
    {%- endif -%}
    {{ return(columns | join(', ')) }}
{%- endmacro %}
{% macro duckdb__alter_table_set_partitioned_by(relation, partitioned_by) -%}
    alter table {{ relation }} set partitioned by ({{ partitioned_by }});
{%- endmacro %}
{% macro duckdb__alter_table_set_sorted_by(relation, sorted_by) -%}
    alter table {{ relation }} set sorted by ({{ sorted_by }});
{%- endmacro %}

{#- the temporary relation of an incremental run or a snapshot: a temporary table of the connection -#}
{% macro duckdb__dispatch_temporary_relation(target_relation, batch_id='') -%}
    {{ return({'relation': make_temp_relation(target_relation), 'temporary': true}) }}
{%- endmacro %}

{#- foreign keys: which constraint types the model's enforced contract declares and the table has -#}
{% macro enforced_constraint_types() -%}
    {%- set types = [] -%}
    {%- set contract = config.get('contract') -%}
    {%- if contract and contract.enforced -%}
        {%- for constraint in model.get('constraints', []) -%}{%- do types.append(constraint.type) -%}{%- endfor -%}
        {%- for column in model.get('columns', {}).values() -%}
            {%- for constraint in column.get('constraints', []) -%}{%- do types.append(constraint.type) -%}{%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{%- endmacro %}
{% macro existing_constraint_types(relation) -%}
    {{ return(adapter.existing_key_constraint_types(relation) if relation is not none and relation.is_table else []) }}
{%- endmacro %}
{% macro has_foreign_key_constraints(relation=none) -%}
    {%- if not adapter.catalog_supports_foreign_keys(this.database) -%}{{ return(false) }}{%- endif -%}
    {{ return('foreign_key' in enforced_constraint_types() + existing_constraint_types(relation)) }}
{%- endmacro %}
{% macro may_be_foreign_key_target(relation=none) -%}
    {%- if not adapter.catalog_supports_foreign_keys(this.database) -%}{{ return(false) }}{%- endif -%}
    {%- set types = enforced_constraint_types() + existing_constraint_types(relation) -%}
    {{ return('primary_key' in types or 'unique' in types) }}
{%- endmacro %}
{#- the tables whose foreign keys reference relation are kept aside while it is replaced: none are tracked -#}
{% macro drop_foreign_key_dependents(relation) -%}{{ return([]) }}{%- endmacro %}
{% macro restore_foreign_key_dependents(dropped) -%}
    {%- for item in dropped | reverse -%}
        {% do adapter.rename_relation(item['backup'], item['relation']) %}
    {%- endfor -%}
{%- endmacro %}
{% macro drop_relation_for_rebuild(relation) -%}
    {% do adapter.ensure_transaction() %}
    {%- set dropped = drop_foreign_key_dependents(relation) if relation.is_table and may_be_foreign_key_target(relation) else [] -%}
    {% do adapter.drop_relation(relation) %}
    {{ return(dropped) }}
{%- endmacro %}

{#- indexes (dbt-duckdb creates them from the `indexes` config, as dbt-postgres does) -#}
{% macro duckdb__get_create_index_sql(relation, index_dict) -%}
    {%- set index = adapter.parse_index(index_dict) -%}
    create {% if index.unique %}unique {% endif %}index "{{ index.render(relation) }}" on {{ relation }} ({{ index.columns | join(', ') }});
{%- endmacro %}
{% macro drop_indexes_on_relation(relation) -%}
    {%- set found = run_query(duckdb__show_indexes_sql(relation)) -%}
    {%- for row in found -%}
        {% do run_query('drop index "' ~ relation.database ~ '"."' ~ relation.schema ~ '"."' ~ row[0] ~ '"') %}
    {%- endfor -%}
{%- endmacro %}
{% macro duckdb__show_indexes_sql(relation) -%}
    select index_name from duckdb_indexes()
    where database_name = '{{ relation.database }}' and schema_name = '{{ relation.schema }}'
      and table_name = '{{ relation.identifier }}'
{%- endmacro %}

{% macro duckdb__get_binding_char() -%}{{ return(adapter.get_binding_char()) }}{%- endmacro %}
{% macro duckdb__get_batch_size() -%}{{ return(10000) }}{%- endmacro %}

{#- incremental strategies: dbt-duckdb's delete+insert deletes with USING for a composite key; its default
    strategy is delete+insert; its merge uses DuckDB's MERGE with BY NAME clauses -#}
{% macro duckdb__get_incremental_default_sql(arg_dict) -%}
    {{ return(get_incremental_delete_insert_sql(arg_dict)) }}
{%- endmacro %}

{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set columns_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- if unique_key and unique_key is string -%}
        delete from {{ target }}
        where (
            {{ unique_key }}) in (
            select ({{ unique_key }})
            from {{ source }}
        )
        {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
        {%- endfor %};
    {% elif unique_key -%}
        delete from {{ target }} as DBT_INCREMENTAL_TARGET
        using {{ source }}
        where (
            {% for key in unique_key -%}
            {{ source }}.{{ key }} = DBT_INCREMENTAL_TARGET.{{ key }}{{ ' and' if not loop.last }}
            {% endfor -%}
            {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
            {%- endfor %}
        );
    {% endif -%}
    insert into {{ target }} ({{ columns_csv }})
    (
        select {{ columns_csv }}
        from {{ source }}
    )
{%- endmacro %}

{% macro duckdb__get_incremental_merge_sql(arg_dict) -%}
    {{ return(duckdb__get_merge_sql(arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'], arg_dict['dest_columns'], normalize_incremental_predicates(arg_dict.get('incremental_predicates')))) }}
{%- endmacro %}

{#- merge_update_columns / merge_exclude_columns / merge_update_set_expressions turn the update into an
    explicit SET list; merge_update_condition and merge_insert_condition guard the clauses;
    merge_on_using_columns joins with USING; merge_clauses replaces the clauses altogether -#}
{% macro duckdb__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates=none) -%}
    {%- set filters = normalize_incremental_predicates(incremental_predicates) -%}
    {%- set using_columns = config.get('merge_on_using_columns', []) or [] -%}
    {%- set include = config.get('merge_update_columns', []) or [] -%}
    {%- set exclude = config.get('merge_exclude_columns', []) or [] -%}
    {%- set set_expressions = config.get('merge_update_set_expressions', {}) or {} -%}
    {%- set update_condition = config.get('merge_update_condition', none) -%}
    {%- set explicit = include or exclude or set_expressions -%}
    {%- set clauses = config.get('merge_clauses', {}) or {} -%}
    {%- set when_matched = clauses.get('when_matched', [
        {'action': 'update', 'condition': update_condition, 'mode': 'explicit' if explicit else 'by_name',
         'update': {'include': include, 'exclude': exclude, 'set_expressions': set_expressions}}]) -%}
    {%- set when_not_matched = clauses.get('when_not_matched', [
        {'action': 'insert', 'condition': config.get('merge_insert_condition', none), 'mode': 'by_name'}]) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {%- set on = [] -%}
    {%- if not using_columns -%}
        {%- set keys = [] if not unique_key else ([unique_key] if unique_key is string else unique_key) -%}
        {%- for key in keys -%}{%- do on.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' = DBT_INTERNAL_DEST.' ~ key) -%}{%- endfor -%}
        {%- if not keys -%}{%- do on.append('FALSE') -%}{%- endif -%}
    {%- endif -%}
    {%- set on = on + filters -%}
    {{ sql_header if sql_header is not none }}
    MERGE INTO {{ target }} AS DBT_INTERNAL_DEST
        USING {{ source }} AS DBT_INTERNAL_SOURCE
        {% if using_columns -%}USING ({{ using_columns | join(', ') }}) {% endif -%}
        {%- if on %}ON ({{ on | join(') AND (') }}){% endif %}
    {%- for clause in when_matched %}
    WHEN MATCHED{{ _duckdb_merge_condition(clause.get('condition')) }} THEN {{ _duckdb_merge_action(clause, dest_columns) }}
    {%- endfor %}
    {%- for clause in when_not_matched %}
    WHEN NOT MATCHED{{ ' BY ' ~ clause.get('by') | upper if clause.get('by') }}{{ _duckdb_merge_condition(clause.get('condition')) }} THEN {{ _duckdb_merge_action(clause, dest_columns) }}
    {%- endfor %}
    {%- set returning = config.get('merge_returning_columns', []) -%}
    {%- if returning %}
    RETURNING {{ returning if returning is string else returning | join(', ') }}
    {%- endif %}
{%- endmacro %}
{% macro _duckdb_merge_condition(condition) -%}
    {%- if condition is string and condition -%} AND {{ condition }}
    {%- elif condition -%} AND ({{ condition | join(') AND (') }})
    {%- endif -%}
{%- endmacro %}
{% macro _duckdb_merge_action(clause, dest_columns) -%}
    {%- set action = clause.get('action') -%}
    {%- set mode = clause.get('mode') -%}
    {%- if action == 'update' and clause.get('set_expressions') and not mode -%}
        UPDATE SET {% for column, expression in clause['set_expressions'].items() %}{{ column }} = {{ expression }}{{ ', ' if not loop.last }}{% endfor %}
    {%- elif action in ('update', 'insert') and mode in ('by_name', 'by_position') -%}
        {{ action | upper }} {{ mode | replace('_', ' ') | upper }}
    {%- elif action == 'update' and mode == 'star' -%}UPDATE SET *
    {%- elif action == 'insert' and mode == 'star' -%}INSERT *
    {%- elif action == 'update' -%}
        {%- set update = clause.get('update', {}) -%}
        {%- set expressions = update.get('set_expressions', {}) or {} -%}
        {%- set assignments = [] -%}
        {%- for column, expression in expressions.items() -%}{%- do assignments.append(column ~ ' = ' ~ expression) -%}{%- endfor -%}
        {%- for column in get_merge_update_columns(update.get('include', []), update.get('exclude', []), dest_columns) -%}
            {%- if column | replace('"', '') | replace("'", '') not in expressions -%}
                {%- do assignments.append(column ~ ' = DBT_INTERNAL_SOURCE.' ~ column) -%}
            {%- endif -%}
        {%- endfor -%}
        UPDATE SET {{ assignments | join(', ') }}
    {%- elif action == 'insert' -%}
        {%- set insert = clause.get('insert', {}) -%}
        INSERT ({{ insert.get('columns', []) | join(', ') }}) VALUES ({{ insert.get('values', []) | join(', ') }})
    {%- elif action == 'delete' -%}DELETE
    {%- elif action == 'do_nothing' -%}DO NOTHING
    {%- elif action == 'error' -%}ERROR{{ " '" ~ clause['error_message'] | replace("'", "''") ~ "'" if clause.get('error_message') }}
    {%- endif -%}
{%- endmacro %}

{#- snapshots -#}
{% macro duckdb__snapshot_string_as_time(timestamp) -%}
    {{ return("'" ~ timestamp ~ "'::timestamp") }}
{%- endmacro %}
{% macro duckdb__snapshot_get_time() -%}{{ current_timestamp() }}::timestamp{%- endmacro %}
{% macro duckdb__post_snapshot(temporary_relation) -%}
    {{ return(drop_relation(temporary_relation)) }}
{%- endmacro %}

{#- a temporary table of the connection: no database or schema, and a name unique to this run -#}
{% macro duckdb__make_temp_relation(base_relation, suffix) -%}
    {{ return(base_relation.incorporate(path={'identifier': base_relation.identifier ~ suffix ~ py_current_timestring(), 'schema': none, 'database': none})) }}
{%- endmacro %}
