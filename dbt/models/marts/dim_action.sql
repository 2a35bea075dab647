with actions as (
    select * from {{ ref('stg_catalog__actions') }}
),

targets as (
    select * from {{ ref('stg_catalog__targets') }}
),

target_counts as (
    select
        action_id,
        count(*) as target_count
    from targets
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
        coalesce(target_counts.target_count, 0) as target_count,
        actions.note,
        actions.source_file
    from actions
    left join target_counts on actions.action_id = target_counts.action_id
)

select * from final
