with source as (
    select * from {{ source('raw', 'progress_rows') }}
),

-- The file versions withdrawn by the ledger (lib/progress/withdrawals.py, one row per version):
-- their rows count nowhere — not as actuals, not as revisions, not as received reports.
withdrawals as (
    select * from {{ source('raw', 'withdrawals') }}
),

kept as (
    select source.*
    from source
    anti join withdrawals
        on
            source.source_file = withdrawals.source_file
            and source.file_sha256 = withdrawals.file_sha256
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
        source_column,
        file_sha256,
        loaded_at,
        run_id
    from kept
)

select * from renamed
