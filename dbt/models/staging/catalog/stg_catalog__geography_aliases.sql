with source as (
    select * from {{ source('raw', 'geography_aliases') }}
),

renamed as (
    select
        geo_id,
        alias,
        alias_key
    from source
)

select * from renamed
