-- How many targets of each plan are achieved, on track, at risk, off track, without data?
-- 各规划目标状态分布。
select
    plan_id,
    name_zh,
    target_count,
    achieved_count,
    on_track_count,
    at_risk_count,
    off_track_count,
    no_data_count,
    reports_missing,
    latest_report_received_on
from marts.scorecard_plan
order by plan_id
