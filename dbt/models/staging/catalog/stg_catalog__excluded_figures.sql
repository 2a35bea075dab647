with source as (
    select * from {{ source('raw', 'excluded_figures') }}
),

renamed as (
    select
        plan_id,
        quote_zh,
        reason,
        source_file,
        source_path
    from source
)

select * from renamed
