-- One row per indicator. Plans that share an indicator declare it identically (the catalog
-- validator refuses a catalog where they differ), so the first declaration stands for all.
-- How often it is reported, and by whom, resolved here once for the expected reports and the
-- target evaluation: the declared reporting_frequency, by default monthly for flows, quarterly
-- for stocks, yearly for ratios; reported_by the members of an area unless declared 'area'.
with declarations as (
    select * from {{ ref('stg_catalog__indicators') }}
),

units as (
    select * from {{ ref('stg_catalog__units') }}
),

plans_per_indicator as (
    select
        indicator_id,
        list(distinct plan_id order by plan_id) as plan_ids
    from declarations
    group by indicator_id
),

first_declaration as (
    select *
    from declarations
    qualify row_number() over (partition by indicator_id order by source_file, source_path) = 1
),

final as (
    select
        first_declaration.indicator_id,
        first_declaration.name_zh,
        first_declaration.name_en,
        first_declaration.unit,
        units.unit_dimension,
        units.unit_factor,
        first_declaration.indicator_kind,
        first_declaration.is_additive,
        first_declaration.good_direction,
        first_declaration.plausible_min,
        first_declaration.plausible_max,
        first_declaration.aliases,
        first_declaration.description,
        coalesce(
            first_declaration.reporting_frequency,
            case first_declaration.indicator_kind
                when 'flow' then 'month'
                when 'stock' then 'quarter'
                else 'year'
            end
        ) as reporting_frequency,
        coalesce(first_declaration.reported_by, 'members') as reported_by,
        plans_per_indicator.plan_ids,
        first_declaration.source_file
    from first_declaration
    inner join plans_per_indicator
        on first_declaration.indicator_id = plans_per_indicator.indicator_id
    left join units on first_declaration.unit = units.unit
)

select * from final
