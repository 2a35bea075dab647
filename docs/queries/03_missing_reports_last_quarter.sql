-- Who has not reported for the last complete quarter?
-- 上一个季度哪些地区没有报送？
with last_quarter as (
    select
        cast(date_trunc('quarter', current_date) - interval 3 month as date) as quarter_start,
        cast(date_trunc('quarter', current_date) - interval 1 day as date) as quarter_end
)

select
    g.name_zh as geography_zh,
    i.name_zh as indicator_zh,
    c.reporting_frequency,
    c.period_start,
    c.period_end,
    c.report_due_date,
    c.days_late
from marts.fct_report_completeness as c
inner join marts.dim_geography as g on c.geo_id = g.geo_id
inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
cross join last_quarter as q
where
    c.report_status = 'missing'
    and c.period_start >= q.quarter_start
    and c.period_end <= q.quarter_end
order by g.name_zh, i.name_zh, c.period_start
