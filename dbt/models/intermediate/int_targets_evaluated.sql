-- One row per target × month end, from the plan's first month to the earlier of the due month
-- and the as-of month: the actual (by the target's measure), the expected value on its straight
-- path, pace, status and a projection to the due date.
--
-- Where the path starts: the catalog's baseline; zero for counts of new things (cumulative and
-- per-year targets); otherwise the first reported value (a level target without a baseline is
-- judged from where its first report stood). An annual target (flow_window calendar_year) starts
-- from the baseline year's amount, or the first reported year's annualised amount.
-- Expected is read at the date the data reach (data_through_date): a report for September is
-- judged against where the path stood at the end of September, not against today.
-- A flow due by a date (cumulative or year_to_date, by_due_date) in a year with no report of it
-- yet is judged on the latest year before with one (read_month_end: its December, to which a
-- year-to-date flow carries): in January the latest known total still says where the target
-- stands, as a level's last report does — and still after a whole year without a report, when the
-- data are behind (is_data_behind) as a level's would be. A per-year target has no data in a new
-- year until a report of it.
-- Status, with the tolerance bands of dbt_project.yml (on_track_ratio, at_risk_ratio):
--   no_data    no actual;
--   achieved   the actual already meets the target (per-year: this year's total meets it);
--   on_track   pace >= on_track_ratio;  at_risk  pace >= at_risk_ratio;  off_track  below.
-- Pace is the share of the expected progress made: (actual - start) / (expected - start).
-- A row's deadline is the due date; a per-year target's is each year's end. On the deadline's
-- row (its month) the status is the deadline's outcome once the data reach it (is_final):
-- achieved, or off_track — missed, however close. Passed with the data short of it, the row is
-- judged on pace where the data end until the deadline's reports are due (report_due_days
-- after it: final_reports_due_date), then no_data and is_final_overdue: a deadline is not on
-- track years after it, on a report from before.
-- Before a deadline, data that stop short of the latest period whose report is due
-- (data_due_through_date, by the indicator's reporting_frequency) are behind (is_data_behind):
-- the status stays where the data end — on pace then — and says so, rather than guessing.
-- A path that starts at the data it judges (no baseline: a level's first report, or an annual
-- target's first reported year's own rate) has no progress to measure while the data are still
-- that start: on_track by construction (pace 1), it says so (is_at_path_start) rather than
-- claiming a pace.
with targets as (
    select * from {{ ref('int_targets_resolved') }}
),

measures as (
    -- Only the targets' own geography × indicator pairs: the per-pair firsts below would
    -- otherwise aggregate every member's months too (9M rows at scale, for ~50 targets).
    select all_measures.*
    from {{ ref('int_measures_monthly') }} as all_measures
    semi join targets
        on all_measures.geo_id = targets.geo_id and all_measures.indicator_id = targets.indicator_id
),

target_months as (
    select
        targets.*,
        last_day(cast(months.month_start as date)) as month_end
    from targets,
        generate_series(
            cast(date_trunc('month', targets.horizon_start_date) as timestamp),
            cast(least(targets.due_date, {{ as_of_date() }}) as timestamp),
            interval 1 month
        ) as months (month_start)
),

years_before as (
    -- A flow due by a date: the latest December before each month's year, within the plan, with
    -- a value to read (month_reads: read in a year with no report of it yet). Months of ~50
    -- targets' own pairs at scale: the aggregate is small.
    select
        target_months.target_id,
        target_months.month_end,
        max(year_end.month_end) as read_month_end
    from target_months
    inner join measures as year_end
        on
            target_months.geo_id = year_end.geo_id
            and target_months.indicator_id = year_end.indicator_id
            and target_months.cadence = 'by_due_date'
            and target_months.measure in ('cumulative', 'year_to_date')
            and month(year_end.month_end) = 12
            and year_end.month_end < make_date(year(target_months.month_end), 1, 1)
            and target_months.horizon_start_date <= year_end.month_end
            and year_end.value is not null
            and {{ reads_its_year(
                'target_months.measure', 'year_end.data_through_date', 'year_end.month_end'
            ) }}
    group by target_months.target_id, target_months.month_end
),

month_reads as (
    -- The month of int_measures_monthly each target month is judged on (above).
    select
        target_months.target_id,
        target_months.month_end,
        case
            when this_month.value is not null then coalesce(data_month.month_end, this_month.month_end)
            else years_before.read_month_end
        end as read_month_end
    from target_months
    left join measures as this_month
        on
            target_months.geo_id = this_month.geo_id
            and target_months.indicator_id = this_month.indicator_id
            and target_months.month_end = this_month.month_end
            and {{ reads_its_year(
                'target_months.measure', 'this_month.data_through_date', 'this_month.month_end'
            ) }}
    -- An area's sum of members whose data end at different dates adds each member's latest
    -- value, dated by the earliest: 8 cities' October beside one's September is not a total
    -- through September. It is read instead at the month that earliest date reaches, where every
    -- member's value is of that month (or before, and dated so) — actual and expected then
    -- describe the same date. Members all through the same month read the same sum either way.
    left join measures as data_month
        on
            this_month.value_source = 'rolled_up'
            and this_month.geo_id = data_month.geo_id
            and this_month.indicator_id = data_month.indicator_id
            and last_day(this_month.data_through_date) = data_month.month_end
            and this_month.month_end > data_month.month_end
            and data_month.value is not null
            and {{ reads_its_year(
                'target_months.measure', 'data_month.data_through_date', 'data_month.month_end'
            ) }}
    left join years_before
        on
            target_months.target_id = years_before.target_id
            and target_months.month_end = years_before.month_end
),

first_reports as (
    select
        geo_id,
        indicator_id,
        -- The earliest data; of months with the same (an area's months carry its members'
        -- earliest data date), the first month: a tie left to arg_min picked any of them.
        arg_min(value, (data_through_date, month_end)) as first_value,
        min(data_through_date) as first_date
    from measures
    group by geo_id, indicator_id
),

annual_rates as (
    select
        geo_id,
        indicator_id,
        year(month_end) as period_year,
        arg_max(value / {{ year_fraction('data_through_date') }}, month_end) as annualised_value
    from measures
    where
        year(data_through_date) = year(month_end)
        -- Not an area's month whose members' data end apart (month_reads): its sum is not of
        -- the date it is annualised by. The month that date reaches stands for it.
        and (value_source <> 'rolled_up' or last_day(data_through_date) = month_end)
    group by geo_id, indicator_id, year(month_end)
),

first_annual as (
    select
        geo_id,
        indicator_id,
        arg_min(annualised_value, period_year) as first_annual_value,
        min(period_year) as first_annual_year
    from annual_rates
    group by geo_id, indicator_id
),

observed as (
    select
        target_months.*,
        least(target_months.month_end, {{ as_of_date() }}) as as_of_date,
        month_reads.read_month_end,
        measures.value_source,
        measures.children_reported,
        measures.children_expected,
        case
            when target_months.measure = 'level' then measures.value
            when measures.value is null then null
            when target_months.measure = 'year_to_date' then measures.value
            else measures.value + coalesce({{ plan_years_before(
                'measures', 'target_months.geo_id', 'target_months.indicator_id',
                'target_months.horizon_start_date', 'month_reads.read_month_end'
            ) }}, 0)
        end as actual_value,
        measures.data_through_date,
        case
            when target_months.measure in ('cumulative', 'year_to_date') then target_months.path_start_value
            when target_months.baseline_value is not null then target_months.baseline_value
            else first_reports.first_value
        end as path_start_value_resolved,
        case
            when target_months.measure = 'cumulative'
                then target_months.horizon_start_date - interval 1 day
            -- Each year's own path, from zero on the eve of its 1 January (expected_by's share
            -- of the year), not from the first report's date.
            when target_months.measure = 'year_to_date' and target_months.cadence = 'per_year'
                then make_date(year(target_months.month_end) - 1, 12, 31)
            when target_months.baseline_value is not null
                then coalesce(
                    target_months.baseline_date, target_months.horizon_start_date - interval 1 day
                )
            else first_reports.first_date
        end as path_start_date_resolved,
        case
            when target_months.measure = 'cumulative' then 'zero'
            when target_months.measure = 'year_to_date' and target_months.cadence = 'per_year'
                then 'zero'
            when target_months.baseline_value is not null then 'baseline'
            when target_months.measure = 'year_to_date' and first_annual.first_annual_year is not null
                then 'first_report'
            when first_reports.first_value is not null then 'first_report'
        end as path_start_source,
        case
            when target_months.baseline_value is not null then year(target_months.baseline_date)
            else first_annual.first_annual_year
        end as annual_start_year,
        coalesce(target_months.baseline_value, first_annual.first_annual_value)
            as annual_start_value
    from target_months
    inner join month_reads
        on
            target_months.target_id = month_reads.target_id
            and target_months.month_end = month_reads.month_end
    left join measures
        on
            target_months.geo_id = measures.geo_id
            and target_months.indicator_id = measures.indicator_id
            and month_reads.read_month_end = measures.month_end
    left join first_reports
        on
            target_months.geo_id = first_reports.geo_id
            and target_months.indicator_id = first_reports.indicator_id
            and target_months.due_date >= first_reports.first_date
    left join first_annual
        on
            target_months.geo_id = first_annual.geo_id
            and target_months.indicator_id = first_annual.indicator_id
),

pathed as (
    select
        * exclude (path_start_value, path_start_value_resolved, path_start_date_resolved),
        path_start_value_resolved as path_start_value,
        cast(path_start_date_resolved as date) as path_start_date,
        coalesce(data_through_date, as_of_date) as judged_at
    from observed
),

expected as (
    select
        *,
        {{ expected_by('judged_at') }} as expected_value,
        {{ expected_by('as_of_date') }} as expected_at_as_of
    from pathed
),

paced as (
    select
        *,
        case
            when actual_value is null or expected_value is null then null
            when measure = 'year_to_date' then actual_value / nullif(expected_value, 0)
            when abs(expected_value - path_start_value) < 1e-12
                then
                    case
                        when
                            (good_direction = 'up' and actual_value >= path_start_value)
                            or (good_direction = 'down' and actual_value <= path_start_value)
                            then 1.0
                        else 0.0
                    end
            else (actual_value - path_start_value) / (expected_value - path_start_value)
        end as pace_ratio,
        case
            when actual_value is null or data_through_date is null then null
            when measure = 'year_to_date' and cadence = 'per_year'
                then actual_value / {{ year_fraction('data_through_date') }}
            when measure = 'year_to_date'
                then
                    case
                        when
                            annual_start_year is not null
                            and year(data_through_date) > annual_start_year
                            then
                                actual_value / {{ year_fraction('data_through_date') }}
                                + (
                                    actual_value / {{ year_fraction('data_through_date') }}
                                    - annual_start_value
                                )
                                / (year(data_through_date) - annual_start_year)
                                * (year(due_date) - year(data_through_date))
                        else actual_value / {{ year_fraction('data_through_date') }}
                    end
            when path_start_value is null or data_through_date <= path_start_date then null
            else
                path_start_value + (actual_value - path_start_value)
                * date_diff('day', path_start_date, due_date)
                / date_diff('day', path_start_date, data_through_date)
        end as projected_value
    from expected
),

deadlines as (
    select
        *,
        case
            when cadence = 'per_year' then least(due_date, make_date(year(month_end), 12, 31))
            else due_date
        end as deadline_date
    from paced
),

finals as (
    select
        *,
        coalesce(
            month_end >= deadline_date and data_through_date >= deadline_date, false
        ) as is_final,
        {{ report_due_date('deadline_date') }} as final_reports_due_date
    from deadlines
),

overdue as (
    select
        *,
        -- The deadline's row, its reports due, the data short of it: the outcome is overdue.
        month_end >= deadline_date and not is_final and {{ as_of_date() }} > final_reports_due_date
            as is_final_overdue
    from finals
),

due_through as (
    -- The latest day a reporting period may end on and have its report due (report_due_days
    -- after it, as fct_report_completeness has it) before the row is judged — its as-of date;
    -- a deadline's row, today's, as is_final_overdue — within the period holding the deadline.
    select
        *,
        least(
            case when month_end >= deadline_date then {{ as_of_date() }} else as_of_date end
            - ({{ var('report_due_days') }} + 1),
            {{ reporting_period_end('deadline_date', 'reporting_frequency') }}
        ) as last_due_day
    from overdue
),

due_periods as (
    -- The end of the latest period of the indicator's reporting_frequency that ends by then.
    select
        * exclude (last_due_day),
        {{ reporting_period_start('last_due_day + 1', 'reporting_frequency') }} - 1
            as last_due_period_end
    from due_through
),

behind as (
    -- What the data should reach: that period's end, if the period reaches into the target's
    -- window (from the plan start; a per-year target's row, from its year's start). Data short
    -- of it, or none, are behind (is_data_behind, at the end).
    select
        * exclude (last_due_period_end),
        case
            when
                last_due_period_end
                >= case
                    when cadence = 'per_year'
                        then greatest(horizon_start_date, make_date(year(month_end), 1, 1))
                    else horizon_start_date
                end
                then last_due_period_end
        end as data_due_through_date
    from due_periods
),

stale as (
    -- Data more than stale_after_months behind what is due say nothing of today: a status on
    -- them would stand for years on the last report (the corridor "on track" in 2028 on 2026's
    -- data). No_data then, as a deadline overdue is, so that the office chases the reports —
    -- unless the target was met on them: achieved stands; and a deadline overdue says so
    -- already (is_final_overdue): one reason for a no_data.
    select
        *,
        coalesce(
            date_diff('month', data_through_date, data_due_through_date)
            > {{ var('stale_after_months') }}
            and not {{ meets('actual_value', 'comparator', 'target_value') }}
            and not is_final_overdue,
            false
        ) as is_data_stale
    from behind
),

final as (
    select
        *,
        case
            when actual_value is null then 'no_data'
            when {{ meets('actual_value', 'comparator', 'target_value') }} then 'achieved'
            when is_final then 'off_track'
            when is_final_overdue then 'no_data'
            when is_data_stale then 'no_data'
            when pace_ratio is null then 'no_data'
            when pace_ratio >= {{ var('on_track_ratio') }} then 'on_track'
            when pace_ratio >= {{ var('at_risk_ratio') }} then 'at_risk'
            else 'off_track'
        end as status,
        case
            when actual_value is null then null
            when good_direction = 'down' then target_value / nullif(actual_value, 0)
            else actual_value / target_value
        end as attainment_ratio,
        month_end = max(month_end) over (partition by target_id) as is_latest
    from stale
)

-- The wide pass-through of the target's attributes is this model's purpose.
select
    *,  -- noqa: AM04
    -- The data stop short of what is due (or there are none), for a status the reports owed could
    -- still change: not one achieved, nor a deadline overdue, nor data too far behind to judge
    -- (is_final_overdue, is_data_stale say so already).
    -- Defined here once: the summary, the page, the workbook, explain and scorecard_plan read it.
    coalesce(data_due_through_date > data_through_date, data_due_through_date is not null)
    and status <> 'achieved'
    and not is_final_overdue
    and not is_data_stale as is_data_behind,
    -- On track only by being its own path's start: the expected value is the data's own (a
    -- level's first report where its data end, an annual target's rate in its first reported
    -- year, which the year's expected value is). Defined here once, for every reader.
    coalesce(
        status = 'on_track'
        and path_start_source = 'first_report'
        and case
            when measure = 'year_to_date' then year(judged_at) <= annual_start_year
            else judged_at <= path_start_date
        end,
        false
    ) as is_at_path_start,
    case
        when status = 'achieved' then 'achieved'
        -- The outcome is known: nothing left to project.
        when is_final then status
        -- Nor is anything projected from data too far behind to judge today (is_data_stale).
        when is_data_stale then 'no_data'
        when projected_value is null then 'no_data'
        when {{ meets('projected_value', 'comparator', 'target_value') }} then 'on_track'
        when (
            case
                when good_direction = 'down' then target_value / nullif(projected_value, 0)
                else projected_value / target_value
            end
        ) >= {{ var('at_risk_ratio') }} then 'at_risk'
        else 'off_track'
    end as projected_status
from final
