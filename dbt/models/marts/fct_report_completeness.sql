{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook=["{{ delete_changed_pairs() }}", "{{ restate_not_received() }}"],
    )
}}
-- Incremental by geography × indicator (macros/incremental.sql); when the as-of date moved, the
-- reports of other pairs not received are restated at it (more days late, or missing), and the
-- periods ended since are added for every pair.
-- depends_on: {{ ref('stg_progress__rows') }}
-- Expected versus received reports. The list of missing reports is one query away:
--   select * from marts.fct_report_completeness where report_status = 'missing'
with expected as (
    select * from {{ changed_pairs_and_new_periods(ref('int_expected_reports')) }}
),

revisions as not materialized (
    -- Read twice (its files, its reports): scanned for each rather than kept aside whole.
    select * from {{ changed_pairs_and_new_periods(ref('int_actuals_revisioned')) }}
),

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

report_files as (
    select distinct source_file from revisions
),

file_order as (
    -- Each file's place in name order, to tell apart reports received the same day: the first
    -- by name is named, whatever order the rows come in (a key of date and name cost 2.5 s at
    -- 9M reports, a number 0.3 s).
    select
        source_file,
        row_number() over (order by source_file) as file_rank
    from report_files
),

known_reports as (
    select
        revisions.geo_id,
        revisions.indicator_id,
        revisions.period_start,
        revisions.period_end,
        {{ known_on('revisions.reported_on', 'revisions.loaded_at') }} as received_on,
        revisions.source_file,
        file_order.file_rank
    from revisions
    inner join file_order on revisions.source_file = file_order.source_file
    where {{ known_on('revisions.reported_on', 'revisions.loaded_at') }} <= {{ as_of_date() }}
),

received as (
    -- A report covers an expected period when it ends with it and starts no later (a
    -- year-to-date figure covers its last month); for a stock, any level at the period's end does.
    -- One pass: each expected period with what covers it (its other columns ride along), rather
    -- than matching, grouping and joining the groups back to 10M expected rows.
    select
        expected.geo_id,
        expected.indicator_id,
        expected.period_start,
        any_value(expected.plan_ids) as plan_ids,
        any_value(expected.reporting_frequency) as reporting_frequency,
        any_value(expected.period_end) as period_end,
        any_value(expected.report_due_date) as report_due_date,
        min(known_reports.received_on) as first_received_on,
        -- Of reports received the same day, the first file by name (the same data, the same file).
        arg_min(
            known_reports.source_file,
            date_diff('day', date '2000-01-01', known_reports.received_on) * 1000000000
            + known_reports.file_rank
        ) as first_source_file,
        count(known_reports.received_on) as reports_received
    from expected
    inner join indicators on expected.indicator_id = indicators.indicator_id
    left join known_reports
        on
            expected.geo_id = known_reports.geo_id
            and expected.indicator_id = known_reports.indicator_id
            and expected.period_end = known_reports.period_end
            and (
                indicators.indicator_kind = 'stock'
                or expected.period_start >= known_reports.period_start
            )
    group by expected.geo_id, expected.indicator_id, expected.period_start
),

final as (
    select
        geo_id,
        indicator_id,
        plan_ids,
        reporting_frequency,
        period_start,
        period_end,
        report_due_date,
        first_received_on is not null as is_received,
        first_received_on,
        first_source_file,
        reports_received,
        {{ report_days_late('report_due_date', 'first_received_on') }} as days_late,
        {{ report_status('report_due_date', 'first_received_on') }} as report_status
    from received
)

select * from final
