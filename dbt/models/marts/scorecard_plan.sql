-- One row per plan: its targets by status today, the largest gaps, and how fresh its data are.
with latest as (
    select * from {{ ref('fct_target_vs_actual') }}
    where is_latest
),

plans as (
    select * from {{ ref('dim_plan') }}
),

report_counts as (
    select * from {{ ref('int_report_counts') }}
),

statuses as (
    select
        plan_id,
        {{ status_counts() }},
        count(*) filter (where projected_status = 'off_track') as projected_off_track_count,
        count(*) filter (where is_data_behind) as data_behind_count,
        count(*) filter (where is_at_path_start) as at_path_start_count,
        count(*) filter (where is_data_stale) as data_stale_count,
        max(data_through_date) as latest_data_through_date
    from latest
    group by plan_id
),

worst as (
    select
        plan_id,
        string_agg(
            target_id || ' (' || status || ', pace ' || cast(round(pace_ratio, 2) as varchar) || ')',
            '; ' order by pace_ratio asc, target_id asc
        ) as worst_gaps
    from (
        select *
        from latest
        where status in ('off_track', 'at_risk') and pace_ratio is not null
        -- Of targets at the same pace, the first by id: every build names the same five.
        qualify row_number() over (partition by plan_id order by pace_ratio asc, target_id asc) <= 5
    ) as lagging
    group by plan_id
),

reports as (
    select
        plans.plan_id,
        cast(sum(report_counts.reports_missing) as bigint) as reports_missing,
        cast(sum(report_counts.reports_late) as bigint) as reports_late,
        cast(sum(report_counts.reports_received) as bigint) as reports_received,
        max(report_counts.latest_report_received_on) as latest_report_received_on
    from plans
    inner join report_counts on contains(report_counts.plan_ids, plans.plan_id)
    group by plans.plan_id
),

final as (
    select
        plans.plan_id,
        plans.name_zh,
        plans.name_en,
        -- Also for a plan with no target judged yet (its horizon begins after the as-of date).
        {{ as_of_date() }} as as_of_date,
        coalesce(statuses.target_count, 0) as target_count,
        coalesce(statuses.achieved_count, 0) as achieved_count,
        coalesce(statuses.on_track_count, 0) as on_track_count,
        coalesce(statuses.at_risk_count, 0) as at_risk_count,
        coalesce(statuses.off_track_count, 0) as off_track_count,
        coalesce(statuses.no_data_count, 0) as no_data_count,
        coalesce(statuses.projected_off_track_count, 0) as projected_off_track_count,
        coalesce(statuses.data_behind_count, 0) as data_behind_count,
        worst.worst_gaps,
        statuses.latest_data_through_date,
        reports.latest_report_received_on,
        coalesce(reports.reports_received, 0) as reports_received,
        coalesce(reports.reports_late, 0) as reports_late,
        coalesce(reports.reports_missing, 0) as reports_missing,
        -- Added after the reporting record: published columns keep their places.
        coalesce(statuses.at_path_start_count, 0) as at_path_start_count,
        coalesce(statuses.data_stale_count, 0) as data_stale_count
    from plans
    left join statuses on plans.plan_id = statuses.plan_id
    left join worst on plans.plan_id = worst.plan_id
    left join reports on plans.plan_id = reports.plan_id
)

select * from final
