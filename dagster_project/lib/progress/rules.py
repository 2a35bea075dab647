"""The rules every progress row must pass, as one vectorised DuckDB query.

Input: a temporary table `incoming` (one row per data row of one or more files: `file_no`, which
file of the batch, `source_row`, `sheet` and the report's fields as text; duplicates and
conflicts are judged within a file). Output: a temporary table `parsed` with the normalised
values and, for a row that breaks a rule, `reason_code` and `column_name`. The first broken rule
wins, in the order of `REASONS`. Everything happens in SQL so that millions of rows cost what
DuckDB costs, not a Python loop.

Periods (DESIGN.md): month `2026-03` `2026年3月` `202603`; quarter `2026Q1` `2026年一季度`
`2026年第1季度` `Q1 2026`; half year `2026H1` `2026年上半年`; year `2026` `2026年`; month range
`2026年1-9月` `2026年1至9月` `2026年前三季度`; with 月份 for 月, and 末 or 底 after a period (its
end, said of a level: `2026年9月末`, `2026年末`) read as that period (PERIOD_REWRITES). Basis
`当期` (the period's own value; the default when blank) or `累计` (year-to-date: the range starts
on 1 January).
"""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.lib.progress.headers import (
    BASIS_PERIOD,
    BASIS_YTD,
    FIELD_LABELS,
    ITEM_MARK,
)
from dagster_project.lib.sql import OFFICE_TODAY_SQL
from dagster_project.lib.text import sql_string_literal


@dataclass(frozen=True)
class Reason:
    code: str
    field: str
    problem: str
    expected: str


REASONS: tuple[Reason, ...] = (
    Reason("period_missing", "period", "the period is blank", "a period such as 2026-03 or 2026Q1"),
    Reason(
        "period_unrecognised",
        "period",
        "the period is not recognised",
        "2026-03, 2026年3月, 2026Q1, 2026年一季度, 2026H1, 2026年上半年, 2026, 2026年1-9月, "
        "2026年前三季度",
    ),
    Reason("geography_missing", "geography", "the geography is blank", "a city, district or area"),
    Reason(
        "geography_unknown",
        "geography",
        "the geography is not in reference/geographies.csv",
        "a geography id, its Chinese name (with or without 市/区, or after its province and "
        "city: 湖北省黄石市, 武汉市江夏区) or its English name",
    ),
    Reason(
        "geography_total",
        "geography",
        "the row is a total (合计, 总计, 小计), not a geography",
        "the geography it is the total of (an area such as 武汉都市圈, a city for its districts), "
        "or no such row: the warehouse adds up an area's members itself",
    ),
    Reason("indicator_missing", "indicator", "the indicator is blank", "an indicator name or id"),
    Reason(
        "indicator_unknown",
        "indicator",
        "the indicator is not in the plan catalog",
        "an indicator id, its Chinese or English name, or an alias listed in the catalog",
    ),
    Reason(
        "value_formula",
        "value",
        "the cell holds a formula with no value saved beside it (formulas are not evaluated)",
        "the number itself: paste values, or save the workbook from Excel or WPS, which saves "
        "each formula's value",
    ),
    Reason(
        "value_not_numeric",
        "value",
        "the value is not a number",
        "a number such as 1234.5 or 1,234.5; leave blank when not reported",
    ),
    Reason(
        "value_comma_misplaced",
        "value",
        "the commas do not separate thousands, so the number is ambiguous",
        "a decimal point for decimals (1.5) and commas only between groups of three digits "
        "(1,234.5)",
    ),
    Reason("value_not_finite", "value", "the value is not finite", "a finite number"),
    Reason(
        "unit_missing",
        "unit",
        "the unit is blank",
        "the unit of the value, e.g. 亿元, 万元, 万辆, 家, 项, 场, 人次, %",
    ),
    Reason("unit_unknown", "unit", "the unit is not in reference/units.csv", "a unit listed there"),
    Reason(
        "unit_conflicts_with_indicator",
        "unit",
        "the unit is not the one in brackets after the indicator's name",
        "one unit: the same in both, or either left out",
    ),
    Reason(
        "unit_conflicts_with_value",
        "unit",
        "the value ends with a unit (12.5%, 3亿元) other than the unit given",
        "a number in the unit given, or a number with its unit and the unit column blank",
    ),
    Reason(
        "unit_incompatible",
        "unit",
        "the unit cannot convert to the indicator's unit",
        "a unit of the same kind as the indicator's own unit",
    ),
    Reason(
        "basis_unknown",
        "basis",
        "the basis (口径) is not recognised",
        "当期 (the period's own value) or 累计 (year to date)",
    ),
    Reason(
        "basis_conflicts_with_period",
        "basis",
        "a year-to-date (累计) value must cover a range that starts in January",
        "累计 with 2026年1-9月, 2026-09 or 2026Q3, or 当期 for a range such as 2026年4-6月",
    ),
    Reason(
        "period_outside_plans",
        "period",
        "the period is outside every plan's reporting window",
        "a period between the earliest baseline year and the last plan's end",
    ),
    Reason(
        "period_in_future", "period", "the period has not started yet", "a past or current period"
    ),
    Reason(
        "reported_on_invalid",
        "reported_on",
        "the report date is not a date",
        "a date such as 2026-04-10 or 2026年4月10日, or blank",
    ),
    Reason(
        "value_out_of_range",
        "value",
        "the value (in the indicator's unit) is outside its plausible range",
        "a value within the indicator's plausible_min..plausible_max in the catalog",
    ),
    Reason(
        "value_not_whole",
        "value",
        "the value is not a whole number of things counted (its unit is whole in "
        "reference/units.csv)",
        "a whole number, e.g. 12 家 (a share or rate belongs to a % indicator)",
    ),
    Reason(
        "conflicting_rows",
        "value",
        "the file reports different values for the same geography, indicator and period",
        "one value per geography × indicator × period in a file",
    ),
    Reason(
        "duplicate_row",
        "value",
        "the row repeats an earlier row of the file with the same value",
        "each geography × indicator × period once per file (the first copy was loaded)",
    ),
)
REASON_BY_CODE = {r.code: r for r in REASONS}

# A value cell that says nothing was reported: the dashes, slashes and words of statistical
# forms (…, the statistical tables' "data not available"; 未报, not reported; 待报, due).
NOT_REPORTED = (
    *("", "-", "--", "—", "——", "/", "n/a", "na", "null", "...", "…", "……"),
    *("无", "暂无", "未报", "待报", "不详"),
)


# A period outside every plan's reporting window: before the earliest baseline year, or starting
# after the last plan's end.
_OUTSIDE_PLANS = """(
    period_end < (
        select min(least(
            horizon_start, date_trunc('year', coalesce(baseline_date, horizon_start))
        ))
        from raw.plans
    ) or period_start > (select max(horizon_end) from raw.plans)
)"""


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# A value cell as the value rules read it: half-width, lower case, without whitespace.
_VALUE_TEXT = (
    r"regexp_replace(lower(pt_halfwidth(coalesce(incoming.value_raw, ''))), '\s', '', 'g')"
)

# A number as a value cell writes it, and a unit typed after it (12.5%, 3亿元): anything but a
# digit, a sign or a separator, then no digit.
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_UNIT = r"[^\d.,:+\-]\D*"

# A total row's geography cell (lookup key: no whitespace, so 合 计 too): 合计, 总计, 小计,
# 汇总, after 全市, 全省 or 全区 or alone, and English totals.
TOTAL_ROW = r"(全市|全省|全区|全县)?(合计|总计|小计|汇总|共计)数?|total|subtotal|grandtotal|sum"

# English month names, as Excel in an English locale shows a month (Mar-26, March 2026).
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Rewrites of a period cell (half-width, lower case), applied in order before the period rules:
# the usual ways of writing the periods they read. Each pattern is a regular expression.
PERIOD_REWRITES: tuple[tuple[str, str], ...] = (
    (r"\s+", ""),
    # Dashes and tildes between months, and 至 (to): 1－9月, 1～9月, 1至9月, 1月至9月.
    (r"[—–~～〜至]", "-"),
    ("月份", "月"),  # 2026年9月份, 2026年1-9月份
    # The end of a month, quarter or year (said of a level: 9月末, 三季度末, 年末, 年底) is read
    # as that period, whose end is where a level is measured.
    (r"(月|季度|季|年)[末底]$", r"\1"),
    # 前三季度, the first three quarters: January to September; 前两季度 to June.
    (r"^(\d{4})年?前[三3]个?季度?$", r"\1年1-9月"),
    (r"^(\d{4})年?前[两二2]个?季度?$", r"\1年1-6月"),
    (r"^(\d{4})年?前[四4]个?季度?$", r"\1年1-12月"),
    (r"^q([1-4])-?(\d{4})$", r"\2q\1"),  # Q3 2026
    # An Excel date on the 1st of a month: Excel turns a typed "2026-03" into 2026-03-01, and a
    # CSV opened and saved again in Excel writes it as its locale shows dates (2026/3/1 in
    # zh-CN, 2026.3.1, 2026年3月1日; Mar-26 in en-US, below).
    (r"^(\d{4})[-/.年](\d{1,2})[-/.月]0?1日?(0?0:00(:00)?)?$", r"\1-\2"),
    *(
        (rf"^{name}[a-z]*[-.]?(\d{{4}})$", rf"\1-{month}")
        for month, name in enumerate(_MONTH_NAMES, start=1)
    ),
    *(
        (rf"^{name}[a-z]*[-.]?(\d{{2}})$", rf"20\1-{month}")
        for month, name in enumerate(_MONTH_NAMES, start=1)
    ),
)


def _period_text(cell: str) -> str:
    """The SQL expression applying PERIOD_REWRITES to `cell`, an expression of this module."""
    for pattern, replacement in PERIOD_REWRITES:
        cell = (
            f"regexp_replace({cell}, {sql_string_literal(pattern)}, "
            f"{sql_string_literal(replacement)}, 'g')"
        )
    return cell


# Which of the rows of a key in a file comes first: by row, then sheet; within a row of a form with
# a column per basis (本月 | 本年累计), the period's own value first.
def _copy_order(table: str = "") -> str:
    return (
        f"struct_pack(source_row := {table}source_row, sheet := coalesce({table}sheet, ''), "
        f"is_ytd := {table}basis is not distinct from 'ytd', "
        f"source_column := coalesce({table}source_column, ''))"
    )


# Every literal below comes from this module's constants; row values only ever flow through
# columns. `pt_halfwidth` and `pt_lookup_key` are the macros of lib/text.py.
PARSE_SQL = rf"""
create or replace temp table parsed as
-- Every rule that reads one text cell (period, geography, indicator, unit, basis, report date)
-- is computed once per distinct spelling and joined back: a file of millions of rows holds a few
-- hundred spellings, and the regular expressions are most of the cost of this query.
with unit_keys as (
    -- Every spelling of a unit, by its lookup key: for units written beside the value.
    select alias_key, min(unit) as unit from raw.unit_aliases group by alias_key
),

period_spellings as (
    select
        *,
        case
            when regexp_full_match(p, '\d{{4}}[-/.年]\d{{1,2}}月?') then 'month'
            when regexp_full_match(p, '\d{{6}}') then 'month'
            when regexp_full_match(p, '\d{{4}}(年|-)?(q|第)[1-4一二三四](季度|季)?') then 'quarter'
            when regexp_full_match(p, '\d{{4}}(年|-)?[1-4一二三四](季度|季)') then 'quarter'
            when regexp_full_match(p, '\d{{4}}(年|-)?(h[12]|[上下]半年)') then 'half_year'
            when regexp_full_match(p, '\d{{4}}(年|年度|年全年|全年)?') then 'year'
            when regexp_full_match(p, '\d{{4}}(年|-)\d{{1,2}}月?-\d{{1,2}}月?') then 'range'
        end as period_grain,
        try_cast(left(p, 4) as integer) as period_year,
        case
            when regexp_full_match(p, '\d{{4}}[-/.年]\d{{1,2}}月?')
                then try_cast(regexp_extract(p, '^\d{{4}}[-/.年](\d{{1,2}})', 1) as integer)
            when regexp_full_match(p, '\d{{6}}') then try_cast(right(p, 2) as integer)
            when regexp_full_match(p, '\d{{4}}(年|-)?(q|第)?[1-4一二三四](季度|季)?')
                then 3 * try_cast(
                    translate(
                        regexp_extract(p, '([1-4一二三四])(季度|季)?$', 1), '一二三四', '1234'
                    )
                    as integer
                ) - 2
            when regexp_full_match(p, '\d{{4}}(年|-)?(h1|上半年)') then 1
            when regexp_full_match(p, '\d{{4}}(年|-)?(h2|下半年)') then 7
            when regexp_full_match(p, '\d{{4}}(年|年度|年全年|全年)?') then 1
            when regexp_full_match(p, '\d{{4}}(年|-)\d{{1,2}}月?-\d{{1,2}}月?')
                then try_cast(regexp_extract(p, '^\d{{4}}(年|-)(\d{{1,2}})', 2) as integer)
        end as first_month,
        case
            when regexp_full_match(p, '\d{{4}}[-/.年]\d{{1,2}}月?')
                then try_cast(regexp_extract(p, '^\d{{4}}[-/.年](\d{{1,2}})', 1) as integer)
            when regexp_full_match(p, '\d{{6}}') then try_cast(right(p, 2) as integer)
            when regexp_full_match(p, '\d{{4}}(年|-)?(q|第)?[1-4一二三四](季度|季)?')
                then 3 * try_cast(
                    translate(
                        regexp_extract(p, '([1-4一二三四])(季度|季)?$', 1), '一二三四', '1234'
                    )
                    as integer
                )
            when regexp_full_match(p, '\d{{4}}(年|-)?(h1|上半年)') then 6
            when regexp_full_match(p, '\d{{4}}(年|-)?(h2|下半年)') then 12
            when regexp_full_match(p, '\d{{4}}(年|年度|年全年|全年)?') then 12
            when regexp_full_match(p, '\d{{4}}(年|-)\d{{1,2}}月?-\d{{1,2}}月?')
                then try_cast(regexp_extract(p, '(\d{{1,2}})月?$', 1) as integer)
        end as last_month
    from (
        select
            period_raw,
            -- The usual ways of writing the same periods, brought to the forms above
            -- (PERIOD_REWRITES).
            {_period_text("lower(pt_halfwidth(coalesce(period_raw, '')))")} as p
        from (select distinct period_raw from incoming)
    )
),

geography_spellings as (
    select geography_raw, pt_lookup_key(geography_raw) as geo_key
    from (select distinct geography_raw from incoming)
),

indicator_spellings as (
    -- A unit in brackets after the name, 技术合同成交额（亿元）, is the row's unit and the name
    -- before it the indicator — unless the whole spelling is itself an alias.
    select
        indicator_raw,
        case when bracket_unit is null then full_key else name_key end as indicator_key,
        bracket_unit as indicator_unit
    from (
        select
            indicator_raw,
            full_key,
            name_key,
            case
                when full_key not in (select alias_key from raw.indicator_aliases)
                    then (select unit from unit_keys where unit_keys.alias_key = bracketed)
            end as bracket_unit
        from (
            select
                indicator_raw,
                full_key,
                regexp_extract(full_key, '^(.+)\(([^()]+)\)$', 1) as name_key,
                regexp_extract(full_key, '^(.+)\(([^()]+)\)$', 2) as bracketed
            from (
                -- A list's mark (1.技术合同成交额, (一)…, 其中：新能源汽车产量, #…) is not part
                -- of the name (headers.ITEM_MARK).
                select
                    indicator_raw,
                    regexp_replace(
                        pt_lookup_key(indicator_raw), {sql_string_literal(ITEM_MARK)}, ''
                    ) as full_key
                from (select distinct indicator_raw from incoming)
            )
        )
    )
),

unit_spellings as (
    select unit_raw, pt_lookup_key(unit_raw) as unit_key
    from (select distinct unit_raw from incoming)
),

basis_spellings as (
    select
        *,
        case
            when basis_key = '' or basis_key is null then 'period'
            when basis_key in ({_in_list(BASIS_PERIOD)}) then 'period'
            when basis_key in ({_in_list(BASIS_YTD)}) then 'ytd'
        end as basis
    from (
        select basis_raw, pt_lookup_key(basis_raw) as basis_key
        from (select distinct basis_raw from incoming)
    )
),

reported_on_spellings as (
    select
        *,
        coalesce(
            try_strptime(reported_on_day, '%Y-%m-%d'),
            try_strptime(reported_on_day, '%Y/%m/%d'),
            try_strptime(reported_on_day, '%Y.%m.%d'),
            try_strptime(reported_on_day, '%Y年%m月%d日'),
            -- 5号, the day as it is often said and written by hand.
            try_strptime(reported_on_day, '%Y年%m月%d号'),
            try_strptime(reported_on_day, '%Y%m%d')
        )::date as reported_on
    from (
        select
            *,
            -- The day of a date and time (2026/11/5 10:30, as Excel writes one to CSV): the
            -- report date is a day.
            regexp_replace(
                reported_on_text, '\s*\d{{1,2}}[:：]\d{{2}}([:：]\d{{2}}(\.\d+)?)?$', ''
            ) as reported_on_day
        from (
            select
                reported_on_raw,
                trim(pt_halfwidth(coalesce(reported_on_raw, ''))) as reported_on_text
            from (select distinct reported_on_raw from incoming)
        )
    )
),

base as (
    select
        incoming.file_no,
        incoming.source_row,
        incoming.sheet,
        incoming.source_column,
        incoming.period_raw,
        incoming.geography_raw,
        incoming.indicator_raw,
        incoming.value_raw,
        incoming.unit_raw,
        incoming.basis_raw,
        incoming.reporter,
        incoming.reported_on_raw,
        incoming.note,
        periods.p,
        periods.period_grain,
        periods.period_year,
        periods.first_month,
        periods.last_month,
        geographies.geo_key,
        indicators.indicator_key,
        indicators.indicator_unit,
        units.unit_key,
        bases.basis_key,
        bases.basis,
        reported.reported_on_text,
        reported.reported_on,
        -- Values differ row by row, so they are normalised per row; a cell that already reads
        -- as a number (nearly all of them) skips the full-width mapping, which costs ~2.5 s
        -- per million cells. Commas are dropped only where they group thousands (1,234.5):
        -- '1,5' may be a decimal comma (1.5) or a slip, and is not guessed (value_reason).
        case
            when try_cast(incoming.value_raw as double) is not null then incoming.value_raw
            when regexp_full_match({_VALUE_TEXT}, '[-+]?\d{{1,3}}(,\d{{3}})+(\.\d+)?\D*')
                then replace({_VALUE_TEXT}, ',', '')
            else {_VALUE_TEXT}
        end as v
    from incoming
    left join period_spellings as periods
        on incoming.period_raw is not distinct from periods.period_raw
    left join geography_spellings as geographies
        on incoming.geography_raw is not distinct from geographies.geography_raw
    left join indicator_spellings as indicators
        on incoming.indicator_raw is not distinct from indicators.indicator_raw
    left join unit_spellings as units
        on incoming.unit_raw is not distinct from units.unit_raw
    left join basis_spellings as bases
        on incoming.basis_raw is not distinct from bases.basis_raw
    left join reported_on_spellings as reported
        on incoming.reported_on_raw is not distinct from reported.reported_on_raw
),

period_parts as (
    select
        *,
        v in ({_in_list(NOT_REPORTED)}) as is_blank_value,
        case
            when regexp_full_match(v, '[-+]?\d+(\.\d+)?:\d+(\.\d+)?')
                then try_cast(split_part(v, ':', 1) as double)
                / nullif(try_cast(split_part(v, ':', 2) as double), 0)
            else try_cast(v as double)
        end as value_number,
        -- A number with its unit typed after it, 12.5% or 3亿元: the number and the unit's
        -- spelling (its unit is looked up below). Only cells that do not read as a number are
        -- searched.
        case
            when value_number is null and not is_blank_value
                then regexp_extract(v, '^({_NUMBER})({_UNIT})$', ['number', 'unit'])
        end as typed,
        nullif(typed['unit'], '') as value_unit_key,
        try_cast(nullif(typed['number'], '') as double) as value_unit_number
    from base
),

resolved as (
    select
        period_parts.* replace (
            coalesce(
                period_parts.value_number,
                case when typed_unit.unit is not null then period_parts.value_unit_number end
            ) as value_number
        ),
        typed_unit.unit as value_unit,
        geo.geo_id,
        ind.indicator_id,
        indicators.unit as unit,
        indicators.plausible_min,
        indicators.plausible_max,
        canonical.unit_dimension as canonical_dimension,
        canonical.unit_factor as canonical_factor,
        canonical.unit_whole as canonical_whole,
        reported_unit.unit as unit_as_reported,
        reported_unit.unit_dimension as reported_dimension,
        reported_unit.unit_factor as reported_factor,
        case
            when period_grain is null then null
            when period_year not between 1900 and 2999 then null
            when first_month not between 1 and 12 or last_month not between 1 and 12 then null
            when first_month > last_month then null
            when basis = 'ytd' then make_date(period_year, 1, 1)
            else make_date(period_year, first_month, 1)
        end as period_start,
        case
            when period_grain is null then null
            when period_year not between 1900 and 2999 then null
            when first_month not between 1 and 12 or last_month not between 1 and 12 then null
            when first_month > last_month then null
            else last_day(make_date(period_year, last_month, 1))
        end as period_end
    from period_parts
    left join (
        select alias_key, min(geo_id) as geo_id from raw.geography_aliases group by alias_key
    ) as geo on period_parts.geo_key = geo.alias_key
    left join (
        select alias_key, min(indicator_id) as indicator_id
        from raw.indicator_aliases group by alias_key
    ) as ind on period_parts.indicator_key = ind.alias_key
    left join (
        select
            indicator_id,
            min(unit) as unit,
            min(plausible_min) as plausible_min,
            min(plausible_max) as plausible_max
        from raw.indicators group by indicator_id
    ) as indicators on ind.indicator_id = indicators.indicator_id
    left join (
        select
            unit, dimension as unit_dimension, factor as unit_factor, whole as unit_whole
        from raw.units
    ) as canonical on indicators.unit = canonical.unit
    left join (
        select aliases.alias_key, units.unit, units.dimension as unit_dimension,
            units.factor as unit_factor
        from raw.unit_aliases as aliases
        inner join raw.units as units on aliases.unit = units.unit
    ) as reported_unit
        on coalesce(
            nullif(period_parts.unit_key, ''),
            period_parts.indicator_unit,
            period_parts.value_unit_key
        ) = reported_unit.alias_key
    left join unit_keys as typed_unit on period_parts.value_unit_key = typed_unit.alias_key
),

checked as (
    -- The rules, each written once, by field: the first each field breaks.
    select
        *,
        value_number * reported_factor / canonical_factor as value,
        case
            when p = '' then 'period_missing'
            when period_start is null then 'period_unrecognised'
            when {_OUTSIDE_PLANS} then 'period_outside_plans'
            when period_start > {OFFICE_TODAY_SQL} then 'period_in_future'
        end as period_reason,
        case
            when geo_key = '' or geo_key is null then 'geography_missing'
            when geo_id is null and regexp_full_match(geo_key, {sql_string_literal(TOTAL_ROW)})
                then 'geography_total'
            when geo_id is null then 'geography_unknown'
        end as geography_reason,
        case
            when indicator_key = '' or indicator_key is null then 'indicator_missing'
            when indicator_id is null then 'indicator_unknown'
        end as indicator_reason,
        case
            when basis is null then 'basis_unknown'
            when basis = 'ytd' and period_grain = 'range' and first_month <> 1
                then 'basis_conflicts_with_period'
        end as basis_reason,
        case
            when reported_on_text <> '' and reported_on is null then 'reported_on_invalid'
        end as reported_on_reason,
        case
            when is_blank_value then null
            when starts_with(v, '=') then 'value_formula'
            when
                value_number is null
                and contains(v, ',')
                and regexp_full_match(replace(v, ',', ''), '{_NUMBER}({_UNIT})?')
                then 'value_comma_misplaced'
            when value_number is null then 'value_not_numeric'
            when isnan(value_number) or isinf(value_number) then 'value_not_finite'
        end as value_reason,
        case
            when is_blank_value then null
            when
                (unit_key = '' or unit_key is null)
                and indicator_unit is null
                and value_unit is null
                then 'unit_missing'
            when unit_as_reported is null then 'unit_unknown'
            when indicator_unit <> unit_as_reported then 'unit_conflicts_with_indicator'
            -- '12.5%' or '3亿元' beside 家: which of the two is meant cannot be told, so neither
            -- is guessed.
            when value_unit <> unit_as_reported then 'unit_conflicts_with_value'
            when reported_dimension <> canonical_dimension then 'unit_incompatible'
        end as unit_reason
    from resolved
),

ruled as (
    -- The reason a row is quarantined for: the first rule it breaks, in this order. The fields'
    -- reasons stop here: carried through the three reads of this CTE below, their seven
    -- columns made the query ~2 s slower at 9M rows (13.0–13.9 → 15.0–16.3 s; dropped here,
    -- 14.4 against 14.4 s for the code before, medians of five interleaved runs).
    select
        * exclude (
            period_reason, geography_reason, indicator_reason, basis_reason, reported_on_reason,
            value_reason, unit_reason
        ),
        case
            when is_blank_value then null
            when isnan(value) or value < plausible_min or value > plausible_max
                then 'value_out_of_range'
            -- A count's value in its base unit (家, 辆: factor 1) within a rounding error of a
            -- whole number: 1.2345 万辆 is 12,345 vehicles.
            when canonical_whole and abs(value * canonical_factor - round(value * canonical_factor))
                > 1e-6 * greatest(1, abs(value * canonical_factor))
                then 'value_not_whole'
        end as range_reason,
        coalesce(
            case when period_reason in ('period_missing', 'period_unrecognised')
                then period_reason end,
            geography_reason,
            indicator_reason,
            basis_reason,
            period_reason,
            reported_on_reason,
            value_reason,
            unit_reason,
            range_reason  -- the alias above
        ) as rule_reason,
        -- The other fields' broken rules, for the quarantine message: the sender can mend them
        -- all at once. Only for rows that broke a rule (rule_reason, the alias above).
        case when rule_reason is not null then list_filter(
            [period_reason, geography_reason, indicator_reason, basis_reason, reported_on_reason,
                coalesce(value_reason, range_reason), unit_reason],
            lambda code: code is not null and code <> rule_reason
        ) end as other_reason_codes
    from checked
),

repeated_hashes as (
    -- The hashes of the keys below given by more than one row: one 64-bit column to group 9M
    -- rows by instead of seven (1.25 s less at 9M rows). A hash shared by two different keys only
    -- lets both through to the exact count below.
    select
        hash(
            file_no, rule_reason is null, geo_id, indicator_id, period_start, period_end,
            is_blank_value
        ) as key_hash
    from ruled
    group by key_hash
    having count(*) > 1
),

repeated_keys as (
    -- The keys given by more than one row of a file: whether their values differ, and which row
    -- comes first (by row, then sheet). One aggregate over the keys, its few repeated ones
    -- joined back, rather than windows over every row carrying every column: at 9M rows the
    -- windows spilled gigabytes.
    select
        file_no, rule_reason is null as is_clean, geo_id, indicator_id, period_start, period_end,
        is_blank_value,
        min(value) <> max(value) as key_has_conflict,
        min({_copy_order()}) as first_copy
    from ruled
    semi join repeated_hashes
        on hash(
            ruled.file_no, ruled.rule_reason is null, ruled.geo_id, ruled.indicator_id,
            ruled.period_start, ruled.period_end, ruled.is_blank_value
        ) = repeated_hashes.key_hash
    group by all
    having count(*) > 1
),

keyed as (
    select
        ruled.*,
        coalesce(repeated_keys.key_has_conflict, false) as key_has_conflict,
        coalesce(repeated_keys.first_copy <> {_copy_order("ruled.")}, false) as is_later_copy,
        -- The year's running total of a form with a column per basis (本月 | 本年累计) in the
        -- year's first month (or quarter): the same months as the period's own value beside it,
        -- and equal to it. One report, not two: landed once, as the period's own.
        coalesce(
            ruled.rule_reason is null
            and not repeated_keys.key_has_conflict
            and repeated_keys.first_copy.source_row = ruled.source_row
            and repeated_keys.first_copy.sheet = coalesce(ruled.sheet, ''),
            false
        ) as is_same_report
    from ruled
    left join repeated_keys
        on ruled.file_no = repeated_keys.file_no
        and (ruled.rule_reason is null) = repeated_keys.is_clean
        and ruled.geo_id is not distinct from repeated_keys.geo_id
        and ruled.indicator_id is not distinct from repeated_keys.indicator_id
        and ruled.period_start is not distinct from repeated_keys.period_start
        and ruled.period_end is not distinct from repeated_keys.period_end
        and ruled.is_blank_value is not distinct from repeated_keys.is_blank_value
)

select
    file_no,
    source_row,
    sheet,
    source_column,
    period_raw,
    geography_raw,
    indicator_raw,
    value_raw,
    unit_raw,
    basis_raw,
    reporter,
    reported_on_raw,
    note,
    geo_id,
    indicator_id,
    period_grain,
    basis,
    period_start,
    period_end,
    case when is_blank_value then null else value end as value,
    unit,
    case when is_blank_value then null else value_number end as value_as_reported,
    unit_as_reported,
    reported_on,
    not is_blank_value as is_reported,
    other_reason_codes,
    coalesce(
        rule_reason,
        case when key_has_conflict then 'conflicting_rows' end,
        case when is_later_copy then 'duplicate_row' end
    ) as reason_code
from keyed
where not (is_later_copy and is_same_report)
"""


def reason_rows() -> list[tuple[str, str, str, str, str]]:
    """(reason_code, column label, field, problem, expected) for every rule, for messages."""
    return [(r.code, FIELD_LABELS[r.field], r.field, r.problem, r.expected) for r in REASONS]
