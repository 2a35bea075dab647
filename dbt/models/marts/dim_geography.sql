with geographies as (
    select * from {{ ref('stg_catalog__geographies') }}
),

plan_geographies as (
    select * from {{ ref('stg_catalog__plan_geographies') }}
),

plans_per_geography as (
    select
        geo_id,
        string_agg(distinct plan_id, ' | ' order by plan_id) as plan_ids
    from plan_geographies
    group by geo_id
),

children as (
    select
        parent_geo_id as geo_id,
        count(*) as child_count
    from geographies
    where parent_geo_id is not null
    group by parent_geo_id
),

final as (
    select
        geographies.geo_id,
        geographies.admin_code,
        geographies.name_zh,
        geographies.name_en,
        -- `level` is the contract's column name, though a keyword.
        geographies.geo_level as level,  -- noqa: RF04
        geographies.parent_geo_id,
        coalesce(children.child_count, 0) as child_count,
        array_to_string(geographies.aliases, ' | ') as aliases,
        plans_per_geography.plan_ids,
        geographies.note
    from geographies
    left join children on geographies.geo_id = children.geo_id
    left join plans_per_geography on geographies.geo_id = plans_per_geography.geo_id
)

select * from final
