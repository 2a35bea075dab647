with source as (
    select * from {{ source('raw', 'units') }}
),

renamed as (
    select
        unit,
        dimension as unit_dimension,
        cast(factor as double) as unit_factor,
        name_en as unit_name_en,
        aliases
    from source
)

select * from renamed
