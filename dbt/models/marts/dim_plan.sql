with plans as (
    select * from {{ ref('stg_catalog__plans') }}
),

targets as (
    select * from {{ ref('stg_catalog__targets') }}
),

actions as (
    select * from {{ ref('stg_catalog__actions') }}
),

target_counts as (
    select
        plan_id,
        count(*) as target_count
    from targets
    group by plan_id
),

action_counts as (
    select
        plan_id,
        count(*) filter (where action_kind = 'task') as action_count
    from actions
    group by plan_id
),

final as (
    select
        plans.plan_id,
        plans.name_zh,
        plans.name_en,
        plans.short_name_zh,
        plans.short_name_en,
        plans.issuer_zh,
        plans.issuer_en,
        plans.issued_date,
        plans.horizon_start_date,
        plans.horizon_end_date,
        plans.baseline_date,
        plans.source_title,
        plans.notes,
        coalesce(action_counts.action_count, 0) as action_count,
        coalesce(target_counts.target_count, 0) as target_count,
        plans.source_file
    from plans
    left join action_counts on plans.plan_id = action_counts.plan_id
    left join target_counts on plans.plan_id = target_counts.plan_id
)

select * from final
