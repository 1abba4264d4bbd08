
{{
    config({
        "pre_hook": "            insert into {{this.schema}}.on_model_hook (                test_state,                target_dbname,                target_host,                target_name,                target_schema,                target_type,                target_user,                target_pass,                target_threads,                run_started_at,                invocation_id,                thread_id
            ) VALUES (                'start',                '{{ target.dbname }}',                '{{ target.host }}',                '{{ target.name }}',                '{{ target.schema }}',                '{{ target.type }}',                '{{ target.user }}',                '{{ target.get(\"pass\", \"\") }}',                {{ target.threads }},                '{{ run_started_at }}',                '{{ invocation_id }}',                '{{ thread_id }}'        )",
        "post-hook": "            insert into {{this.schema}}.on_model_hook (                test_state,                target_dbname,                target_host,                target_name,                target_schema,                target_type,                target_user,                target_pass,                target_threads,                run_started_at,                invocation_id,                thread_id

            ) VALUES (                'end',                '{{ target.dbname }}',                '{{ target.host }}',                '{{ target.name }}',                '{{ target.schema }}',                '{{ target.type }}',                '{{ target.user }}',                '{{ target.get(\"pass\", \"\") }}',                {{ target.threads }},                '{{ run_started_at }}',                '{{ invocation_id }}',                '{{ thread_id }}'            )"
    })
}}

select 3 as id
