-- One row per declaration: an indicator shared by two plans appears once per plan file.
with source as (
    select * from {{ source('raw', 'indicators') }}
),

renamed as (
    select
        indicator_id,
        plan_id,
        name_zh,
        name_en,
        unit,
        kind as indicator_kind,
        is_additive,
        good_direction,
        plausible_min,
        plausible_max,
        aliases,
        description,
        reporting_frequency,
        reported_by,
        source_file,
        source_path
    from source
)

select * from renamed
