{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_moved(changes=changed_months(reported_in_new_months=true)) }}",
    )
}}
-- Incremental by geography × indicator (macros/incremental.sql): the changed pairs and their
-- areas are recomputed from the first month that may have moved (`changed_from`); the months
-- before it stand. An area's roll-up reads its unchanged members' values of those months back
-- from this table. When the as-of date moved into another month, every other pair is carried
-- into the months the spine gained from its last month as built (`carried`).
-- depends_on: {{ ref('stg_progress__rows') }}
-- One row per geography × indicator × month end: where the indicator stands at that date.
--   stock and ratio indicators: the latest level reported with a period ending on or before it;
--   flow indicators: the year-to-date total at the latest month the reports reach in that year.
-- A parent area (the metro area, the corridor) takes its own reported value when there is one;
-- otherwise, for an additive indicator, the sum of its children's values, with how many children
-- reported and the oldest date their data reach. A non-additive indicator never rolls up.
with geographies as (
    select * from {{ ref('stg_catalog__geographies') }}
),

plans as (
    select * from {{ ref('stg_catalog__plans') }}
),

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

{% set month_turn = is_incremental() and as_of_moved(into_another_month=true) %}

{% if is_incremental() %}
batch as (
    {{ moved_pairs(changed_months(reported_in_new_months=true)) }}
),
{% endif %}

actuals as (
    select known_actuals.* from {{ ref('int_actuals_known') }} as known_actuals
    {% if is_incremental() %}
        semi join batch
            on known_actuals.geo_id = batch.geo_id and known_actuals.indicator_id = batch.indicator_id
    {% endif %}
),

ytd as (
    select chained.* from {{ ref('int_flow_ytd_chained') }} as chained
    {% if is_incremental() %}
        semi join batch
            on chained.geo_id = batch.geo_id and chained.indicator_id = batch.indicator_id
    {% endif %}
),

bounds as (
    select
        min(least(horizon_start_date, date_trunc('year', coalesce(baseline_date, horizon_start_date))))
            as first_day,
        least(last_day({{ as_of_date() }}), max(horizon_end_date)) as last_day
    from plans
),

spine as (
    select last_day(cast(months.month_start as date)) as month_end
    from bounds,
        generate_series(
            cast(bounds.first_day as timestamp), cast(bounds.last_day as timestamp), interval 1 month
        ) as months (month_start)
),

keys as (
    select distinct
        actuals.geo_id,
        actuals.indicator_id,
        indicators.indicator_kind
    from actuals
    inner join indicators on actuals.indicator_id = indicators.indicator_id
),

levels as (
    select
        actuals.geo_id,
        actuals.indicator_id,
        actuals.period_end,
        actuals.value
    from actuals
    inner join indicators on actuals.indicator_id = indicators.indicator_id
    where indicators.indicator_kind in ('stock', 'ratio')
    qualify row_number() over (
        partition by actuals.geo_id, actuals.indicator_id, actuals.period_end
        order by actuals.loaded_at desc, actuals.period_start desc
    ) = 1
),

key_months as (
    select
        keys.geo_id,
        keys.indicator_id,
        keys.indicator_kind,
        spine.month_end
    from keys
    cross join spine
),

-- Carry the latest value forward month by month: an equality join on the month end, then
-- last_value(... ignore nulls) over the months. (A sort-based window; an asof join of every
-- geography × indicator × month against all reports did not finish at 9 million rows.)
direct_levels as (
    select
        key_months.geo_id,
        key_months.indicator_id,
        key_months.month_end,
        last_value(levels.value ignore nulls) over carry as value,  -- noqa: RF04
        last_value(levels.period_end ignore nulls) over carry as data_through_date
    from key_months
    left join levels
        on
            key_months.geo_id = levels.geo_id
            and key_months.indicator_id = levels.indicator_id
            and key_months.month_end = levels.period_end
    where key_months.indicator_kind in ('stock', 'ratio')
    window carry as (
        partition by key_months.geo_id, key_months.indicator_id
        order by key_months.month_end
        rows between unbounded preceding and current row
    )
),

-- Year-to-date flows. A year reported month after month with every value known, as nearly all
-- are, needs no carrying: each report stands for its own month, and the year's last report for
-- the months after it, to the year's end. Only the other years (quarters, gaps, a value not
-- known) are carried by the join and window, as the levels above: run over every year, they
-- took 4.8 s at 9M reports, where the reports give the same rows as they are (the model 8.2 →
-- 4.9 s; docs/performance.md).
spine_bounds as (
    select
        min(month_end) as first_month_end,
        max(month_end) as last_month_end
    from spine
),

flow_keys as (
    select
        geo_id,
        indicator_id
    from keys
    where indicator_kind = 'flow'
),

flow_reports as (
    -- The reports the window below would meet: flows, within the spine.
    select
        ytd.geo_id,
        ytd.indicator_id,
        ytd.period_year,
        ytd.data_through_date,
        ytd.ytd_value
    from ytd
    cross join spine_bounds
    semi join flow_keys
        on ytd.geo_id = flow_keys.geo_id and ytd.indicator_id = flow_keys.indicator_id
    where
        ytd.data_through_date
        between spine_bounds.first_month_end and spine_bounds.last_month_end
),

report_years as (
    select
        geo_id,
        indicator_id,
        period_year,
        max(data_through_date) as last_data_through_date,
        count(*) = date_diff('month', min(data_through_date), max(data_through_date)) + 1
        and count(ytd_value) = count(*) as is_every_month
    from flow_reports
    group by geo_id, indicator_id, period_year
),

other_years as (
    select * from report_years
    where not is_every_month
),

every_month_reports as (
    select
        flow_reports.*,
        flow_reports.data_through_date = report_years.last_data_through_date as is_last_of_year
    from flow_reports
    inner join report_years
        on
            flow_reports.geo_id = report_years.geo_id
            and flow_reports.indicator_id = report_years.indicator_id
            and flow_reports.period_year = report_years.period_year
    where report_years.is_every_month
),

direct_ytd_every_month as (
    select
        geo_id,
        indicator_id,
        data_through_date as month_end,
        ytd_value as value,  -- noqa: RF04
        data_through_date
    from every_month_reports
    union all
    select
        every_month_reports.geo_id,
        every_month_reports.indicator_id,
        spine.month_end,
        every_month_reports.ytd_value as value,  -- noqa: RF04
        every_month_reports.data_through_date
    from every_month_reports
    inner join spine
        on
            every_month_reports.period_year = year(spine.month_end)
            and every_month_reports.data_through_date < spine.month_end
    where every_month_reports.is_last_of_year
),

direct_ytd_other as (
    -- Every spine month of those years, carried as the levels are.
    select
        other_years.geo_id,
        other_years.indicator_id,
        spine.month_end,
        last_value(ytd.ytd_value ignore nulls) over carry as value,  -- noqa: RF04
        last_value(ytd.data_through_date ignore nulls) over carry as data_through_date
    from other_years
    inner join spine on other_years.period_year = year(spine.month_end)
    left join ytd
        on
            other_years.geo_id = ytd.geo_id
            and other_years.indicator_id = ytd.indicator_id
            and spine.month_end = ytd.data_through_date
    window carry as (
        partition by other_years.geo_id, other_years.indicator_id, other_years.period_year
        order by spine.month_end
        rows between unbounded preceding and current row
    )
),

direct_ytd as (
    select * from direct_ytd_every_month
    union all
    select * from direct_ytd_other
),

direct as (
    select
        *,
        'reported' as value_source,
        cast(null as bigint) as children_reported
    from direct_levels
    where value is not null
    union all
    select
        *,
        'reported' as value_source,
        cast(null as bigint) as children_reported
    from direct_ytd
    where value is not null
),

{% if month_turn %}
-- Into another month, a pair with no report new to this build and none of a month the spine
-- gained stands in those months where it stood in the last month built: a level carries on; a
-- year-to-date flow carries to its year's end, and has no value in a new year until a report of
-- it comes; an area's sum of members carried alike is the same sum. (The months before stand
-- for every pair.)
carried as (
    select
        kept.geo_id,
        kept.indicator_id,
        spine.month_end,
        kept.value,
        kept.data_through_date,
        kept.value_source,
        kept.children_reported,
        kept.children_expected
    from {{ this }} as kept
    inner join indicators on kept.indicator_id = indicators.indicator_id
    inner join spine
        on
            spine.month_end > kept.month_end
            and (indicators.indicator_kind != 'flow' or year(spine.month_end) = year(kept.month_end))
    anti join batch
        on kept.geo_id = batch.geo_id and kept.indicator_id = batch.indicator_id
    where kept.month_end = (select last_day(as_of_moved_from) from dq.dbt_build_plan)
),
{% endif %}

members as (
    select * from direct
    {% if is_incremental() %}
        -- The areas in the batch also add up their members outside it, as last built.
        union all
        select
            kept.geo_id,
            kept.indicator_id,
            kept.month_end,
            kept.value,
            kept.data_through_date,
            kept.value_source,
            kept.children_reported
        from {{ this }} as kept
        inner join geographies on kept.geo_id = geographies.geo_id
        inner join batch
            on
                geographies.parent_geo_id = batch.geo_id
                and kept.indicator_id = batch.indicator_id
                and kept.month_end >= batch.changed_from
        anti join batch as rebuilt
            on kept.geo_id = rebuilt.geo_id and kept.indicator_id = rebuilt.indicator_id
        where kept.value_source = 'reported'
    {% endif %}
    {% if month_turn %}
        -- ... and their members carried into the new months.
        union all
        select
            carried.geo_id,
            carried.indicator_id,
            carried.month_end,
            carried.value,
            carried.data_through_date,
            carried.value_source,
            carried.children_reported
        from carried
        inner join geographies on carried.geo_id = geographies.geo_id
        inner join batch
            on
                geographies.parent_geo_id = batch.geo_id
                and carried.indicator_id = batch.indicator_id
                and carried.month_end >= batch.changed_from
        where carried.value_source = 'reported'
    {% endif %}
),

rolled_up as (
    select
        geographies.parent_geo_id as geo_id,
        direct.indicator_id,
        direct.month_end,
        -- Rounded like the year-to-date chains: the order members are added in (it differs between
        -- a full and an incremental build) must not show in the last digit.
        round(sum(direct.value), 9) as value,  -- noqa: RF04
        min(direct.data_through_date) as data_through_date,
        'rolled_up' as value_source,
        count(*) as children_reported
    from members as direct
    inner join geographies on direct.geo_id = geographies.geo_id
    inner join indicators on direct.indicator_id = indicators.indicator_id
    where geographies.parent_geo_id is not null and indicators.is_additive
    group by geographies.parent_geo_id, direct.indicator_id, direct.month_end
),

rolled_up_unreported as (
    -- An area's own report wins over its members' sum. The few rolled-up rows are matched
    -- against the reported ones, rather than ranking all 9M rows by source (6.6 s at scale).
    select rolled_up.*
    from rolled_up
    anti join direct
        on
            rolled_up.geo_id = direct.geo_id
            and rolled_up.indicator_id = direct.indicator_id
            and rolled_up.month_end = direct.month_end
),

child_counts as (
    select
        parent_geo_id as geo_id,
        count(*) as children_expected
    from geographies
    where parent_geo_id is not null
    group by parent_geo_id
),

final as (
    select
        geo_id,
        indicator_id,
        month_end,
        value,
        data_through_date,
        value_source,
        children_reported,
        cast(null as bigint) as children_expected
    from direct
    union all
    select
        rolled_up_unreported.geo_id,
        rolled_up_unreported.indicator_id,
        rolled_up_unreported.month_end,
        rolled_up_unreported.value,
        rolled_up_unreported.data_through_date,
        rolled_up_unreported.value_source,
        rolled_up_unreported.children_reported,
        child_counts.children_expected
    from rolled_up_unreported
    left join child_counts on rolled_up_unreported.geo_id = child_counts.geo_id
)

{% if is_incremental() %}
    -- The months that may have moved; an area's are summed from its members' of those months.
    select final.*
    from final
    inner join batch
        on
            final.geo_id = batch.geo_id
            and final.indicator_id = batch.indicator_id
            and final.month_end >= batch.changed_from
    {% if month_turn %}
        union all
        select * from carried
    {% endif %}
{% else %}
    select * from final
{% endif %}
