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
-- Expected versus received reports. The list of missing reports is one query away:
--   select * from marts.fct_report_completeness where report_status = 'missing'
with expected as (
    select * from {{ only_changed_pairs(ref('int_expected_reports')) }}
),

revisions as (
    select * from {{ only_changed_pairs(ref('int_actuals_revisioned')) }}
),

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

known_reports as (
    select
        geo_id,
        indicator_id,
        period_start,
        period_end,
        coalesce(reported_on, cast(loaded_at as date)) as received_on,
        source_file
    from revisions
    where coalesce(reported_on, cast(loaded_at as date)) <= {{ as_of_date() }}
),

received as (
    -- A report covers an expected period when it ends with it and starts no later (a
    -- year-to-date figure covers its last month); for a stock, any level at the period's end does.
    select
        expected.geo_id,
        expected.indicator_id,
        expected.period_start,
        min(known_reports.received_on) as first_received_on,
        arg_min(known_reports.source_file, known_reports.received_on) as first_source_file,
        count(*) as reports_received
    from expected
    inner join indicators on expected.indicator_id = indicators.indicator_id
    inner join known_reports
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
        expected.geo_id,
        expected.indicator_id,
        expected.plan_ids,
        expected.reporting_frequency,
        expected.period_start,
        expected.period_end,
        expected.report_due_date,
        received.first_received_on is not null as is_received,
        received.first_received_on,
        received.first_source_file,
        coalesce(received.reports_received, 0) as reports_received,
        case
            when received.first_received_on is not null
                then greatest(date_diff('day', expected.report_due_date, received.first_received_on), 0)
            when expected.report_due_date < {{ as_of_date() }}
                then date_diff('day', expected.report_due_date, {{ as_of_date() }})
        end as days_late,
        case
            when received.first_received_on <= expected.report_due_date then 'on_time'
            when received.first_received_on is not null then 'late'
            when expected.report_due_date < {{ as_of_date() }} then 'missing'
            else 'not_yet_due'
        end as report_status
    from expected
    left join received
        on
            expected.geo_id = received.geo_id
            and expected.indicator_id = received.indicator_id
            and expected.period_start = received.period_start
)

select * from final
