with source as (
    select * from {{ source('raw', 'plans') }}
),

renamed as (
    select
        plan_id,
        name_zh,
        name_en,
        short_name_zh,
        short_name_en,
        cast(issuer_zh as varchar) as issuer_zh,
        cast(issuer_en as varchar) as issuer_en,
        cast(issued_on as date) as issued_date,
        cast(horizon_start as date) as horizon_start_date,
        cast(horizon_end as date) as horizon_end_date,
        cast(baseline_date as date) as baseline_date,
        source_document,
        source_title,
        notes,
        source_file,
        file_sha256,
        loaded_at
    from source
)

select * from renamed
