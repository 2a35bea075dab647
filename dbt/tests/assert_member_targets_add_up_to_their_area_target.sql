-- An area target decomposed to its members (分解目标: targets whose part_of_target_id is it):
-- once every member has its part, the parts add up to the area's target — at least the target
-- where more is better, at most where less is — or the office's decomposition and the plan
-- disagree. A warning: the catalog's figures are the office's to settle, not the run's to refuse.
{{ config(severity='warn') }}

with targets as (
    select * from {{ ref('fct_target') }}
),

geographies as (
    select * from {{ ref('dim_geography') }}
),

parts as (
    select
        part_of_target_id as target_id,
        count(*) as part_count,
        sum(target_value) as parts_total
    from targets
    where part_of_target_id is not null
    group by part_of_target_id
),

members as (
    select
        parent_geo_id as geo_id,
        count(*) as member_count
    from geographies
    where parent_geo_id is not null
    group by parent_geo_id
)

select
    areas.target_id,
    areas.target_value,
    parts.parts_total,
    parts.part_count
from targets as areas
inner join parts on areas.target_id = parts.target_id
inner join members on areas.geo_id = members.geo_id
where
    parts.part_count = members.member_count
    and case
        when areas.good_direction = 'down' then parts.parts_total > areas.target_value * (1 + 1e-9)
        else parts.parts_total < areas.target_value * (1 - 1e-9)
    end
