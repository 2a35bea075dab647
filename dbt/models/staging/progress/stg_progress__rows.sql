with source as (
    select * from {{ source('raw', 'progress_rows') }}
),

renamed as (
    select
        geo_id,
        indicator_id,
        period_start,
        period_end,
        period_grain,
        basis,
        value,
        unit,
        value_as_reported,
        unit_as_reported,
        is_reported,
        reported_on,
        reporter,
        note,
        period_raw,
        geography_raw,
        indicator_raw,
        value_raw,
        source_file,
        sheet,
        source_row,
        file_sha256,
        loaded_at,
        run_id
    from source
)

select * from renamed
