with source as (
    select * from {{ source('raw', 'geographies') }}
),

renamed as (
    select
        geo_id,
        admin_code,
        name_zh,
        name_en,
        level as geo_level,
        parent_geo_id,
        aliases,
        note,
        source_file
    from source
)

select * from renamed
