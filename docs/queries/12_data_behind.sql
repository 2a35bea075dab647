-- Which targets are judged on data behind the reports due (or too far behind), and whose reports are missing?
-- 哪些目标的数据未更新至应报期（或停滞而不予评价）？缺哪些地区、哪几期的报表？
-- is_data_stale: the data end too far behind to give a status; the target is no_data.
select
    v.target_id,
    i.name_zh as indicator_zh,
    v.status,
    v.is_data_stale,
    v.data_through_date,
    v.data_due_through_date,
    g.name_zh as owed_by_zh,
    c.period_start,
    c.period_end,
    c.report_due_date,
    c.days_late
from marts.fct_target_vs_actual as v
inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
-- The reports owed for the target's geography, or by its members for an area.
inner join marts.fct_report_completeness as c
    on
        v.indicator_id = c.indicator_id
        and (
            c.geo_id = v.geo_id
            or c.geo_id in (
                select m.geo_id from marts.dim_geography as m
                where m.parent_geo_id = v.geo_id
            )
        )
        and c.period_end <= v.data_due_through_date
        and c.report_status = 'missing'
inner join marts.dim_geography as g on c.geo_id = g.geo_id
where v.is_latest and (v.is_data_behind or v.is_data_stale)
order by v.target_id asc, c.period_end asc, g.name_zh asc
