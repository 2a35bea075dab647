-- Which cities owe the reports that hold back their areas' targets?
-- 哪些城市应报未报，影响所在区域目标的评价？
-- fct_target_contribution.is_data_behind: the city's own data stop short of the reports due
-- (data_due_through_date); reports_missing counts its periods overdue and not received up to then.
select
    g.name_zh as city_zh,
    c.target_id,
    i.name_zh as indicator_zh,
    c.status,
    c.data_due_through_date,
    count(r.period_end) as reports_missing,
    max(r.days_late) as most_days_late
from marts.fct_target_contribution as c
inner join marts.dim_geography as g on c.geo_id = g.geo_id
inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
left join marts.fct_report_completeness as r
    on
        c.geo_id = r.geo_id
        and c.indicator_id = r.indicator_id
        and r.period_end <= c.data_due_through_date
        and r.report_status = 'missing'
where c.is_data_behind
group by all
order by reports_missing desc, most_days_late desc, g.name_zh, c.target_id
