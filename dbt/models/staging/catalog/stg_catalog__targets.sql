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
        target_value,
        unit,
        due_date,
        cadence,
        flow_window,
        baseline_id,
        source_quote_zh,
        source_quote_en,
        also_stated_zh,
        note,
        source_file,
        source_path
    from source
)

select * from renamed
