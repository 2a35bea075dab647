with source as (
    select * from {{ source('raw', 'file_manifest') }}
),

renamed as (
    select
        source_file,
        file_sha256,
        file_size,
        file_modified_at,
        file_type,
        encoding,
        sheets,
        header_row,
        status as file_status,
        rows_in,
        rows_loaded,
        rows_quarantined,
        reason as rejection_reason,
        loaded_at,
        run_id
    from source
)

select * from renamed
