with indicators as (
    select * from {{ ref('int_indicators_deduplicated') }}
),

final as (
    select
        indicator_id,
        name_zh,
        name_en,
        unit,
        unit_dimension,
        indicator_kind as kind,
        is_additive,
        good_direction,
        plausible_min,
        plausible_max,
        array_to_string(aliases, ' | ') as aliases,
        array_to_string(plan_ids, ' | ') as plan_ids,
        reporting_frequency,
        reported_by,
        description
    from indicators
)

select * from final
