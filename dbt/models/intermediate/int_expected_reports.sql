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
-- first plan month to the last period already ended at the as-of date (up to the due date).
-- Who reports: the target's own geography, or, when its indicator is additive and the geography
-- has children (the metro area, the corridor), each child, unless the indicator is reported_by
-- the area itself. How often: the indicator's
-- reporting_frequency, by default monthly for flows, quarterly for stocks, yearly for ratios.
-- A report is due `report_due_days` (dbt variable) after its period ends.
with targets as (
    select * from {{ ref('int_targets_resolved') }}
),

indicators as (
    select * from {{ ref('stg_catalog__indicators') }}
),

geographies as (
    select * from {{ ref('stg_catalog__geographies') }}
),

frequencies as (
    select
        indicator_id,
        coalesce(min(reported_by), 'members') as reported_by,
        coalesce(
            min(reporting_frequency),
            case min(indicator_kind) when 'flow' then 'month' when 'stock' then 'quarter' else 'year' end
        ) as reporting_frequency
    from indicators
    group by indicator_id
),

reporters as (
    select
        coalesce(children.geo_id, targets.geo_id) as geo_id,
        targets.indicator_id,
        targets.plan_id,
        targets.horizon_start_date,
        targets.due_date
    from targets
    inner join frequencies on targets.indicator_id = frequencies.indicator_id
    left join geographies as children
        on
            targets.geo_id = children.parent_geo_id
            and targets.is_additive
            and frequencies.reported_by = 'members'
),

spans as (
    select
        reporters.geo_id,
        reporters.indicator_id,
        frequencies.reporting_frequency,
        string_agg(distinct reporters.plan_id, ' | ' order by reporters.plan_id) as plan_ids,
        min(reporters.horizon_start_date) as first_day,
        least(max(reporters.due_date), {{ as_of_date() }}) as last_day
    from reporters
    inner join frequencies on reporters.indicator_id = frequencies.indicator_id
    group by reporters.geo_id, reporters.indicator_id, frequencies.reporting_frequency
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
            + case spans.reporting_frequency
                when 'month' then interval 1 month
                when 'quarter' then interval 3 month
                when 'half_year' then interval 6 month
                else interval 12 month
            end
            - interval 1 day
            as date
        ) as period_end
    from spans,
        generate_series(
            cast(date_trunc('year', spans.first_day) as timestamp),
            cast(spans.last_day as timestamp),
            case spans.reporting_frequency
                when 'month' then interval 1 month
                when 'quarter' then interval 3 month
                when 'half_year' then interval 6 month
                else interval 12 month
            end
        ) as series (period_start)
    where cast(series.period_start as date) >= date_trunc('month', spans.first_day)
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
