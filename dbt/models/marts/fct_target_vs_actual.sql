with evaluated as (
    select * from {{ ref('int_targets_evaluated') }}
),

final as (
    select
        target_id,
        plan_id,
        action_id,
        indicator_id,
        geo_id,
        as_of_date,
        month_end,
        is_latest,
        comparator,
        target_value,
        unit,
        due_date,
        deadline_date,
        cadence,
        measure,
        path_start_value,
        path_start_date,
        path_start_source,
        expected_value,
        expected_at_as_of,
        actual_value,
        data_through_date,
        data_due_through_date,
        is_data_behind,
        value_source,
        children_reported,
        children_expected,
        attainment_ratio,
        pace_ratio,
        actual_value - expected_value as gap_to_expected,
        target_value - actual_value as gap_to_target,
        status,
        is_final,
        final_reports_due_date,
        is_final_overdue,
        projected_value,
        projected_status,
        is_at_path_start,
        is_data_stale
    from evaluated
)

select * from final
