{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
-- These rows follow from the catalog and the as-of date alone. A catalog change, or the as-of date
-- going back, makes the pipeline rebuild everything (lib/dbt_state.py); a later as-of date only
-- adds the periods that ended since the last build's (none within a month), which is all an
-- incremental build appends (10M rows at scale, 1.5 s to regenerate whole). The pipeline selects
-- this model for an incremental build only when the as-of date moved into another month.
-- One row per geography × indicator × reporting period that a report is expected for, from the
-- first period reaching into the plan to the last period already ended at the as-of date (up to
-- the period holding the due date).
-- Who reports: the target's own geography, or, when its indicator is additive and the geography
-- has children (the metro area, the corridor), each child, unless the indicator is reported_by
-- the area itself. How often: the indicator's
-- reporting_frequency, by default monthly for flows, quarterly for stocks, yearly for ratios
-- (both resolved in int_indicators_deduplicated).
-- A report is due `report_due_days` (dbt variable) after its period ends.
with targets as (
    select * from {{ ref('int_targets_resolved') }}
),

indicators as (
    -- reporting_frequency and reported_by resolved, defaults included.
    select * from {{ ref('int_indicators_deduplicated') }}
),

geographies as (
    select * from {{ ref('stg_catalog__geographies') }}
),

reporters as (
    select
        coalesce(children.geo_id, targets.geo_id) as geo_id,
        targets.indicator_id,
        targets.plan_id,
        targets.horizon_start_date,
        targets.due_date
    from targets
    inner join indicators on targets.indicator_id = indicators.indicator_id
    left join geographies as children
        on
            targets.geo_id = children.parent_geo_id
            and targets.is_additive
            and indicators.reported_by = 'members'
),

spans as (
    select
        reporters.geo_id,
        reporters.indicator_id,
        indicators.reporting_frequency,
        string_agg(distinct reporters.plan_id, ' | ' order by reporters.plan_id) as plan_ids,
        min(reporters.horizon_start_date) as first_day,
        least(max(reporters.due_date), {{ as_of_date() }}) as last_day
    from reporters
    inner join indicators on reporters.indicator_id = indicators.indicator_id
    group by reporters.geo_id, reporters.indicator_id, indicators.reporting_frequency
),

periods as (
    select
        spans.geo_id,
        spans.indicator_id,
        spans.reporting_frequency,
        spans.plan_ids,
        cast(series.period_start as date) as period_start,
        cast(
            series.period_start
            + {{ reporting_interval('spans.reporting_frequency') }}
            - interval 1 day
            as date
        ) as period_end
    from spans,
        generate_series(
            cast(date_trunc('year', spans.first_day) as timestamp),
            cast(spans.last_day as timestamp),
            {{ reporting_interval('spans.reporting_frequency') }}
        ) as series (period_start)
    -- A period is expected when it reaches into the plan (a plan starting mid-quarter still owes
    -- that quarter's report).
    where
        cast(series.period_start + {{ reporting_interval('spans.reporting_frequency') }} as date)
        > spans.first_day
),

final as (
    select
        *,
        {{ report_due_date('period_end') }} as report_due_date
    from periods
    where period_end < {{ as_of_date() }}
)

select * from final
{% if is_incremental() %}
    where period_end >= (select as_of_moved_from from dq.dbt_build_plan)
{% endif %}
