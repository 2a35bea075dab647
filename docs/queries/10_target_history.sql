-- How has the status of the high-tech enterprise target moved month by month?
-- 规上高新技术企业目标逐月状态变化。
select
    v.month_end,
    round(v.actual_value, 0) as actual_value,
    round(v.expected_value, 0) as expected_value,
    v.children_reported,
    v.status,
    v.projected_status
from marts.fct_target_vs_actual as v
where v.target_id = 'wm_t_hightech_enterprises_2028'
order by v.month_end
