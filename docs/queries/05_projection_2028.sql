-- Projection for 2028: will the metro plan's targets be met at the current pace?
-- 按当前趋势，2028年目标能否完成？
select
    t.target_id,
    i.name_zh as indicator_zh,
    t.comparator,
    t.target_value,
    t.unit,
    round(v.actual_value, 2) as actual_value,
    round(v.projected_value, 2) as projected_value,
    v.projected_status,
    v.data_through_date
from marts.fct_target_vs_actual as v
inner join marts.fct_target as t on v.target_id = t.target_id
inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
where v.is_latest and year(t.due_date) = 2028
order by v.projected_status, t.target_id
