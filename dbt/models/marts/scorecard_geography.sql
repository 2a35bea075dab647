-- One row per geography: the targets set for it, its contributions to area targets, how many of
-- either stand on its data behind the reports due, and its reporting record (received, late,
-- missing, latest report).
with latest as (
    select * from {{ ref('fct_target_vs_actual') }}
    where is_latest
),

contributions as (
    -- The parts a member is judged on: not a figure its area reports itself (is_member_judged).
    select * from {{ ref('fct_target_contribution') }}
    where is_member_judged
),

report_counts as (
    select * from {{ ref('int_report_counts') }}
),

geographies as (
    select * from {{ ref('dim_geography') }}
),

own as (
    select
        geo_id,
        count(*) as own_target_count,
        count(*) filter (where status in ('achieved', 'on_track')) as own_on_track_count,
        count(*) filter (where status in ('at_risk', 'off_track')) as own_lagging_count,
        -- Short of the reports due: a status standing on its data, or none on data too far
        -- behind — either way its reports to chase.
        count(*) filter (where is_data_behind or is_data_stale) as own_data_behind_count
    from latest
    group by geo_id
),

contributed as (
    select
        geo_id,
        count(*) as contribution_count,
        count(*) filter (where status in ('achieved', 'on_track')) as contribution_on_track_count,
        count(*) filter (where status in ('at_risk', 'off_track')) as contribution_lagging_count,
        count(*) filter (where status = 'no_data') as contribution_no_data_count,
        count(*) filter (where is_data_behind) as contribution_data_behind_count
    from contributions
    group by geo_id
),

reports as (
    select
        geo_id,
        cast(sum(reports_expected) as bigint) as reports_expected,
        cast(sum(reports_received) as bigint) as reports_received,
        cast(sum(reports_late) as bigint) as reports_late,
        cast(sum(reports_missing) as bigint) as reports_missing,
        max(latest_report_received_on) as latest_report_received_on
    from report_counts
    group by geo_id
),

final as (
    select
        geographies.geo_id,
        geographies.name_zh,
        geographies.name_en,
        geographies.level as geo_level,
        geographies.parent_geo_id,
        coalesce(own.own_target_count, 0) as own_target_count,
        coalesce(own.own_on_track_count, 0) as own_on_track_count,
        coalesce(own.own_lagging_count, 0) as own_lagging_count,
        coalesce(contributed.contribution_count, 0) as contribution_count,
        coalesce(contributed.contribution_on_track_count, 0) as contribution_on_track_count,
        coalesce(contributed.contribution_lagging_count, 0) as contribution_lagging_count,
        coalesce(contributed.contribution_no_data_count, 0) as contribution_no_data_count,
        coalesce(reports.reports_expected, 0) as reports_expected,
        coalesce(reports.reports_received, 0) as reports_received,
        coalesce(reports.reports_late, 0) as reports_late,
        coalesce(reports.reports_missing, 0) as reports_missing,
        reports.latest_report_received_on,
        -- Added after the reporting record: published columns keep their places.
        coalesce(own.own_data_behind_count, 0) as own_data_behind_count,
        coalesce(contributed.contribution_data_behind_count, 0) as contribution_data_behind_count
    from geographies
    left join own on geographies.geo_id = own.geo_id
    left join contributed on geographies.geo_id = contributed.geo_id
    left join reports on geographies.geo_id = reports.geo_id
)

select * from final
