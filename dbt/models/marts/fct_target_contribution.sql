-- Each member's contribution to an area target (metro area, corridor) at the target's latest row,
-- for additive indicators. Where the catalog gives the member its own part of the target (a
-- 分解目标: a target whose part_of is the area target), the member is judged on it: its expected
-- value and status are that target's own. Otherwise the member's expected value keeps the share
-- it had when the area was first measured (按基数比例分解): area expected × its first share,
-- with the area's tolerance bands, and no_data on a deadline passed whose reports, due since,
-- leave the member's data short of it. A member is read at the month its area
-- is judged on (read_month_end: the latest year's last for a flow due by a date with no report
-- yet this year) and by the same measure: a cumulative actual adds its earlier years' totals.
-- A member whose own data stop short of the reports it owes by then (its area's
-- data_due_through_date, where members report the indicator; its own target's) is behind
-- (is_data_behind), as its area would be; more than stale_after_months behind, its status is
-- no_data (is_data_stale), as its area's would be. A part of a figure the area reports itself
-- (dim_indicator.reported_by 'area'), where the member has no target or figure of its own, is
-- kept — every member × target — but not judged (is_member_judged false): scorecard_geography,
-- the page's heat map and the workbook leave it out.
with evaluated as (
    select * from {{ ref('int_targets_evaluated') }}
),

-- Read twice (a member's month, its earlier years' ends): not materialized, so that each read
-- keeps its own filters (materialized, the 9M rows at scale were copied first: 0.19 → 0.5 s).
measures as not materialized (
    select * from {{ ref('int_measures_monthly') }}
),

geographies as (
    select * from {{ ref('stg_catalog__geographies') }}
),

member_first_shares as (
    -- Each member's first month with both its value and its area's other than zero, and its
    -- share then.
    select * from {{ ref('int_member_first_shares') }}
),

area_targets as (
    select *
    from evaluated
    where is_latest and is_additive
),

member_targets as (
    -- 分解目标: a member's own part of an area target, at its latest row (the same month as its
    -- area's: they share the due date).
    select
        part_of_target_id,
        geo_id,
        target_id as member_target_id,
        target_value as member_target_value,
        expected_value as member_expected_value,
        status as member_status,
        is_data_stale as member_is_data_stale,
        -- A target of its own is reported by the member whoever reports the area's.
        data_due_through_date as member_data_due_through_date
    from evaluated
    where is_latest and part_of_target_id is not null
),

members as (
    select
        area_targets.target_id,
        area_targets.plan_id,
        area_targets.action_id,
        area_targets.indicator_id,
        area_targets.geo_id as area_geo_id,
        geographies.geo_id,
        area_targets.month_end,
        coalesce(area_targets.read_month_end, area_targets.month_end) as read_month_end,
        area_targets.horizon_start_date,
        area_targets.measure,
        area_targets.target_value,
        area_targets.actual_value as area_actual_value,
        area_targets.expected_value as area_expected_value,
        area_targets.path_start_value as area_path_start_value,
        area_targets.path_start_date as area_path_start_date,
        area_targets.deadline_date,
        area_targets.final_reports_due_date,
        -- The same indicator's reports due by the same date: the member's own are due too —
        -- unless the area reports it itself (reported_by 'area'): then no member owes one.
        case
            when area_targets.reported_by = 'members' then area_targets.data_due_through_date
        end as data_due_through_date,
        area_targets.reported_by
    from area_targets
    inner join geographies on area_targets.geo_id = geographies.parent_geo_id
),

member_values as (
    select
        members.*,
        case
            when members.measure = 'cumulative'
                then measures.value + coalesce({{ plan_years_before(
                    'measures', 'members.geo_id', 'members.indicator_id',
                    'members.horizon_start_date', 'members.read_month_end'
                ) }}, 0)
            else measures.value
        end as member_value,
        measures.data_through_date,
        -- Where the member's own data end: past the month it is read at if it sent a report
        -- its area still waits for from another member.
        greatest(measures.data_through_date, own_latest.data_through_date)
            as own_data_through_date,
        -- As its area (int_targets_evaluated.is_final_overdue): a deadline passed, its reports
        -- due since, with the member's data short of it says nothing of the member's part in it.
        coalesce(
            members.month_end >= members.deadline_date
            and measures.data_through_date < members.deadline_date
            and {{ as_of_date() }} > members.final_reports_due_date,
            false
        ) as is_final_overdue,
        -- The member's own data end more than stale_after_months before the reports it owes: as
        -- its area's (int_targets_evaluated.is_data_stale), they say nothing of its part today.
        coalesce(
            date_diff(
                'month', own_data_through_date, members.data_due_through_date
            ) > {{ var('stale_after_months') }},
            false
        ) as is_own_data_stale
    from members
    left join measures
        on
            members.geo_id = measures.geo_id
            and members.indicator_id = measures.indicator_id
            and members.read_month_end = measures.month_end
            and {{ reads_its_year('members.measure', 'measures.data_through_date', 'measures.month_end') }}
    -- Where the member's own data end at its area's month: past the month it is read at when
    -- the area waits for another member's report (int_targets_evaluated reads a sum where its
    -- earliest member's data end) — a member that sent its report is not behind for the other's.
    left join measures as own_latest
        on
            members.geo_id = own_latest.geo_id
            and members.indicator_id = own_latest.indicator_id
            and members.month_end = own_latest.month_end
            and members.month_end > members.read_month_end
),

first_shares as (
    -- The member's share of the area at the area's first month with both values: the member's
    -- first share when that month is not after the target's month — the same as searching each
    -- target's months, without joining every target to every month.
    select
        members.target_id,
        members.geo_id,
        member_first_shares.first_share,
        member_first_shares.first_month
    from members
    inner join member_first_shares
        on
            members.geo_id = member_first_shares.geo_id
            and members.indicator_id = member_first_shares.indicator_id
            and members.read_month_end >= member_first_shares.first_month
),

judged as (
    select
        member_values.target_id,
        member_values.plan_id,
        member_values.action_id,
        member_values.indicator_id,
        member_values.area_geo_id,
        member_values.geo_id,
        member_values.month_end as as_of_date,
        member_values.member_value as actual_value,
        member_values.data_through_date,
        member_values.area_actual_value,
        member_values.member_value / nullif(member_values.area_actual_value, 0) as share_of_area_actual,
        member_values.member_value / member_values.target_value as share_of_target,
        first_shares.first_share,
        first_shares.first_month as first_share_month,
        member_targets.member_target_id,
        member_targets.member_target_value,
        case
            when member_targets.member_target_id is not null then 'member_target'
            else 'first_share'
        end as expected_basis,
        case
            when member_targets.member_target_id is not null
                then member_targets.member_expected_value
            else member_values.area_expected_value * first_shares.first_share
        end as expected_value,
        case
            when member_targets.member_target_id is not null then member_targets.member_status
            when member_values.member_value is null then 'no_data'
            when member_values.area_expected_value is null or first_shares.first_share is null
                then 'no_data'
            when member_values.is_final_overdue then 'no_data'
            when member_values.is_own_data_stale then 'no_data'
            when
                member_values.member_value
                >= {{ var('on_track_ratio') }} * member_values.area_expected_value * first_shares.first_share
                then 'on_track'
            when
                member_values.member_value
                >= {{ var('at_risk_ratio') }} * member_values.area_expected_value * first_shares.first_share
                then 'at_risk'
            else 'off_track'
        end as status,
        case
            when member_targets.member_target_id is not null
                then member_targets.member_data_due_through_date
            else member_values.data_due_through_date
        end as data_due_through_date,
        member_values.own_data_through_date,
        case
            when member_targets.member_target_id is not null then member_targets.member_is_data_stale
            -- One reason for a no_data: a deadline overdue says so already.
            else member_values.is_own_data_stale and not member_values.is_final_overdue
        end as is_data_stale,
        -- A figure the area reports itself, with no target or figure of the member's own: no
        -- part the member is judged on (its no_data is not a report it owes).
        coalesce(member_values.reported_by, 'members') <> 'area'
        or member_targets.member_target_id is not null
        or member_values.member_value is not null as is_member_judged
    from member_values
    left join first_shares
        on
            member_values.target_id = first_shares.target_id
            and member_values.geo_id = first_shares.geo_id
    left join member_targets
        on
            member_values.target_id = member_targets.part_of_target_id
            and member_values.geo_id = member_targets.geo_id
),

final as (
    -- Behind: the member's own data stop short of what is due (or there are none), for a status
    -- they could still change — not one achieved. Unlike its area's (fct_target_vs_actual), a
    -- deadline passed with the member's data short of it counts: the member has no overdue flag
    -- of its own, and its no_data there is the report it owes.
    select
        * exclude (own_data_through_date, is_member_judged, is_data_stale),
        coalesce(data_due_through_date > own_data_through_date, data_due_through_date is not null)
        and status <> 'achieved' as is_data_behind,
        -- Added after is_data_behind, in the order they came: published columns keep their places.
        is_member_judged,
        is_data_stale
    from judged
)

select * from final
