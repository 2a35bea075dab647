-- One row per target, with everything the status rules need resolved once: the indicator's kind
-- and direction, the plan's horizon, the baseline, and how an actual is measured (`measure`):
--   level         stock and ratio indicators: the latest reported value
--   cumulative    flow, by_due_date, counting from the plan start (e.g. 30 new platforms by 2028)
--   year_to_date  flow per_year, or by_due_date with flow_window calendar_year: the year's own sum
-- and where the straight expected path starts (`path_start_value`): the baseline, or zero for a
-- cumulative count of new things, or unknown when a level target has no baseline.
with targets as (
    select * from {{ ref('stg_catalog__targets') }}
),

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

plans as (
    select * from {{ ref('stg_catalog__plans') }}
),

baselines as (
    select * from {{ ref('stg_catalog__baselines') }}
),

joined as (
    select
        targets.*,
        indicators.indicator_kind,
        indicators.good_direction,
        indicators.is_additive,
        indicators.reporting_frequency,
        indicators.reported_by,
        plans.horizon_start_date,
        plans.horizon_end_date,
        baselines.baseline_value,
        baselines.baseline_date,
        baselines.baseline_qualifier,
        case
            when indicators.indicator_kind in ('stock', 'ratio') then 'level'
            when targets.cadence = 'per_year' then 'year_to_date'
            when targets.flow_window = 'calendar_year' then 'year_to_date'
            else 'cumulative'
        end as measure
    from targets
    inner join indicators on targets.indicator_id = indicators.indicator_id
    inner join plans on targets.plan_id = plans.plan_id
    left join baselines on targets.baseline_id = baselines.baseline_id
),

final as (
    select
        target_id,
        plan_id,
        action_id,
        indicator_id,
        geo_id,
        comparator,
        target_value,
        unit,
        due_date,
        cadence,
        flow_window,
        baseline_id,
        source_quote_zh,
        source_quote_en,
        also_stated_zh,
        note,
        part_of_target_id,
        source_document,
        source_file,
        source_path,
        indicator_kind,
        good_direction,
        is_additive,
        reporting_frequency,
        reported_by,
        horizon_start_date,
        horizon_end_date,
        baseline_value,
        baseline_date,
        baseline_qualifier,
        measure,
        case
            when measure = 'cumulative' then 0
            when measure = 'year_to_date' and cadence = 'per_year' then 0
            else baseline_value
        end as path_start_value,
        coalesce(
            flow_window,
            case when indicator_kind = 'flow' and cadence = 'by_due_date' then 'since_plan_start' end,
            case when indicator_kind = 'flow' then 'calendar_year' end
        ) as resolved_flow_window
    from joined
)

select * from final
