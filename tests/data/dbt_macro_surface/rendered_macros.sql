{#- Each case renders one of dbt's global macros; `-- case: NAME` starts the case's output. -#}
{%- if execute -%}
{%- set tgt = api.Relation.create(database='db', schema='sch', identifier='tgt', type='table') -%}
{%- set src = api.Relation.create(database='db', schema='sch', identifier='src', type='table') -%}
{%- set vw = api.Relation.create(database='db', schema='sch', identifier='vw', type='view') -%}
{%- set cols = [api.Column('id', 'integer'), api.Column('name', 'varchar'), api.Column('amount', 'decimal(10,2)')] -%}
{%- set args = {'target_relation': tgt, 'temp_relation': src, 'unique_key': 'id', 'dest_columns': cols, 'incremental_predicates': none} -%}
{%- set args_list = {'target_relation': tgt, 'temp_relation': src, 'unique_key': ['id', 'name'], 'dest_columns': cols, 'incremental_predicates': ['DBT_INTERNAL_DEST.amount > 0']} %}
-- case: get_quoted_csv
{{ get_quoted_csv(['id', 'Name']) }}
-- case: get_merge_sql
{{ get_merge_sql(tgt, src, 'id', cols) }}
-- case: get_merge_sql_list_key
{{ get_merge_sql(tgt, src, ['id', 'name'], cols, ['DBT_INTERNAL_DEST.amount > 0']) }}
-- case: get_merge_sql_no_key
{{ get_merge_sql(tgt, src, none, cols) }}
-- case: dbt_get_merge_sql
{{ dbt.get_merge_sql(tgt, src, 'id', cols) }}
-- case: default_get_merge_sql
{{ adapter.dispatch('get_merge_sql', 'dbt')(tgt, src, 'id', cols, none) }}
-- case: default__get_merge_sql_list
{{ default__get_merge_sql(tgt, src, ['id', 'name'], cols, ['DBT_INTERNAL_DEST.amount > 0']) }}
-- case: get_merge_unique_key_match
{{ get_merge_unique_key_match('DBT_INTERNAL_SOURCE.id', 'DBT_INTERNAL_DEST.id') }}
-- case: get_merge_update_columns
{{ get_merge_update_columns(none, ['amount'], cols) | join(',') }}
-- case: get_delete_insert_merge_sql
{{ get_delete_insert_merge_sql(tgt, src, 'id', cols, none) }}
-- case: get_delete_insert_merge_sql_list
{{ get_delete_insert_merge_sql(tgt, src, ['id', 'name'], cols, ['amount > 0']) }}
-- case: get_delete_insert_merge_sql_no_key
{{ get_delete_insert_merge_sql(tgt, src, none, cols, none) }}
-- case: default__get_delete_insert_merge_sql
{{ default__get_delete_insert_merge_sql(tgt, src, ['id', 'name'], cols, ['amount > 0']) }}
-- case: get_insert_into_sql
{{ get_insert_into_sql(tgt, src, cols) }}
-- case: get_insert_overwrite_merge_sql
{{ get_insert_overwrite_merge_sql(tgt, src, cols, ['amount > 0']) }}
-- case: get_incremental_append_sql
{{ get_incremental_append_sql(args) }}
-- case: get_incremental_delete_insert_sql
{{ get_incremental_delete_insert_sql(args_list) }}
-- case: get_incremental_merge_sql
{{ get_incremental_merge_sql(args) }}
-- case: get_incremental_merge_sql_list
{{ get_incremental_merge_sql(args_list) }}
-- case: get_incremental_default_sql
{{ get_incremental_default_sql(args) }}
-- case: get_incremental_insert_overwrite_sql
{{ get_incremental_insert_overwrite_sql(args_list) }}
-- case: strategy_macro
{{ adapter.get_incremental_strategy_macro(context, 'delete+insert')(args) }}
-- case: incremental_validate_on_schema_change
{{ incremental_validate_on_schema_change('bogus', default='fail') }} {{ incremental_validate_on_schema_change('append_new_columns') }}
-- case: diff_columns
{{ diff_columns(cols, cols[:1]) | map(attribute='name') | join(',') }}
-- case: diff_column_data_types
{{ diff_column_data_types([api.Column('id', 'bigint'), api.Column('name', 'varchar')], cols) }}
-- case: get_create_sql_view
{{ get_create_sql(vw, 'select 1 as id') }}
-- case: get_create_sql_table
{{ get_create_sql(tgt, 'select 1 as id') }}
-- case: get_create_intermediate_sql
{{ get_create_intermediate_sql(vw, 'select 1 as id') }}
-- case: get_drop_sql
{{ get_drop_sql(vw) }}; {{ get_drop_sql(tgt) }}
-- case: get_drop_backup_sql
{{ get_drop_backup_sql(tgt) }}
-- case: drop_table
{{ drop_table(tgt) }}
-- case: drop_view
{{ drop_view(vw) }}
-- case: get_replace_sql
{{ get_replace_sql(vw, vw, 'select 1 as id') }}
-- case: get_replace_sql_type_change
{{ get_replace_sql(tgt, tgt.incorporate(type='view'), 'select 1 as id') }}
-- case: make_intermediate_relation
{{ make_intermediate_relation(tgt) }} {{ make_backup_relation(tgt, 'view') }} {{ make_backup_relation(tgt, 'view').type }}
-- case: get_grant_sql
{{ get_grant_sql(tgt, 'select', ['alice', 'bob']) }}
-- case: get_revoke_sql
{{ get_revoke_sql(tgt, 'select', ['alice', 'bob']) }}
-- case: get_show_grant_sql
{{ get_show_grant_sql(tgt) }}
-- case: get_dcl_statement_list
{{ get_dcl_statement_list(tgt, {'select': ['alice', 'bob'], 'insert': ['carol']}, get_grant_sql) | join(' | ') }}
-- case: copy_grants
{{ copy_grants() }} {{ support_multiple_grantees_per_dcl_statement() }} {{ should_revoke(tgt, full_refresh_mode=False) }} {{ should_revoke(none) }}
-- case: get_test_sql
{{ get_test_sql('select * from t where x is null', 'count(*)', '!= 0', '> 10', 5) }}
-- case: get_test_sql_no_limit
{{ get_test_sql('select 1', 'count(*)', '!= 0', '!= 0', none) }}
-- case: get_unit_test_sql
{{ get_unit_test_sql('select 1 as a, 2 as b', 'select 1 as a, 2 as b', ['a', 'b']) }}
-- case: get_show_sql
{{ get_show_sql('select 1 as a', none, 5) }}
-- case: get_show_sql_header
{{ get_show_sql('select 1 as a', 'set x = 1;', none) }}
-- case: get_limit_subquery_sql
{{ get_limit_subquery_sql('select 1 as a', 3) }}
-- case: get_true_sql
{{ get_true_sql() }}
-- case: get_binding_char
{{ get_binding_char() }} {{ get_batch_size() }}
-- case: make_hook_config
{{ make_hook_config('select 1', inside_transaction=False) }}
-- case: dates_in_range
{{ dates_in_range('20240227', '20240302') }} {{ dates_in_range('2024-01-01', in_fmt='%Y-%m-%d', out_fmt='%d/%m') }}
-- case: partition_range
{{ partition_range('20240101,20240103') }}
-- case: convert_datetime
{{ convert_datetime('20240105', '%Y%m%d') }}
-- case: get_seed_column_quoted_csv
{{ get_seed_column_quoted_csv(model, ['a', 'B c']) }}
-- case: get_csv_sql
{{ get_csv_sql('create table x (a int)', 'insert into x values (1)') }}
-- case: get_create_index_sql_default
{{ default__get_create_index_sql(tgt, {'columns': ['id']}) }}
-- case: can_clone_table
{{ can_clone_table() }}
-- case: normalize_incremental_predicates
{{ normalize_incremental_predicates('a > 1') }} {{ normalize_incremental_predicates(none) }}
-- case: duckdb_dispatch_temporary_relation
{{ duckdb__dispatch_temporary_relation(tgt).temporary }}
-- case: duckdb__snapshot_string_as_time
{{ duckdb__snapshot_string_as_time('2024-01-01 00:00:00') }}
-- case: get_empty_schema_sql
{{ get_empty_schema_sql(model['columns']) }}
-- case: get_select_subquery
{{ get_select_subquery('select 2 as name, 1 as id') }}
-- case: format_columns
{{ format_columns([api.Column('ID', 'integer')]) }}
-- case: assert_columns_equivalent
{{ assert_columns_equivalent("select 1::integer as id, 'x'::varchar as name") }}done
-- case: snapshot_hash_arguments
{{ snapshot_hash_arguments(['id', 'updated_at']) }}
-- case: unique_key_fields
{{ unique_key_fields('id') }} | {{ unique_key_fields(['a', 'b']) }}
-- case: unique_key_join_on
{{ unique_key_join_on('id', 's', 't') }} | {{ unique_key_join_on(['a', 'b'], 's', 't') }}
-- case: unique_key_is_null
{{ unique_key_is_null('id', 'x') }} | {{ unique_key_is_null(['a', 'b'], 'x') }} | {{ unique_key_is_not_null(['a'], 'x') }} | {{ unique_key_is_not_null('id', 'x') }}
-- case: get_snapshot_table_column_names
{{ get_snapshot_table_column_names() }}
-- case: default__snapshot_merge_sql
{{ default__snapshot_merge_sql(tgt, src, ['"id"', '"name"']) }}
-- case: snapshot_merge_sql
{{ snapshot_merge_sql(tgt, src, ['"id"', '"name"']) }}
{%- set strategy = {'unique_key': 'id', 'updated_at': 'updated_at', 'row_changed': '(a < b)', 'scd_id': 'md5(x)', 'hard_deletes': 'invalidate'} %}
-- case: build_snapshot_table
{{ build_snapshot_table(strategy, 'select 1 as id') }}
-- case: snapshot_staging_table
{{ snapshot_staging_table(strategy, 'select 1 as id', tgt) }}
-- case: snapshot_staging_table_ignore
{{ snapshot_staging_table({'unique_key': ['id', 'name'], 'updated_at': 'updated_at', 'row_changed': '(a < b)', 'scd_id': 'md5(x)', 'hard_deletes': 'ignore'}, 'select 1 as id', tgt) }}
-- case: get_dbt_valid_to_current
{{ get_dbt_valid_to_current(strategy, get_snapshot_table_column_names()) }}
-- case: snapshot_get_time
{{ snapshot_get_time() }}
-- case: scd_args
{{ api.Relation.scd_args(['a', 'b'], 'updated_at') }} {{ api.Relation.scd_args('id', 'updated_at') }}
-- case: table_columns_and_constraints
{{ get_table_columns_and_constraints() }}
-- case: end
{%- endif -%}
