with targets as (
    select * from {{ ref('int_targets_resolved') }}
),

final as (
    select
        target_id,
        plan_id,
        action_id,
        indicator_id,
        geo_id,
        comparator,
        target_value,
        unit,
        baseline_value,
        baseline_date,
        baseline_qualifier,
        horizon_start_date as start_date,
        due_date,
        cadence,
        resolved_flow_window as flow_window,
        measure,
        indicator_kind,
        good_direction,
        path_start_value,
        source_quote_zh,
        source_quote_en,
        array_to_string(also_stated_zh, ' | ') as also_stated_zh,
        note,
        part_of_target_id,
        source_document,
        source_file,
        source_path
    from targets
)

select * from final
