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
-- A year reported month by month only (nearly all of them) has one chain, its months: the sum
-- of its months so far gives it. Only the other years go through the recursive search, whose
-- working set DuckDB cannot spill to disk (at 9 million monthly rows it needed more than 1 GB;
-- docs/performance.md).
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

month_values as (
    -- A year reported month by month only (year_shapes' is_months_only): its twelve months side
    -- by side, how many reports each (one at most) and their value.
    select
        geo_id,
        indicator_id,
        period_year,
        [
            {%- for month in range(1, 13) %}
                count(*) filter (where first_month = {{ month }}){{ "," if not loop.last }}
            {%- endfor %}
        ] as month_reports,
        [
            {%- for month in range(1, 13) %}
                sum(value) filter (where first_month = {{ month }}){{ "," if not loop.last }}
            {%- endfor %}
        ] as month_values
    from ranges
    group by geo_id, indicator_id, period_year
    having bool_and(first_month = last_month)
),

monthly_chains as (
    -- Each month reported with every month before it: the sum of the year's months so far. One
    -- aggregate per year instead of a running sum over every month, a window sorting all 9M rows
    -- (3.9 → 1.4 s at 9M reports, same rows).
    select
        month_values.geo_id,
        month_values.indicator_id,
        month_values.period_year,
        months_of_year.month_of_year,
        round(list_sum(month_values.month_values[1:months_of_year.month_of_year]), 9)
            as ytd_value,
        months_of_year.month_of_year as report_count
    from month_values
    cross join range(1, 13) as months_of_year (month_of_year)
    -- Months 1..m all reported (a month has one report at most): no gap before this month.
    where
        list_sum(month_values.month_reports[1:months_of_year.month_of_year])
        = months_of_year.month_of_year
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
