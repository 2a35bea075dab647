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
-- Year-to-date totals of flow indicators, one row per geography × indicator × year × month for
-- which the reports add up from 1 January to that month's end without gaps or overlaps.
-- Reports come as months (当期), quarters, half years, years or year-to-date ranges (累计); a
-- chain of consecutive ranges starting in January gives the total, so nothing is counted twice.
-- Where several chains reach the same month, the one made of the fewest reports wins (a
-- reporter's own year-to-date figure beats the sum of its months).
-- A year reported month by month only (nearly all of them) has one chain, its months: a running
-- sum gives it. Only the other years go through the recursive search, whose working set DuckDB
-- cannot spill to disk (at 9 million monthly rows it needed more than 1 GB; docs/performance.md).
with recursive actuals as (
    select * from {{ only_changed_pairs(ref('int_actuals_known')) }}
),

indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

ranges as (
    select
        actuals.geo_id,
        actuals.indicator_id,
        year(actuals.period_start) as period_year,
        month(actuals.period_start) as first_month,
        month(actuals.period_end) as last_month,
        actuals.value
    from actuals
    inner join indicators on actuals.indicator_id = indicators.indicator_id
    where
        indicators.indicator_kind = 'flow'
        and year(actuals.period_start) = year(actuals.period_end)
        and day(actuals.period_start) = 1
        and actuals.period_end = last_day(actuals.period_end)
),

year_shapes as (
    select
        geo_id,
        indicator_id,
        period_year,
        bool_and(first_month = last_month) as is_months_only
    from ranges
    group by geo_id, indicator_id, period_year
),

monthly_chains as (
    select
        ranges.geo_id,
        ranges.indicator_id,
        ranges.period_year,
        ranges.last_month as month_of_year,
        round(sum(ranges.value) over months_so_far, 9) as ytd_value,
        count(*) over months_so_far as report_count
    from ranges
    inner join year_shapes
        on
            ranges.geo_id = year_shapes.geo_id
            and ranges.indicator_id = year_shapes.indicator_id
            and ranges.period_year = year_shapes.period_year
    where year_shapes.is_months_only
    window
        months_so_far as (
            partition by ranges.geo_id, ranges.indicator_id, ranges.period_year
            order by ranges.first_month
        )
    -- Months 1..m all reported: no gap before this month.
    qualify report_count = month_of_year
),

mixed_ranges as (
    select ranges.*
    from ranges
    inner join year_shapes
        on
            ranges.geo_id = year_shapes.geo_id
            and ranges.indicator_id = year_shapes.indicator_id
            and ranges.period_year = year_shapes.period_year
    where not year_shapes.is_months_only
),

chains as (
    select
        geo_id,
        indicator_id,
        period_year,
        last_month as month_of_year,
        round(value, 9) as ytd_value,
        1 as report_count
    from mixed_ranges
    where first_month = 1
    union
    select
        chains.geo_id,
        chains.indicator_id,
        chains.period_year,
        ranges.last_month as month_of_year,
        round(chains.ytd_value + ranges.value, 9) as ytd_value,
        chains.report_count + 1 as report_count
    from chains
    inner join mixed_ranges as ranges
        on
            chains.geo_id = ranges.geo_id
            and chains.indicator_id = ranges.indicator_id
            and chains.period_year = ranges.period_year
            and ranges.first_month = chains.month_of_year + 1
),

best_chains as (
    -- A year of months has one chain per month already; only the searched years rank theirs.
    select * from chains
    qualify row_number() over (
        partition by geo_id, indicator_id, period_year, month_of_year
        order by report_count asc, ytd_value desc
    ) = 1
),

all_chains as (
    select * from monthly_chains
    union all
    select * from best_chains
),

final as (
    select
        geo_id,
        indicator_id,
        period_year,
        month_of_year,
        last_day(make_date(period_year, month_of_year, 1)) as data_through_date,
        ytd_value,
        report_count
    from all_chains
)

select * from final
