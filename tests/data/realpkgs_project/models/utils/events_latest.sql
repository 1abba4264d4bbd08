{{ dbt_utils.deduplicate(
    relation=ref('raw_events'),
    partition_by='event_id',
    order_by='version desc',
) }}
