{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_changed_pairs(also=status_moved_pairs()) }}",
    )
}}
-- Incremental by geography × indicator (macros/incremental.sql), and counted again where the as-of
-- date moved the counts (a report turned missing, a period ended: status_moved_pairs).
-- depends_on: {{ ref('stg_progress__rows') }}
-- The reports expected of each geography × indicator, counted by how they stand, for each set of
-- plans that expect them: what the scorecards add up, kept between builds so that they read a row
-- a pair instead of every expected report (10M at scale).
with completeness as (
    select * from {{ only_changed_pairs(ref('fct_report_completeness'), also=status_moved_pairs()) }}
),

final as (
    select
        geo_id,
        indicator_id,
        plan_ids,
        count(*) as reports_expected,
        count(*) filter (where is_received) as reports_received,
        count(*) filter (where report_status = 'late') as reports_late,
        count(*) filter (where report_status = 'missing') as reports_missing,
        max(first_received_on) as latest_report_received_on
    from completeness
    group by geo_id, indicator_id, plan_ids
)

select * from final
