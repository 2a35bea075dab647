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
-- One row per reported value (blank cells are "not reported" and are no value), numbered as a
-- revision of its geography × indicator × period: a later report supersedes an earlier one —
-- later reported_on first, then later load, then later file and row. Every revision is kept.
with progress as (
    select * from {{ only_changed_pairs(ref('stg_progress__rows')) }}
),

reported as (
    select *
    from progress
    where is_reported
),

numbered as (
    select
        *,
        row_number() over revisions as revision,
        count(*) over (partition by geo_id, indicator_id, period_start, period_end) as revision_count,
        lead(loaded_at) over revisions as superseded_at
    from reported
    window revisions as (
        partition by geo_id, indicator_id, period_start, period_end
        order by reported_on asc nulls first, loaded_at asc, source_file asc, source_row asc
    )
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
        value_as_reported,
        unit_as_reported,
        revision,
        revision_count,
        revision = revision_count as is_latest,
        reported_on,
        loaded_at,
        superseded_at,
        reporter,
        note,
        source_file,
        sheet,
        source_row,
        file_sha256
    from numbered
)

select * from final
