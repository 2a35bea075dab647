{#- Macros of the status rules: the as-of date, comparators, year fractions, the expected path
    and status counts. -#}

{#-
    The date status is judged at. Empty `as_of_date` (the default) means the pipeline's
    PLAN_TRACKER_AS_OF_DATE (a pipeline run always hands dbt the date it planned), and without it
    today in the plan office's time zone (`office_timezone`); set either to see the warehouse as it was known
    on a past date, e.g. `dbt build --vars '{as_of_date: "2026-06-30"}'`: only revisions reported
    (or, when no report date was given, loaded) by that date count, and the month spine stops
    there. The pipeline checks the variable is a date before dbt runs (lib/dbt_state.py).
-#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', '') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- elif env_var('PLAN_TRACKER_AS_OF_DATE', '') | trim -%}
        cast('{{ env_var("PLAN_TRACKER_AS_OF_DATE") | trim }}' as date)
    {%- else -%}
        cast(timezone('{{ var("office_timezone") }}', current_timestamp) as date)
    {%- endif -%}
{%- endmacro %}

{#- The day a report became known: its report date, or without one the plan office's day it was
    loaded — in `office_timezone`, as the as-of date is, not the server's (at the 06:00 Beijing run
    a UTC server's date is still yesterday's: a report loaded on the 16th would count as received
    on the 15th). lib/sql.py KNOWN_ON_SQL is the same expression for the pipeline's own queries. -#}
{% macro known_on(reported_on, loaded_at) -%}
    coalesce({{ reported_on }}, cast(timezone('{{ var("office_timezone") }}', {{ loaded_at }}) as date))
{%- endmacro %}

{#- How many days a report is late: received, by how much after its due date (0 when on time); not
    received, since its due date once it has passed. fct_report_completeness, and its restatement
    of the reports not received when the as-of date moves (macros/incremental.sql). -#}
{% macro report_days_late(due_date, received_on) -%}
    case
        when {{ received_on }} is not null
            then greatest(date_diff('day', {{ due_date }}, {{ received_on }}), 0)
        when {{ due_date }} < {{ as_of_date() }}
            then date_diff('day', {{ due_date }}, {{ as_of_date() }})
    end
{%- endmacro %}

{#- Where a report stands: on_time, late, missing (due date passed, not received), not_yet_due. -#}
{% macro report_status(due_date, received_on) -%}
    case
        when {{ received_on }} <= {{ due_date }} then 'on_time'
        when {{ received_on }} is not null then 'late'
        when {{ due_date }} < {{ as_of_date() }} then 'missing'
        else 'not_yet_due'
    end
{%- endmacro %}

{#- The day the reports of a period ending on `period_end` are due: `report_due_days` (dbt
    variable) after it (int_expected_reports; a deadline's reports, int_targets_evaluated). -#}
{% macro report_due_date(period_end) -%}
    cast({{ period_end }} + to_days({{ var('report_due_days') }}) as date)
{%- endmacro %}


{#- The length of a reporting period (an indicator's resolved `reporting_frequency`: month,
    quarter, half_year, year), as an interval (int_expected_reports' periods). -#}
{% macro reporting_interval(frequency) -%}
    case {{ frequency }}
        when 'month' then interval 1 month
        when 'quarter' then interval 3 month
        when 'half_year' then interval 6 month
        else interval 12 month
    end
{%- endmacro %}

{#- The first day of the reporting period that holds `day`: periods follow the calendar (months,
    quarters, halves, years), as int_expected_reports lays them out from 1 January. -#}
{% macro reporting_period_start(day, frequency) -%}
    case {{ frequency }}
        when 'month' then cast(date_trunc('month', {{ day }}) as date)
        when 'quarter' then cast(date_trunc('quarter', {{ day }}) as date)
        when 'half_year' then make_date(year({{ day }}), case when month({{ day }}) <= 6 then 1 else 7 end, 1)
        else make_date(year({{ day }}), 1, 1)
    end
{%- endmacro %}

{#- The last day of the reporting period that holds `day`. -#}
{% macro reporting_period_end(day, frequency) -%}
    cast(
        {{ reporting_period_start(day, frequency) }} + {{ reporting_interval(frequency) }}
        - interval 1 day
        as date
    )
{%- endmacro %}


{#- Whether `actual` satisfies `comparator` against `target` ("=" within a relative 1e-9). -#}
{% macro meets(actual, comparator, target) -%}
    case {{ comparator }}
        when '>' then {{ actual }} > {{ target }}
        when '>=' then {{ actual }} >= {{ target }}
        when '=' then abs({{ actual }} - {{ target }}) <= 1e-9 * greatest(abs({{ target }}), 1)
        when '<=' then {{ actual }} <= {{ target }}
        when '<' then {{ actual }} < {{ target }}
    end
{%- endmacro %}

{#- The share of the calendar year elapsed at the end of `day` (31 December is 1). -#}
{% macro year_fraction(day) -%}
    (dayofyear({{ day }}) * 1.0 / dayofyear(make_date(year({{ day }}), 12, 31)))
{%- endmacro %}

{#-
    Expected-by-`day` on a target's straight path (see int_targets_evaluated):
      level / cumulative: from path_start_value at path_start_date to target_value at due_date;
      year_to_date, per_year: the year's share of target_value;
      year_to_date, calendar_year: the year's share of that year's expected annual amount.
-#}
{% macro expected_by(day) -%}
    case
        when measure = 'year_to_date' and cadence = 'per_year'
            then target_value * {{ year_fraction(day) }}
        when measure = 'year_to_date'
            then
                case
                    when year({{ day }}) >= year(due_date) then target_value
                    when annual_start_year is null then null
                    when year({{ day }}) <= annual_start_year then annual_start_value
                    else annual_start_value + (target_value - annual_start_value)
                        * (year({{ day }}) - annual_start_year)
                        / (year(due_date) - annual_start_year)
                end * {{ year_fraction(day) }}
        when path_start_value is null then null
        when {{ day }} <= path_start_date then path_start_value
        when {{ day }} >= due_date then target_value
        else path_start_value + (target_value - path_start_value)
            * date_diff('day', path_start_date, {{ day }})
            / date_diff('day', path_start_date, due_date)
    end
{%- endmacro %}

{#- Counts of targets by status, for the scorecards (one column per status). -#}
{% macro status_counts(status_column='status') -%}
    count(*) as target_count,
    count(*) filter (where {{ status_column }} = 'achieved') as achieved_count,
    count(*) filter (where {{ status_column }} = 'on_track') as on_track_count,
    count(*) filter (where {{ status_column }} = 'at_risk') as at_risk_count,
    count(*) filter (where {{ status_column }} = 'off_track') as off_track_count,
    count(*) filter (where {{ status_column }} = 'no_data') as no_data_count
{%- endmacro %}

{#- Whether a row of int_measures_monthly for `month_end` can give a target's actual by `measure`:
    a year-to-date value only when its data are of that month's own year. -#}
{% macro reads_its_year(measure, data_through_date, month_end) -%}
    ({{ measure }} <> 'year_to_date' or year({{ data_through_date }}) = year({{ month_end }}))
{%- endmacro %}

{#- A cumulative actual's earlier years: the sum of a geography × indicator's year-end totals
    (`measures`: int_measures_monthly) of the plan's years before that of `read_month_end`, to
    which its own year's total is added (int_targets_evaluated for a target, and
    fct_target_contribution for each member of an area target, read alike). -#}
{% macro plan_years_before(measures, geo_id, indicator_id, horizon_start_date, read_month_end) -%}
    (
        select sum(year_end.value)
        from {{ measures }} as year_end
        where
            year_end.geo_id = {{ geo_id }}
            and year_end.indicator_id = {{ indicator_id }}
            and month(year_end.month_end) = 12
            and year(year_end.month_end) >= year({{ horizon_start_date }})
            and year(year_end.month_end) < year({{ read_month_end }})
    )
{%- endmacro %}
