with source as (
    select * from {{ source('raw', 'plan_geographies') }}
),

renamed as (
    select
        plan_id,
        geo_id,
        role as geo_role,
        source_file,
        source_path
    from source
)

select * from renamed
