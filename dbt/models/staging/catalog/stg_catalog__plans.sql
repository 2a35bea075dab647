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
        issuer_zh,
        issuer_en,
        issued_on as issued_date,
        horizon_start as horizon_start_date,
        horizon_end as horizon_end_date,
        baseline_date,
        source_document,
        source_title,
        notes,
        source_file,
        file_sha256,
        loaded_at
    from source
)

select * from renamed
