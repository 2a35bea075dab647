with source as (
    select * from {{ source('raw', 'baselines') }}
),

renamed as (
    select
        baseline_id,
        plan_id,
        indicator_id,
        geo_id,
        cast(value as double) as baseline_value,
        value_qualifier as baseline_qualifier,
        cast(as_of_date as date) as baseline_date,
        cast(period_start as date) as baseline_period_start,
        source_quote_zh,
        source_quote_en,
        note,
        source_file,
        source_path
    from source
)

select * from renamed
