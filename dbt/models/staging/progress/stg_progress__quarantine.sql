with source as (
    select * from {{ source('dq', 'quarantine') }}
),

renamed as (
    select
        source_file,
        file_sha256,
        sheet,
        source_row,
        column_name,
        reason_code,
        reason,
        raw_record,
        loaded_at,
        run_id
    from source
)

select * from renamed
