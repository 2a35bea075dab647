-- Which targets are off track or at risk today, worst first?
-- 哪些目标当前滞后或有风险？
-- is_final: the deadline has passed and the data reach it, so off_track means missed (未完成).
select
    t.plan_id,
    a.name_zh as action_zh,
    i.name_zh as indicator_zh,
    g.name_zh as geography_zh,
    v.target_value,
    v.unit,
    round(v.actual_value, 2) as actual_value,
    round(v.expected_value, 2) as expected_value,
    round(v.pace_ratio, 2) as pace_ratio,
    v.status,
    v.projected_status,
    v.is_final,
    t.source_quote_zh
from marts.fct_target_vs_actual as v
inner join marts.fct_target as t on v.target_id = t.target_id
inner join marts.dim_action as a on t.action_id = a.action_id
inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
inner join marts.dim_geography as g on t.geo_id = g.geo_id
where v.is_latest and v.status in ('off_track', 'at_risk')
order by v.pace_ratio
