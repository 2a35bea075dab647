-- One row per action: its targets by status today and its worst target.
with latest as (
    select * from {{ ref('fct_target_vs_actual') }}
    where is_latest
),

actions as (
    select * from {{ ref('dim_action') }}
),

statuses as (
    select
        action_id,
        {{ status_counts() }},
        -- Of targets as far behind, the first by id: the same data always names the same one.
        -- Not by a pace where data too far behind end (is_data_stale): that is not today's.
        arg_min(
            target_id,
            (coalesce(case when not is_data_stale then pace_ratio end, 1e9), target_id)
        ) as worst_target_id,
        min(pace_ratio) filter (where not is_data_stale) as worst_pace_ratio,
        max(data_through_date) as latest_data_through_date
    from latest
    group by action_id
),

final as (
    select
        actions.action_id,
        actions.plan_id,
        actions.action_seq,
        actions.action_kind,
        actions.name_zh,
        actions.name_en,
        coalesce(statuses.target_count, 0) as target_count,
        coalesce(statuses.achieved_count, 0) as achieved_count,
        coalesce(statuses.on_track_count, 0) as on_track_count,
        coalesce(statuses.at_risk_count, 0) as at_risk_count,
        coalesce(statuses.off_track_count, 0) as off_track_count,
        coalesce(statuses.no_data_count, 0) as no_data_count,
        statuses.worst_target_id,
        statuses.worst_pace_ratio,
        statuses.latest_data_through_date
    from actions
    left join statuses on actions.action_id = statuses.action_id
)

select * from final
