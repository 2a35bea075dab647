-- Which actions have lagging targets?
-- 各行动的目标状态，哪项行动最落后？
select
    plan_id,
    action_seq,
    name_zh,
    target_count,
    achieved_count + on_track_count as on_course,
    at_risk_count + off_track_count as lagging,
    no_data_count,
    worst_target_id,
    round(worst_pace_ratio, 2) as worst_pace_ratio
from marts.scorecard_action
where target_count > 0
order by lagging desc, plan_id, action_seq
