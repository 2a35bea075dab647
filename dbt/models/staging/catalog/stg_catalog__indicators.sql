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
        cast(plausible_min as double) as plausible_min,
        cast(plausible_max as double) as plausible_max,
        aliases,
        description,
        cast(reporting_frequency as varchar) as reporting_frequency,
        cast(reported_by as varchar) as reported_by,
        source_file,
        source_path
    from source
)

select * from renamed
