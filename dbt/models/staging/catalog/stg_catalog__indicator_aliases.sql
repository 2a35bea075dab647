with source as (
    select * from {{ source('raw', 'indicator_aliases') }}
),

renamed as (
    select
        indicator_id,
        alias,
        alias_key
    from source
)

select * from renamed
