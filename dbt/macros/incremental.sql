{#- Incremental refresh by geography × indicator (docs/performance.md).

    Every model of the actuals chain computes each geography × indicator from that pair's reports
    only. On an incremental build the pipeline writes down `changed_since` (dq.dbt_build_plan),
    the load time up to which the last complete build had read `raw.progress_rows`, and the pairs
    with a report loaded after it (dq.dbt_build_pairs) — tables, not dbt variables, since dbt
    re-parses the whole project when its variables change — and such a model then rebuilds just
    those pairs (a delete, then an append) and keeps the rest. Anything that moves every pair —
    the catalog, the dbt project, the as-of date going back — makes the pipeline run
    `--full-refresh` instead (lib/dbt_state.py). A later as-of date is incremental: the reports
    dated in between are among the changed pairs, the rows that move with the day alone are
    restated (restate_not_received, status_moved_pairs), and into another month the periods ended
    since are added (changed_pairs_and_new_periods) and every value carried into the months the
    spine gained (changed_months).

    A model using this macro declares `-- depends_on: {{ ref('stg_progress__rows') }}`: the pairs
    come from the landed rows, and dbt records refs when it parses, where `is_incremental()` is
    false.
-#}
{#- Pipeline state, not a data source: read directly, so it is no asset in the graph. `also`: a
    query of more pairs (geo_id, indicator_id) a model rebuilds. -#}
{% macro changed_pairs(also=none) -%}
    select geo_id, indicator_id from dq.dbt_build_pairs
    {%- if also and also | trim %}
        union
        {{ also }}
    {%- endif %}
{%- endmacro %}

{#- The rows of `relation` that belong to a changed pair (all rows on a full build). -#}
{% macro only_changed_pairs(relation, also=none) -%}
    {%- if is_incremental() -%}
        (
            select changed_input.*
            from {{ relation }} as changed_input
            semi join ({{ changed_pairs(also) }}) as changed
                on
                    changed_input.geo_id = changed.geo_id
                    and changed_input.indicator_id = changed.indicator_id
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of those models: on an incremental build, remove every row of the changed pairs, so
    that the new rows (appended) replace them whole — even a row that no longer exists. -#}
{% macro delete_changed_pairs(also=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as target
        where exists (
            select 1
            from ({{ changed_pairs(also) }}) as changed
            where changed.geo_id = target.geo_id and changed.indicator_id = target.indicator_id
        )
    {%- endif -%}
{%- endmacro %}

{#- The changed pairs and their areas, each with the first month whose values may have moved
    (`changed_from`): no month before the start of the year of the pair's earliest new report (a
    year-to-date figure moves the rest of its year; a level, the months after it), and for an area
    the earliest of its own and its members' (its roll-up moves with them). -#}
{% macro moved_pairs(changes=none) -%}
    {%- set changes = changes or changed_months() -%}
    select geo_id, indicator_id, min(changed_from) as changed_from
    from (
        select geographies.parent_geo_id as geo_id, changed.indicator_id, changed.changed_from
        from ({{ changes }}) as changed
        inner join {{ ref('stg_catalog__geographies') }} as geographies
            on changed.geo_id = geographies.geo_id
        where geographies.parent_geo_id is not null
        union all
        select geo_id, indicator_id, changed_from from ({{ changes }})
    )
    group by geo_id, indicator_id
{%- endmacro %}

{#- The changed pairs with their `changed_from`, and, when the as-of date moved into another month,
    every pair with a known report from the first month the spine gained (each value is carried
    into it) — or, `reported_in_new_months`, only those with a known report of a month the spine
    gained (a report dated before its period ended): int_measures_monthly computes only those
    again and carries every other pair into the new months from its last month as built (its
    `carried`), which computing every pair from all its reports took 8.4 s of a 20 s daily run on
    the first day of a month at 9M reports. -#}
{% macro changed_months(reported_in_new_months=false) -%}
    select geo_id, indicator_id, changed_from from dq.dbt_build_pairs
    {%- if as_of_moved(into_another_month=true) %}
        union all
        select distinct geo_id, indicator_id, {{ first_new_month() }} as changed_from
        from {{ ref('int_actuals_known') }}
        {%- if reported_in_new_months %}
            where period_end >= {{ first_new_month() }}
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook of the models kept by month: on an incremental build, remove the rows a moved pair
    may have changed — those of `month_column` on or after its `changed_from`, the pair being
    `geo_column` × indicator_id. The rows before it stand. int_measures_monthly: a pair's months
    (geo_id, month_end). int_member_first_shares: a member's first share, by its area and first
    month (area_geo_id, first_month) — one from before the area moved stands, as neither the
    member's value nor the area's can have changed then, nor in any month before. -#}
{% macro delete_moved(geo_column='geo_id', month_column='month_end', changes=none) -%}
    {%- if is_incremental() -%}
        {#- A join (`using`), not a correlated `exists`: with the month's inequality DuckDB
            decorrelated the `exists` by first copying every row's key (9M at scale, spilling),
            1.1–1.7 s an incremental build even with no pair moved; the join 0.005–0.065 s. -#}
        delete from {{ this }} as target
        using ({{ moved_pairs(changes) }}) as moved
        where
            moved.geo_id = target.{{ geo_column }}
            and moved.indicator_id = target.indicator_id
            and target.{{ month_column }} >= moved.changed_from
    {%- endif -%}
{%- endmacro %}

{#- Whether this incremental build judges at a later as-of date than the last build (in another
    month: `into_another_month`; dq.dbt_build_plan's `as_of_moved_from`, lib/dbt_state.py),
    asked when the model runs: the
    statements below scan the 10M rows of fct_report_completeness at scale, ~0.25 s an
    incremental run, for nothing when the date has not moved (and SQL cannot skip the scan: an
    uncorrelated `exists` on the plan still read every row). -#}
{% macro as_of_moved(into_another_month=false) -%}
    {%- if execute and is_incremental() -%}
        {%- set plan = run_query(
            "select count(*) from dq.dbt_build_plan where as_of_moved_from is not null"
            ~ (
                " and last_day(as_of_moved_from) < last_day(" ~ as_of_date() ~ ")"
                if into_another_month else ""
            )
        ) -%}
        {{- return(plan.columns[0].values()[0] > 0) -}}
    {%- endif -%}
    {{- return(false) -}}
{%- endmacro %}

{#- The first day of the month after the last build's as-of date: on a move into another month,
    the first month of the spine that is new (int_measures_monthly). -#}
{% macro first_new_month() -%}
    (select last_day(as_of_moved_from) + 1 from dq.dbt_build_plan)
{%- endmacro %}

{#- Pre-hook of fct_report_completeness: when the as-of date moved on, the reports not received
    are restated at it — late by more days, or missing once their due date passed. The changed
    pairs, deleted first, are rebuilt whole. -#}
{% macro restate_not_received() -%}
    {%- if as_of_moved() -%}
        update {{ this }}
        set
            days_late = {{ report_days_late('report_due_date', 'first_received_on') }},
            report_status = {{ report_status('report_due_date', 'first_received_on') }}
        where not is_received
    {%- endif -%}
{%- endmacro %}

{#- The pairs of fct_report_completeness whose counts moved with the as-of date (none when it has
    not moved: an empty string, which `changed_pairs` leaves out): a report that turned missing
    since the last build's as-of date, or a reporting period that ended since (int_report_counts). -#}
{% macro status_moved_pairs() -%}
    {%- if as_of_moved() -%}
        select distinct completeness.geo_id, completeness.indicator_id
        from {{ ref('fct_report_completeness') }} as completeness
        inner join dq.dbt_build_plan as plan
            on
                completeness.period_end >= plan.as_of_moved_from
                or (
                    completeness.report_due_date >= plan.as_of_moved_from
                    and completeness.report_status = 'missing'
                )
    {%- endif -%}
{%- endmacro %}

{#- fct_report_completeness's input: the rows of the changed pairs, and, when the as-of date moved
    into another month, the other pairs' rows of the reporting periods ended since the last
    build's as-of date (new expected reports, and the reports that can cover them: a report
    covers a period that ends with it). -#}
{% macro changed_pairs_and_new_periods(relation) -%}
    {%- if as_of_moved(into_another_month=true) -%}
        (
            select * from {{ only_changed_pairs(relation) }}
            union all
            select new_input.*
            from {{ relation }} as new_input
            anti join ({{ changed_pairs() }}) as changed
                on
                    new_input.geo_id = changed.geo_id
                    and new_input.indicator_id = changed.indicator_id
            where new_input.period_end >= (select as_of_moved_from from dq.dbt_build_plan)
        )
    {%- else -%}
        {{ only_changed_pairs(relation) }}
    {%- endif -%}
{%- endmacro %}
