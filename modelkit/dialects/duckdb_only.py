"""Functions DuckDB has that a target dialect does not, among those sqlglot writes under their DuckDB name.

For ``postgres``: the functions of DuckDB 2.0 (``duckdb_functions()``) that PostgreSQL 15 does not have
(no such name in ``pg_catalog.pg_proc``) and that sqlglot, translating from DuckDB to PostgreSQL, leaves
as they are. Left out: names that are SQL syntax in PostgreSQL rather than functions (``greatest``,
``nullif``, ``trim``...), the SQL/JSON constructors of PostgreSQL 16 and later (``json_array``...),
spatial ``st_*`` names (PostGIS has its own), collations and DuckDB's system functions, and the
names later PostgreSQL versions added (``array_sort``, ``uuidv7``, ``gamma``... in 16 to 18), which
a newer server runs; ``any_value`` is rewritten before this list is read.
``tests/test_dialect_postgres.py`` checks the list against a real PostgreSQL server.
"""

from __future__ import annotations

DUCKDB_ONLY: dict[str, frozenset[str]] = {
    "postgres": frozenset(
        """
    add add_grammar_extension add_parquet_key aggregate ago alias approx_quantile approx_top_k arbitrary
    arg_max arg_max_null arg_max_nulls_last arg_min arg_min_null arg_min_nulls_last array_aggr array_aggregate
    array_apply array_cosine_distance array_cosine_similarity array_cross_product array_distance
    array_distinct array_dot_product array_extract array_grade_up array_has_any array_indexof
    array_inner_product array_intersect array_negative_dot_product array_negative_inner_product array_pop_back
    array_pop_front array_push_back array_push_front array_reduce array_resize array_reverse_sort array_select
    array_slice array_to_string_comma_default array_transform array_unique array_value array_where array_zip
    assert_true bar base64 bin binom bit_position bitstring bitstring_agg bitstring_byte_comparable
    can_cast_implicitly cast_to_type century checkpoint collations combine combine_aggr constant_or_null
    contains copy_database count_star create_external_resource create_sort_key current_connection_id
    current_localtime current_query_id current_transaction_id damerau_levenshtein database_list database_size
    date_sub datepart datesub dayname days_in_month decade decimal_average decimal_division
    deregister_external_resource destroy_external_resource divide element_at ends_with entropy enum_code
    enum_range_boundary epoch_ns epoch_us equi_width_bins era error even extension_versions favg fdiv fill
    finalize first flatten fmod force_checkpoint format_bytes format_pg_type formatreadabledecimalsize
    formatreadablesize from_base64 from_binary from_json from_json_strict fsum functions geomean
    geometric_mean get_block_size get_current_timestamp get_type getvariable glob grade_up
    greatest_common_divisor hamming hash hex histogram histogram_exact histogram_values
    hive_partition_component hour ilike_escape import_database in_search_path index_key invoke
    is_histogram_other_bin isoyear jaccard jaro_similarity json_contains json_deep_merge json_group_array
    json_group_object json_group_structure json_insert json_keys json_merge_patch json_merge_patch_diff
    json_normalize json_pretty json_quote json_remove json_replace json_set json_structure json_transform
    json_transform_strict json_tree json_type json_valid julian kahan_sum kurtosis kurtosis_pop last
    least_common_multiple left_grapheme length_grapheme levenshtein list_aggr list_aggregate list_any_value
    list_apply list_approx_count_distinct list_avg list_bit_and list_bit_or list_bit_xor list_bool_and
    list_bool_or list_cat list_cosine_similarity list_count list_dot_product list_element list_entropy
    list_extract list_first list_grade_up list_has_all list_histogram list_indexof list_inner_product
    list_intersect list_kurtosis list_kurtosis_pop list_last list_mad list_median list_mode
    list_negative_dot_product list_negative_inner_product list_pack list_position list_product list_reduce
    list_resize list_reverse list_reverse_sort list_select list_sem list_skewness list_slice list_sort
    list_stddev_pop list_stddev_samp list_string_agg list_sum list_unique list_var_pop list_var_samp
    list_where list_zip lttb mad make_timestamp_ms make_timestamp_ns make_type map map_concat map_contains
    map_contains_entry map_contains_value map_entries map_extract map_extract_value map_keys map_to_pg_oid
    map_type_id_to_pg_oid map_values md5_number md5_number_lower md5_number_upper mean metadata_info
    microsecond millennium millisecond minute mismatches monthname multiply nanosecond nextafter nfc_normalize
    normalized_interval not_ilike_escape not_like_escape ord parse_dirname parse_dirpath
    parse_duckdb_log_message parse_filename parse_formatted_bytes parse_path path_join platform prefix printf
    product quantile quarter query query_table rank_dense read_blob read_csv read_csv_auto read_duckdb
    read_json read_json_auto read_json_objects read_json_objects_auto read_ndjson read_ndjson_auto
    read_ndjson_objects read_parquet read_single_csv_file read_single_json_file read_single_parquet_file
    read_text reduce regexp_escape regexp_extract regexp_extract_all regexp_full_match
    register_external_resource register_external_resource_type remap_struct remove_grammar_extension
    repeat_row replace_type reservoir_quantile right_grapheme round_even roundbankers second sem seq_scan
    show_databases show_tables show_tables_expanded signbit skewness sleep_ms sniff_csv split stats
    storage_info strip_accents strlen struct_concat struct_contains struct_extract_at struct_has
    struct_indexof struct_insert struct_keys struct_position struct_update struct_values substring_grapheme
    subtract suffix sum_no_overflow sumkahan summary switch table_info timetz_byte_comparable timezone_hour
    timezone_minute to_aggregate_state to_base to_base64 to_binary to_centuries to_days to_decades to_hours
    to_microseconds to_millennia to_milliseconds to_minutes to_months to_quarters to_seconds to_weeks to_years
    truncate_duckdb_logs try_strptime typeof unbin unhex union_extract union_tag union_value unpivot_list
    url_decode url_encode user_agent vector_type verify_parallelism vertex_extract wavg week weekday
    weighted_avg which_secret write_log yearweek
        """.split()
    ),
}
