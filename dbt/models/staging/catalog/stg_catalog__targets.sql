with source as (
    select * from {{ source('raw', 'targets') }}
),

renamed as (
    select
        target_id,
        plan_id,
        action_id,
        indicator_id,
        geo_id,
        comparator,
        cast(target_value as double) as target_value,
        unit,
        cast(due_date as date) as due_date,
        cadence,
        cast(flow_window as varchar) as flow_window,
        cast(baseline_id as varchar) as baseline_id,
        source_quote_zh,
        source_quote_en,
        also_stated_zh,
        note,
        cast(part_of as varchar) as part_of_target_id,
        cast(source_document as varchar) as source_document,
        source_file,
        source_path
    from source
)

select * from renamed
