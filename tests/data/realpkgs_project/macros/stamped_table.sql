{#- A table with a `_stamp` column holding the model's `stamp` config, written after the model's rows. -#}
{% materialization stamped_table, adapter='duckdb' %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set stamp = config.get('stamp', default='none') -%}
  {{ run_hooks(pre_hooks) }}
  {{ drop_relation_if_exists(load_cached_relation(target_relation)) }}
  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, target_relation, "select *, '" ~ stamp ~ "' as _stamp from (" ~ sql ~ ") as _model") }}
  {%- endcall %}
  {{ run_hooks(post_hooks) }}
  {{ adapter.commit() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
