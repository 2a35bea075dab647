{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_moved('area_geo_id', 'first_month') }}",
    )
}}
-- depends_on: {{ ref('stg_progress__rows') }}
-- depends_on: {{ ref('int_actuals_known') }} (macros/incremental.sql: changed_months)
-- One row per member geography × indicator with a month where both it and its parent area have
-- a value other than zero: the first such month and the member's share of the area then
-- (fct_target_contribution's 按基数比例分解). Finding it reads every month of every member, 9M
-- rows at scale: kept between builds, it is found again only where new reports can have moved it
-- (macros/incremental.sql, `delete_moved`): for the members of an area whose values moved from
-- some month on, when their first month is not before it, and for members that had none.
with geographies as (
    select * from {{ ref('stg_catalog__geographies') }}
),

-- Read twice (members' months, areas' months): not materialized, so that each read keeps its own
-- filters (materialized, its 9M rows at scale were copied first: a full build 0.54 → 0.24 s, an
-- incremental one 0.15 → 0.02 s, the same rows).
measures as not materialized (
    select * from {{ ref('int_measures_monthly') }}
),

members_to_find as (
    {% if is_incremental() %}
        -- The members of the areas whose values moved, for each moved indicator, unless the
        -- first share they have is from before the move (the pre-hook removed the others).
        select
            geographies.geo_id,
            geographies.parent_geo_id,
            moved.indicator_id
        from geographies
        inner join ({{ moved_pairs() }}) as moved on geographies.parent_geo_id = moved.geo_id
        anti join {{ this }} as kept
            on geographies.geo_id = kept.geo_id and moved.indicator_id = kept.indicator_id
    {% else %}
        select
            geo_id,
            parent_geo_id
        from geographies
        where parent_geo_id is not null
    {% endif %}
),

member_months as (
    select
        measures.geo_id,
        measures.indicator_id,
        measures.month_end,
        measures.value,
        members_to_find.parent_geo_id
    from measures
    {% if is_incremental() %}
        inner join members_to_find
            on
                measures.geo_id = members_to_find.geo_id
                and measures.indicator_id = members_to_find.indicator_id
    {% else %}
        inner join members_to_find on measures.geo_id = members_to_find.geo_id
    {% endif %}
    -- A member at zero has no share yet: a count of new things is 0 in most members' first month
    -- (7 of 9 cities' new platforms in January), and a share of 0 would expect nothing of them
    -- for the whole plan — on track whatever they do. Its first month other than zero is taken.
    where measures.value is not null and measures.value <> 0
),

areas as (
    select distinct parent_geo_id as geo_id
    from members_to_find
),

area_months as (
    select
        measures.geo_id,
        measures.indicator_id,
        measures.month_end,
        measures.value
    from measures
    semi join areas on measures.geo_id = areas.geo_id
    -- An area at zero has no share to give: such a month is not a first month (first_month and
    -- first_share would otherwise name different months, and a member with only such months
    -- would keep an empty share an incremental build never looks at again).
    where measures.value is not null and measures.value <> 0
),

final as (
    select
        member_months.geo_id,
        member_months.indicator_id,
        member_months.parent_geo_id as area_geo_id,
        min(member_months.month_end) as first_month,
        arg_min(member_months.value / nullif(area_months.value, 0), member_months.month_end)
            as first_share
    from member_months
    inner join area_months
        on
            member_months.parent_geo_id = area_months.geo_id
            and member_months.indicator_id = area_months.indicator_id
            and member_months.month_end = area_months.month_end
    group by member_months.geo_id, member_months.indicator_id, member_months.parent_geo_id
)

select * from final
