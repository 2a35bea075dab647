-- Which targets' published status moved in the last 30 days, and from what?
-- 近30天发布状态有变化的目标（首次发布的也列出）。
select
    log.published_at,
    log.as_of_date,
    log.target_id,
    i.name_zh as indicator_zh,
    log.previous_status,
    log.status,
    log.previous_projected_status,
    log.projected_status,
    log.previous_status is null as is_first_published
from marts.target_status_log as log
inner join marts.fct_target as t on log.target_id = t.target_id
inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
where log.published_at >= current_timestamp - interval 30 day
order by log.published_at desc, log.target_id asc
