{#- dbt's smaller helpers: grants, the SQL of tests and `show`, freshness, hooks, partitions by date, and
    the seed helpers. -#}

{#- grants -#}
{% macro copy_grants() -%}{{ return(adapter.dispatch('copy_grants', 'dbt')()) }}{%- endmacro %}
{% macro default__copy_grants() -%}{{ return(True) }}{%- endmacro %}

{% macro support_multiple_grantees_per_dcl_statement() -%}
    {{ return(adapter.dispatch('support_multiple_grantees_per_dcl_statement', 'dbt')()) }}
{%- endmacro %}
{% macro default__support_multiple_grantees_per_dcl_statement() -%}{{ return(True) }}{%- endmacro %}

{% macro get_show_grant_sql(relation) -%}{{ return(adapter.dispatch('get_show_grant_sql', 'dbt')(relation)) }}{%- endmacro %}
{% macro default__get_show_grant_sql(relation) -%}show grants on {{ relation.render() }}{%- endmacro %}
{% macro postgres__get_show_grant_sql(relation) -%}
    select grantee, privilege_type
    from {{ relation.database }}.information_schema.role_table_grants
      where grantor = current_role
        and grantee != current_role
        and table_schema = '{{ relation.schema }}'
        and table_name = '{{ relation.identifier }}'
{%- endmacro %}

{% macro get_grant_sql(relation, privilege, grantees) -%}
    {{ return(adapter.dispatch('get_grant_sql', 'dbt')(relation, privilege, grantees)) }}
{%- endmacro %}
{% macro default__get_grant_sql(relation, privilege, grantees) -%}
    grant {{ privilege }} on {{ relation.render() }} to {{ grantees | join(', ') }}
{%- endmacro %}

{% macro get_revoke_sql(relation, privilege, grantees) -%}
    {{ return(adapter.dispatch('get_revoke_sql', 'dbt')(relation, privilege, grantees)) }}
{%- endmacro %}
{% macro default__get_revoke_sql(relation, privilege, grantees) -%}
    {%- set quoted = [] -%}
    {%- for grantee in grantees -%}{%- do quoted.append(adapter.quote(grantee)) -%}{%- endfor -%}
    revoke {{ privilege }} on {{ relation.render() }} from {{ quoted | join(', ') }}
{%- endmacro %}

{#- one statement per privilege, or per privilege and grantee where the engine takes one grantee at a time -#}
{% macro get_dcl_statement_list(relation, grant_config, get_dcl_macro) -%}
    {{ return(adapter.dispatch('get_dcl_statement_list', 'dbt')(relation, grant_config, get_dcl_macro)) }}
{%- endmacro %}
{% macro default__get_dcl_statement_list(relation, grant_config, get_dcl_macro) -%}
    {%- set statements = [] -%}
    {%- set together = support_multiple_grantees_per_dcl_statement() -%}
    {%- for privilege, grantees in grant_config.items() -%}
        {%- if together and grantees -%}
            {%- do statements.append(get_dcl_macro(relation, privilege, grantees)) -%}
        {%- else -%}
            {%- for grantee in grantees -%}{%- do statements.append(get_dcl_macro(relation, privilege, [grantee])) -%}{%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{% macro call_dcl_statements(dcl_statement_list) -%}
    {{ return(adapter.dispatch('call_dcl_statements', 'dbt')(dcl_statement_list)) }}
{%- endmacro %}
{% macro default__call_dcl_statements(dcl_statement_list) -%}
    {% call statement('grants') -%}
        {% for dcl in dcl_statement_list %}{{ dcl }};
        {% endfor %}
    {%- endcall %}
{%- endmacro %}

{#- the SQL of a data test, a unit test and `show` -#}
{% macro get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    {{ adapter.dispatch('get_test_sql', 'dbt')(main_sql, fail_calc, warn_if, error_if, limit) }}
{%- endmacro %}
{% macro default__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    select
      {{ fail_calc }} as failures,
      {{ fail_calc }} {{ warn_if }} as should_warn,
      {{ fail_calc }} {{ error_if }} as should_error
    from (
      {{ main_sql }}
      {{ 'limit ' ~ limit if limit is not none }}
    ) dbt_internal_test
{%- endmacro %}

{% macro get_unit_test_sql(main_sql, expected_fixture_sql, expected_column_names) -%}
    {{ adapter.dispatch('get_unit_test_sql', 'dbt')(main_sql, expected_fixture_sql, expected_column_names) }}
{%- endmacro %}
{% macro default__get_unit_test_sql(main_sql, expected_fixture_sql, expected_column_names) -%}
    {%- set columns = expected_column_names | join(', ') -%}
-- Build actual result given inputs
with dbt_internal_unit_test_actual as (
  select
    {{ columns }}, {{ string_literal('actual') }} as {{ adapter.quote('actual_or_expected') }}
  from (
    {{ main_sql }}
  ) _dbt_internal_unit_test_actual
),
-- Build expected result
dbt_internal_unit_test_expected as (
  select
    {{ columns }}, {{ string_literal('expected') }} as {{ adapter.quote('actual_or_expected') }}
  from (
    {{ expected_fixture_sql }}
  ) _dbt_internal_unit_test_expected
)
-- Union actual and expected results
select * from dbt_internal_unit_test_actual
union all
select * from dbt_internal_unit_test_expected
{%- endmacro %}

{#- a unit test's fixture rows: each must be a mapping -#}
{% macro validate_fixture_rows(rows, row_number) -%}
    {{ return(adapter.dispatch('validate_fixture_rows', 'dbt')(rows, row_number)) }}
{%- endmacro %}
{% macro default__validate_fixture_rows(rows, row_number) -%}{%- endmacro %}

{% macro get_show_sql(compiled_code, sql_header, limit) -%}
    {%- if sql_header is not none -%}{{ sql_header }}{%- endif %}
    {{ get_limit_subquery_sql(compiled_code, limit) }}
{%- endmacro %}
{% macro get_limit_subquery_sql(sql, limit) -%}
    {{ adapter.dispatch('get_limit_sql', 'dbt')(sql, limit) }}
{%- endmacro %}
{% macro default__get_limit_sql(sql, limit) -%}
    {{ sql }}
    {% if limit is not none -%}
    limit {{ limit }}
    {%- endif -%}
{%- endmacro %}

{#- freshness of a source: max(loaded_at_field) and the time now, as load_result() gives them -#}
{% macro collect_freshness(source, loaded_at_field, filter) -%}
    {{ return(adapter.dispatch('collect_freshness', 'dbt')(source, loaded_at_field, filter)) }}
{%- endmacro %}
{% macro default__collect_freshness(source, loaded_at_field, filter) -%}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
        select
          max({{ loaded_at_field }}) as max_loaded_at,
          {{ current_timestamp() }} as snapshotted_at
        from {{ source }}
        {% if filter %}where {{ filter }}{% endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{%- endmacro %}

{#- hooks and statements -#}
{% macro make_hook_config(sql, inside_transaction) -%}
    {{ tojson({'sql': sql, 'transaction': inside_transaction}) }}
{%- endmacro %}

{#- a `call` block whose SQL is not run: it is stored as the result `name` (and written out for `main`) -#}
{% macro noop_statement(name=None, message=None, code=None, rows_affected=None, res=None) -%}
    {%- set sql = caller() -%}
    {%- if name is not none -%}
        {{ store_raw_result(name, message=message, code=code, rows_affected=rows_affected, agate_table=res) }}
    {%- endif -%}
{%- endmacro %}

{% macro get_true_sql() -%}{{ adapter.dispatch('get_true_sql', 'dbt')() }}{%- endmacro %}
{% macro default__get_true_sql() -%}{{ return('TRUE') }}{%- endmacro %}

{#- dates of a partition range ('20240101' or '20240101,20240105') -#}
{% macro convert_datetime(date_str, date_fmt) -%}
    {%- set message = "The provided partition date '" ~ date_str ~ "' does not match the expected format '" ~ date_fmt ~ "'" -%}
    {{ return(try_or_compiler_error(message, modules.datetime.datetime.strptime, date_str.strip(), date_fmt)) }}
{%- endmacro %}
{% macro dates_in_range(start_date_str, end_date_str=none, in_fmt='%Y%m%d', out_fmt='%Y%m%d') -%}
    {%- set start_date = convert_datetime(start_date_str, in_fmt) -%}
    {%- set end_date = convert_datetime(start_date_str if end_date_str is none else end_date_str, in_fmt) -%}
    {%- set days = (end_date - start_date).days -%}
    {%- if days < 0 -%}
        {{ exceptions.raise_compiler_error('Partition start date is after the end date (' ~ start_date ~ ', ' ~ end_date ~ ')') }}
    {%- endif -%}
    {%- set dates = [] -%}
    {%- for offset in range(days + 1) -%}
        {%- set day = start_date + modules.datetime.timedelta(days=offset) -%}
        {%- do dates.append(day.strftime(out_fmt) if out_fmt else day) -%}
    {%- endfor -%}
    {{ return(dates) }}
{%- endmacro %}
{% macro partition_range(raw_partition_date, date_fmt='%Y%m%d') -%}
    {%- set bounds = (raw_partition_date | string).split(',') -%}
    {%- if bounds | length > 2 -%}
        {{ exceptions.raise_compiler_error('Invalid partition time. Expected format: {Start Date}[,{End Date}]. Got: ' ~ raw_partition_date) }}
    {%- endif -%}
    {{ return(dates_in_range(bounds[0], bounds[1] if bounds | length == 2 else none, in_fmt=date_fmt)) }}
{%- endmacro %}
{% macro py_current_timestring() -%}
    {{ return(modules.datetime.datetime.now().strftime('%Y%m%d%H%M%S%f')) }}
{%- endmacro %}

{#- seeds: the column list and the SQL a seed run shows -#}
{% macro get_binding_char() -%}{{ adapter.dispatch('get_binding_char', 'dbt')() }}{%- endmacro %}
{% macro default__get_binding_char() -%}{{ return('%s') }}{%- endmacro %}

{% macro get_batch_size() -%}{{ return(adapter.dispatch('get_batch_size', 'dbt')()) }}{%- endmacro %}
{% macro default__get_batch_size() -%}{{ return(10000) }}{%- endmacro %}

{% macro get_seed_column_quoted_csv(model, column_names) -%}
    {%- set quote_columns = model['config'].get('quote_columns', None) -%}
    {%- set quoted = [] -%}
    {%- for name in column_names -%}{%- do quoted.append(adapter.quote_seed_column(name, quote_columns)) -%}{%- endfor -%}
    {{ return(quoted | join(', ')) }}
{%- endmacro %}

{% macro get_csv_sql(create_or_truncate_sql, insert_sql) -%}
    {{ adapter.dispatch('get_csv_sql', 'dbt')(create_or_truncate_sql, insert_sql) }}
{%- endmacro %}
{% macro default__get_csv_sql(create_or_truncate_sql, insert_sql) -%}
    {{ create_or_truncate_sql }};
    -- dbt seed --
    {{ insert_sql }}
{%- endmacro %}
