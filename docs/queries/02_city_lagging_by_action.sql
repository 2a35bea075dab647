-- Which city lags on which action, by its contribution to the area's targets?
-- 哪个城市在哪项行动上落后？
-- expected_basis: member_target where the catalog gives the city its own part of the target
-- (分解目标, member_target_id), else first_share (its share when the area was first measured).
-- Only the parts a city is judged on (is_member_judged): not the figures the area reports itself.
select
    g.name_zh as city_zh,
    a.name_zh as action_zh,
    i.name_zh as indicator_zh,
    round(c.actual_value, 2) as actual_value,
    round(c.expected_value, 2) as expected_value,
    round(c.share_of_area_actual, 3) as share_of_area,
    c.expected_basis,
    c.member_target_id,
    c.status
from marts.fct_target_contribution as c
inner join marts.dim_geography as g on c.geo_id = g.geo_id
inner join marts.dim_action as a on c.action_id = a.action_id
inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
where c.is_member_judged and c.status in ('at_risk', 'off_track', 'no_data')
order by a.action_id, c.status desc, g.name_zh
