
-- case: get_quoted_csv
"id", "Name"
-- case: get_merge_sql
-- back compat for old kwarg name
  
  

    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
                
            
        
        ON (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: get_merge_sql_list_key
-- back compat for old kwarg name
  
  

    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
                
                    
                
                    
                
            
        
        ON (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id) AND (DBT_INTERNAL_SOURCE.name = DBT_INTERNAL_DEST.name) AND (DBT_INTERNAL_DEST.amount > 0)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: get_merge_sql_no_key
-- back compat for old kwarg name
  
  

    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
        
        ON (FALSE)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: dbt_get_merge_sql
-- back compat for old kwarg name
  
  

    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
                
            
        
        ON (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: default_get_merge_sql


    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
                
            
        
        ON (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: default__get_merge_sql_list

        
            
                
                
            
                
                
            
        
    

    

    merge into "db"."sch"."tgt" as DBT_INTERNAL_DEST
        using "db"."sch"."src" as DBT_INTERNAL_SOURCE
        on (DBT_INTERNAL_DEST.amount > 0) and (
                    DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id
                ) and (
                    DBT_INTERNAL_SOURCE.name = DBT_INTERNAL_DEST.name
                )

    
    when matched then update set
        "id" = DBT_INTERNAL_SOURCE."id","name" = DBT_INTERNAL_SOURCE."name","amount" = DBT_INTERNAL_SOURCE."amount"
    

    when not matched then insert
        ("id", "name", "amount")
    values
        ("id", "name", "amount")


-- case: get_merge_unique_key_match
(DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)
-- case: get_merge_update_columns
"id","name"
-- case: get_delete_insert_merge_sql

        
            delete from "db"."sch"."tgt"
            where (
                id) in (
                select (id)
                from "db"."sch"."src"
            );

        
    

    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: get_delete_insert_merge_sql_list

        
            delete from "db"."sch"."tgt" as DBT_INCREMENTAL_TARGET
            using "db"."sch"."src"
            where (
                
                    "db"."sch"."src".id = DBT_INCREMENTAL_TARGET.id
                    and 
                
                    "db"."sch"."src".name = DBT_INCREMENTAL_TARGET.name
                    
                
                
                    
                        and amount > 0
                    
                
            );
        
    

    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: get_delete_insert_merge_sql_no_key


    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: default__get_delete_insert_merge_sql

        delete from "db"."sch"."tgt" as DBT_INTERNAL_DEST
        where (id, name) in (
            select distinct id, name
            from "db"."sch"."src" as DBT_INTERNAL_SOURCE
        )
            
                and amount > 0
            ;

    

    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: get_insert_into_sql
insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )


-- case: get_insert_overwrite_merge_sql


    merge into "db"."sch"."tgt" as DBT_INTERNAL_DEST
        using "db"."sch"."src" as DBT_INTERNAL_SOURCE
        on FALSE

    when not matched by source
         and amount > 0 
        then delete

    when not matched then insert
        ("id", "name", "amount")
    values
        ("id", "name", "amount")


-- case: get_incremental_append_sql
insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )


-- case: get_incremental_delete_insert_sql

        
            delete from "db"."sch"."tgt" as DBT_INCREMENTAL_TARGET
            using "db"."sch"."src"
            where (
                
                    "db"."sch"."src".id = DBT_INCREMENTAL_TARGET.id
                    and 
                
                    "db"."sch"."src".name = DBT_INCREMENTAL_TARGET.name
                    
                
                
                    
                        and DBT_INTERNAL_DEST.amount > 0
                    
                
            );
        
    

    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: get_incremental_merge_sql


    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
                
            
        
        ON (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: get_incremental_merge_sql_list


    MERGE INTO "db"."sch"."tgt" AS DBT_INTERNAL_DEST
        USING "db"."sch"."src" AS DBT_INTERNAL_SOURCE
        
            
                
                    
                
                    
                
            
        
        ON (DBT_INTERNAL_SOURCE.id = DBT_INTERNAL_DEST.id) AND (DBT_INTERNAL_SOURCE.name = DBT_INTERNAL_DEST.name) AND (DBT_INTERNAL_DEST.amount > 0)
    
    WHEN MATCHED
    THEN
        UPDATE BY NAME
    WHEN NOT MATCHED
        
    THEN
        INSERT BY NAME

-- case: get_incremental_default_sql

        
            delete from "db"."sch"."tgt"
            where (
                id) in (
                select (id)
                from "db"."sch"."src"
            );

        
    

    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: get_incremental_insert_overwrite_sql


    merge into "db"."sch"."tgt" as DBT_INTERNAL_DEST
        using "db"."sch"."src" as DBT_INTERNAL_SOURCE
        on FALSE

    when not matched by source
         and DBT_INTERNAL_DEST.amount > 0 
        then delete

    when not matched then insert
        ("id", "name", "amount")
    values
        ("id", "name", "amount")


-- case: strategy_macro

        
            delete from "db"."sch"."tgt"
            where (
                id) in (
                select (id)
                from "db"."sch"."src"
            );

        
    

    insert into "db"."sch"."tgt" ("id", "name", "amount")
    (
        select "id", "name", "amount"
        from "db"."sch"."src"
    )
-- case: incremental_validate_on_schema_change
fail append_new_columns
-- case: diff_columns
name,amount
-- case: diff_column_data_types
[{'column_name': 'id', 'new_type': 'bigint'}]
-- case: get_create_sql_view

  
  create view "db"."sch"."vw" as (
    select 1 as id
  );

-- case: get_create_sql_table

    

    create  table
      "db"."sch"."tgt"
  
    
    as (
      select 1 as id
    );
    
  
-- case: get_create_intermediate_sql
-- get the standard intermediate name
    

    -- drop any pre-existing intermediate
    drop view if exists "db"."sch"."vw__dbt_tmp" cascade;

    
  
  create view "db"."sch"."vw__dbt_tmp" as (
    select 1 as id
  );

-- case: get_drop_sql
drop view if exists "db"."sch"."vw" cascade; drop table if exists "db"."sch"."tgt" cascade
-- case: get_drop_backup_sql
-- get the standard backup name
    

    drop table if exists "db"."sch"."tgt__dbt_backup" cascade
-- case: drop_table
drop table if exists "db"."sch"."tgt" cascade
-- case: drop_view
drop view if exists "db"."sch"."vw" cascade
-- case: get_replace_sql


    

    

    drop view if exists "db"."sch"."vw" cascade;
        
  
  create view "db"."sch"."vw" as (
    select 1 as id
  );

-- case: get_replace_sql_type_change


    

    

    drop table if exists "db"."sch"."tgt" cascade;
        
  
  create view "db"."sch"."tgt" as (
    select 1 as id
  );

-- case: make_intermediate_relation
"db"."sch"."tgt__dbt_tmp" "db"."sch"."tgt__dbt_backup" view
-- case: get_grant_sql
grant select on "db"."sch"."tgt" to alice, bob
-- case: get_revoke_sql
revoke select on "db"."sch"."tgt" from "alice", "bob"
-- case: get_show_grant_sql

    show grants on "db"."sch"."tgt"

-- case: get_dcl_statement_list
grant select on "db"."sch"."tgt" to alice, bob | grant insert on "db"."sch"."tgt" to carol
-- case: copy_grants
True True True False
-- case: get_test_sql
select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) > 10 as should_error
    from (
      select * from t where x is null
      limit 5
    ) dbt_internal_test
-- case: get_test_sql_no_limit
select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      select 1
      
    ) dbt_internal_test
-- case: get_unit_test_sql
-- Build actual result given inputs
with dbt_internal_unit_test_actual as (
  select
    a,b, 'actual' as "actual_or_expected"
  from (
    select 1 as a, 2 as b
  ) _dbt_internal_unit_test_actual
),
-- Build expected result
dbt_internal_unit_test_expected as (
  select
    a, b, 'expected' as "actual_or_expected"
  from (
    select 1 as a, 2 as b
  ) _dbt_internal_unit_test_expected
)
-- Union actual and expected results
select * from dbt_internal_unit_test_actual
union all
select * from dbt_internal_unit_test_expected
-- case: get_show_sql

  
  select 1 as a
  
  limit 5

-- case: get_show_sql_header
set x = 1;
  
  select 1 as a
  

-- case: get_limit_subquery_sql

  select 1 as a
  
  limit 3
-- case: get_true_sql

  TRUE

-- case: get_binding_char
? 10000
-- case: make_hook_config

    {"sql": "select 1", "transaction": false}

-- case: dates_in_range
['20240227', '20240228', '20240229', '20240301', '20240302'] ['01/01']
-- case: partition_range
['20240101', '20240102', '20240103']
-- case: convert_datetime
2024-01-05 00:00:00
-- case: get_seed_column_quoted_csv
"a", "B c"
-- case: get_csv_sql

    
    create table x (a int);
    -- dbt seed --
    insert into x values (1)


-- case: get_create_index_sql_default
None
-- case: can_clone_table
False
-- case: normalize_incremental_predicates
['a > 1'] []
-- case: duckdb_dispatch_temporary_relation
True
-- case: duckdb__snapshot_string_as_time
'2024-01-01 00:00:00'::timestamp
-- case: get_empty_schema_sql
select
    
      
    cast(null as integer)
 as id, 
      
    cast(null as varchar)
 as name
-- case: get_select_subquery

    select id, name
    from (
        select 2 as name, 1 as id
    ) as model_subq
-- case: format_columns
[{'name': 'ID', 'data_type': 'integer', 'formatted': 'id integer'}]
-- case: assert_columns_equivalent
done
-- case: snapshot_hash_arguments
md5(coalesce(cast(id as varchar ), '')
         || '|' || coalesce(cast(updated_at as varchar ), '')
        )
-- case: unique_key_fields

    
        id as dbt_unique_key
    
 | 
    
        
            a as dbt_unique_key_1 ,
        
            b as dbt_unique_key_2
        
    

-- case: unique_key_join_on

    
        s.dbt_unique_key = t.dbt_unique_key
    
 | 
    
        
	    
	    
	    (s.dbt_unique_key_1 = t.dbt_unique_key_1)
 and
        
	    
	    
	    (s.dbt_unique_key_2 = t.dbt_unique_key_2)

        
    

-- case: unique_key_is_null

    
        x.dbt_unique_key is null
    
 | 
    
        x.dbt_unique_key_1 is null
    
 | 
    
        x.dbt_unique_key_1 is not null
    
 | 
    
        x.dbt_unique_key is not null
    

-- case: get_snapshot_table_column_names
{'dbt_valid_to': 'dbt_valid_to', 'dbt_valid_from': 'dbt_valid_from', 'dbt_scd_id': 'dbt_scd_id', 'dbt_updated_at': 'dbt_updated_at', 'dbt_is_deleted': 'dbt_is_deleted'}
-- case: default__snapshot_merge_sql
merge into "db"."sch"."tgt" as DBT_INTERNAL_DEST
    using "db"."sch"."src" as DBT_INTERNAL_SOURCE
    on DBT_INTERNAL_SOURCE.dbt_scd_id = DBT_INTERNAL_DEST.dbt_scd_id

    when matched
     
       and DBT_INTERNAL_DEST.dbt_valid_to is null
     
     and DBT_INTERNAL_SOURCE.dbt_change_type in ('update', 'delete')
        then update
        set dbt_valid_to = DBT_INTERNAL_SOURCE.dbt_valid_to

    when not matched
     and DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'
        then insert ("id", "name")
        values ("id", "name")


-- case: snapshot_merge_sql
update "db"."sch"."tgt" as DBT_INTERNAL_TARGET
    set dbt_valid_to = DBT_INTERNAL_SOURCE.dbt_valid_to
    from "db"."sch"."src" as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.dbt_scd_id::text = DBT_INTERNAL_TARGET.dbt_scd_id::text
      and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update'::text, 'delete'::text)
      
        and DBT_INTERNAL_TARGET.dbt_valid_to is null;
      

    insert into "db"."sch"."tgt" ("id", "name")
    select DBT_INTERNAL_SOURCE."id",DBT_INTERNAL_SOURCE."name"
    from "db"."sch"."src" as DBT_INTERNAL_SOURCE
    where DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'::text;


-- case: build_snapshot_table

    

    select *,
        md5(x) as dbt_scd_id,
        updated_at as dbt_updated_at,
        updated_at as dbt_valid_from,
        
  
  coalesce(nullif(updated_at, updated_at), null)
  as dbt_valid_to
from (
        select 1 as id
    ) sbq



-- case: snapshot_staging_table

    
    with snapshot_query as (

        select 1 as id

    ),

    snapshotted_data as (

        select *, 
    
        id as dbt_unique_key
    

        from "db"."sch"."tgt"
        where
            
                dbt_valid_to is null
            

    ),

    insertions_source_data as (

        select *, 
    
        id as dbt_unique_key
    
,
            updated_at as dbt_updated_at,
            updated_at as dbt_valid_from,
            
  
  coalesce(nullif(updated_at, updated_at), null)
  as dbt_valid_to
,
            md5(x) as dbt_scd_id

        from snapshot_query
    ),

    updates_source_data as (

        select *, 
    
        id as dbt_unique_key
    
,
            updated_at as dbt_updated_at,
            updated_at as dbt_valid_from,
            updated_at as dbt_valid_to

        from snapshot_query
    ),

    deletes_source_data as (

        select *, 
    
        id as dbt_unique_key
    

        from snapshot_query
    ),
    

    insertions as (

        select
            'insert' as dbt_change_type,
            source_data.*

        from insertions_source_data as source_data
        left outer join snapshotted_data
            on 
    
        snapshotted_data.dbt_unique_key = source_data.dbt_unique_key
    

            where 
    
        snapshotted_data.dbt_unique_key is null
    

            or (
    
        snapshotted_data.dbt_unique_key is not null
    
 and (
               (a < b)
            )

        )

    ),

    updates as (

        select
            'update' as dbt_change_type,
            source_data.*,
            snapshotted_data.dbt_scd_id

        from updates_source_data as source_data
        join snapshotted_data
            on 
    
        snapshotted_data.dbt_unique_key = source_data.dbt_unique_key
    

        where (
            (a < b)
        )
    )
    ,
    deletes as (

        select
            'delete' as dbt_change_type,
            source_data.*,
            now()::timestamp as dbt_valid_from,
            now()::timestamp as dbt_updated_at,
            now()::timestamp as dbt_valid_to,
            snapshotted_data.dbt_scd_id
        from snapshotted_data
        left join deletes_source_data as source_data
            on 
    
        snapshotted_data.dbt_unique_key = source_data.dbt_unique_key
    

            where 
    
        source_data.dbt_unique_key is null
    

    )

    select * from insertions
    union all
    select * from updates
    union all
    select * from deletes

-- case: snapshot_staging_table_ignore

    
    with snapshot_query as (

        select 1 as id

    ),

    snapshotted_data as (

        select *, 
    
        
            id as dbt_unique_key_1 ,
        
            name as dbt_unique_key_2
        
    

        from "db"."sch"."tgt"
        where
            
                dbt_valid_to is null
            

    ),

    insertions_source_data as (

        select *, 
    
        
            id as dbt_unique_key_1 ,
        
            name as dbt_unique_key_2
        
    
,
            updated_at as dbt_updated_at,
            updated_at as dbt_valid_from,
            
  
  coalesce(nullif(updated_at, updated_at), null)
  as dbt_valid_to
,
            md5(x) as dbt_scd_id

        from snapshot_query
    ),

    updates_source_data as (

        select *, 
    
        
            id as dbt_unique_key_1 ,
        
            name as dbt_unique_key_2
        
    
,
            updated_at as dbt_updated_at,
            updated_at as dbt_valid_from,
            updated_at as dbt_valid_to

        from snapshot_query
    ),

    insertions as (

        select
            'insert' as dbt_change_type,
            source_data.*

        from insertions_source_data as source_data
        left outer join snapshotted_data
            on 
    
        
	    
	    
	    (snapshotted_data.dbt_unique_key_1 = source_data.dbt_unique_key_1)
 and
        
	    
	    
	    (snapshotted_data.dbt_unique_key_2 = source_data.dbt_unique_key_2)

        
    

            where 
    
        snapshotted_data.dbt_unique_key_1 is null
    

            or (
    
        snapshotted_data.dbt_unique_key_1 is not null
    
 and (
               (a < b)
            )

        )

    ),

    updates as (

        select
            'update' as dbt_change_type,
            source_data.*,
            snapshotted_data.dbt_scd_id

        from updates_source_data as source_data
        join snapshotted_data
            on 
    
        
	    
	    
	    (snapshotted_data.dbt_unique_key_1 = source_data.dbt_unique_key_1)
 and
        
	    
	    
	    (snapshotted_data.dbt_unique_key_2 = source_data.dbt_unique_key_2)

        
    

        where (
            (a < b)
        )
    )

    select * from insertions
    union all
    select * from updates

-- case: get_dbt_valid_to_current

  
  coalesce(nullif(updated_at, updated_at), null)
  as dbt_valid_to

-- case: snapshot_get_time
now()::timestamp
-- case: scd_args
['a', 'b', 'updated_at'] ['id', 'updated_at']
-- case: table_columns_and_constraints

  (
    id integer not null,
    name varchar unique,
    
    primary key (id),
    constraint positive_id check (id > 0)
    )

-- case: end