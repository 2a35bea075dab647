-- Which reported values were later corrected, and by how much?
-- 哪些数据被更正过？更正幅度多大？
select
    h.geo_id,
    h.indicator_id,
    h.period_start,
    h.period_end,
    h.revision,
    h.value,
    h.value - lag(h.value) over (
        partition by h.geo_id, h.indicator_id, h.period_start, h.period_end order by h.revision
    ) as change_from_previous,
    h.reported_on,
    h.source_file
from marts.fct_actual_history as h
where exists (
    select 1
    from marts.fct_actual_history as later
    where
        later.geo_id = h.geo_id
        and later.indicator_id = h.indicator_id
        and later.period_start = h.period_start
        and later.period_end = h.period_end
        and later.revision > 1
)
order by h.geo_id, h.indicator_id, h.period_end, h.revision
