{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_pairs() }}",
    )
}}
-- Incremental by geography × indicator (macros/incremental.sql).
-- depends_on: {{ ref('stg_progress__rows') }}
with revisions as (
    select * from {{ only_changed_pairs(ref('int_actuals_revisioned')) }}
),

final as (
    select
        geo_id,
        indicator_id,
        period_start,
        period_end,
        period_grain,
        basis,
        value,
        unit,
        revision,
        is_latest,
        reported_on,
        loaded_at,
        superseded_at,
        value_as_reported,
        unit_as_reported,
        reporter,
        note,
        source_file,
        sheet,
        source_row,
        source_column,
        file_sha256
    from revisions
)

select * from final
