"""Values to check: a landed report far from the report before it, most likely a slip of its unit.

A value that breaks no rule can still be wrong by a power of ten: a figure in 万元 typed under 亿元
(10,000 times too large), a percent written as a fraction (0.047 for 4.7%, a hundredth), a digit
typed twice in an enterprise count. Such a value lands — it may be right, and only the sender
knows — but it is named, with the report before it, in `dq.value_checks` and in the run's
summary, so that the office can ask.

The report before it: of the same geography, indicator, period length and basis, the latest
revision (as the marts take it) of the nearest period that ends earlier, among the reports
landed and not withdrawn — not an earlier revision of its own period: a correction of a slip is
not far from the period before, and is not named for being far from the slip. A file that fills
in an earlier period also names the report after it, landed before, when the two are that far
apart.

How far is too far depends on the indicator's kind: a level (`stock`, such as an enterprise
count) or a `ratio` moves little from one report to the next, so ten times is suspect; an amount
per period (`flow`) can jump — a month with one large contract —, so only a thousand times is (a
slip of 万 to 亿, or of 元 to 万元, is ten thousand). An indicator of the catalog may set its own
(`value_check_factor`). Zeros are not compared.

The check runs once at the end of each run's ingest, over the file versions landed and not
checked yet (dq.value_checked_files): one pass over the reports of the pairs they touch, however
many files the run lands. Why not a dbt test: it names each value's file and row in the run that
lands it, and reads only the pairs that moved; a dbt test reports a count per build.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from dagster_project.lib.sql import table_exists

# How many times larger or smaller than the report before it a value must be to be named.
JUMP_FACTORS: dict[str, float] = {"stock": 10.0, "ratio": 10.0, "flow": 1000.0}

VALUE_CHECKS_DDL = """
create table if not exists dq.value_checks (
    source_file varchar not null,
    file_sha256 varchar not null,
    sheet varchar,
    source_row integer not null,
    geo_id varchar not null,
    indicator_id varchar not null,
    period_start date not null,
    period_end date not null,
    value double not null,
    unit varchar not null,
    previous_period_start date not null,
    previous_period_end date not null,
    previous_value double not null,
    previous_source_file varchar not null,
    previous_sheet varchar,
    previous_source_row integer not null,
    factor double not null,
    check_code varchar not null,
    message varchar not null,
    loaded_at timestamp with time zone not null,
    run_id varchar,
    source_column varchar,
    previous_source_column varchar
)
"""
# The value columns of a form with a column per basis (本月 | 本年累计), added to warehouses made
# before them.
VALUE_CHECKS_COLUMNS = (
    "alter table dq.value_checks add column if not exists source_column varchar",
    "alter table dq.value_checks add column if not exists previous_source_column varchar",
)

# The file versions whose values were checked. The check runs once at the end of a run's ingest,
# over every landed version not checked yet — one pass, however many files the run lands — and
# records them in the same transaction: a run stopped before it leaves them to the next run.
VALUE_CHECKED_FILES_DDL = """
create table if not exists dq.value_checked_files (
    source_file varchar not null,
    file_sha256 varchar not null,
    checked_at timestamp with time zone not null,
    run_id varchar,
    primary key (source_file, file_sha256)
)
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The check's tables (after raw.file_manifest). In a warehouse made before the check, the
    file versions landed then count as checked: their history is not named all at once."""
    new = not table_exists(con, "dq", "value_checked_files")
    con.execute(VALUE_CHECKS_DDL)
    for ddl in VALUE_CHECKS_COLUMNS:
        con.execute(ddl)
    con.execute(VALUE_CHECKED_FILES_DDL)
    if new:
        con.execute(
            "insert into dq.value_checked_files "
            "select source_file, file_sha256, loaded_at, run_id from raw.file_manifest"
        )


# The values named that still count — each the marts' latest report of its period, neither
# corrected since nor withdrawn —, once each (by its last check): what is left to ask about.
OPEN_VALUE_CHECKS_SQL = """
select v.*
from dq.value_checks as v
semi join marts.fct_actual as a
    on
        v.source_file = a.source_file
        and v.file_sha256 = a.file_sha256
        and v.sheet is not distinct from a.sheet
        and v.source_row = a.source_row
        and v.source_column is not distinct from a.source_column
qualify row_number() over (
    partition by v.source_file, v.file_sha256, v.sheet, v.source_row, v.source_column
    order by v.loaded_at desc
) = 1
"""

_PERIOD = """case
        when date_trunc('month', {s}) = date_trunc('month', {e}) then strftime({s}, '%Y-%m')
        else strftime({s}, '%Y-%m') || '–' || strftime({e}, '%Y-%m')
    end"""
# A series (geography, indicator, period length, basis), its periods in order and each period's
# revisions in the order of int_actuals_revisioned.
_SERIES = (
    "partition by geo_id, indicator_id, period_grain, basis "
    "order by period_end, reported_on asc nulls first, loaded_at, row_id"
)
_NUMBER = "regexp_replace(printf('%.6f', {v}), '\\.?0+$', '')"


def check_values(
    con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime, run_id: str
) -> dict[str, int]:
    """Record in dq.value_checks each reported value of the file versions landed and not checked
    yet that is too far from the report before it, or after it (one transaction); returns how
    many each file brought, by its path."""
    con.execute("begin")
    try:
        counts = _check(con, loaded_at, run_id)
        con.execute(
            "insert into dq.value_checked_files "
            "select source_file, file_sha256, ?, ? from unchecked",
            [loaded_at, run_id],
        )
        con.execute("drop table unchecked")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return counts


def _check(con: duckdb.DuckDBPyConnection, loaded_at: dt.datetime, run_id: str) -> dict[str, int]:
    con.execute(
        "create or replace temp table unchecked as "
        "select source_file, file_sha256 from raw.file_manifest "
        "anti join dq.value_checked_files using (source_file, file_sha256) "
        "where rows_loaded > 0"
    )
    if not con.execute("select count(*) from unchecked").fetchall()[0][0]:
        return {}
    withdrawn = (
        "anti join raw.withdrawals as withdrawn on landed.source_file = withdrawn.source_file "
        "and landed.file_sha256 = withdrawn.file_sha256"
        if table_exists(con, "raw", "withdrawals")
        else ""
    )
    factors = " ".join(
        f"when '{kind}' then {factor}" for kind, factor in sorted(JUMP_FACTORS.items())
    )
    period = _PERIOD.format(s="compared.period_start", e="compared.period_end")
    previous_period = _PERIOD.format(
        s="compared.previous_period_start", e="compared.previous_period_end"
    )
    # Constants of this module and a clause chosen above; the run's time and id are bound.
    checked = con.execute(
        f"""
        insert into dq.value_checks
        with pairs as (
            select distinct geo_id, indicator_id
            from raw.progress_rows
            semi join unchecked using (source_file, file_sha256)
        ),

        -- Each indicator's limit: the catalog's own (the smallest if plans differ), else its
        -- kind's.
        kinds as (
            select
                indicator_id,
                any_value(name_zh) as indicator_zh,
                coalesce(
                    min(cast(value_check_factor as double)), case any_value(kind) {factors} end
                ) as limit_factor
            from raw.indicators
            group by indicator_id
        ),

        -- Narrow rows, so that the window over millions of them sorts little: the details of
        -- the few values named are joined back by rowid.
        landed as (
            select
                landed.rowid as row_id,
                landed.geo_id,
                landed.indicator_id,
                landed.period_grain,
                landed.basis,
                landed.period_end,
                landed.reported_on,
                landed.loaded_at,
                landed.value,
                fresh.source_file is not null as is_fresh
            from raw.progress_rows as landed
            semi join pairs using (geo_id, indicator_id)
            left join unchecked as fresh
                on
                    landed.source_file = fresh.source_file
                    and landed.file_sha256 = fresh.file_sha256
            {withdrawn}
            where landed.is_reported and landed.value > 0
        ),

        -- The series (geography, indicator, period length, basis) of the file whose largest
        -- value is at least the limit times its smallest: no two reports of any other series
        -- can be that far apart, and one aggregate over the rows spares the window below
        -- sorting them (most series, whose values stay within a few times each other).
        suspect_series as (
            select spread.geo_id, spread.indicator_id, spread.period_grain, spread.basis
            from (
                select
                    geo_id, indicator_id, period_grain, basis,
                    max(value) / min(value) as spread
                from landed
                group by geo_id, indicator_id, period_grain, basis
                having bool_or(is_fresh)
            ) as spread
            inner join kinds on spread.indicator_id = kinds.indicator_id
            where spread.spread >= kinds.limit_factor
        ),

        -- In each series (geography, indicator, period length, basis), the periods in order
        -- and each period's revisions in the order of int_actuals_revisioned (reported_on, a
        -- blank one first, then loaded_at; a file's rows share their loaded_at, and two rows
        -- of one file for a period are quarantined): a period's latest revision is its last.
        ordered as (
            select
                *,
                lead(period_end) over series is distinct from period_end as is_latest
            from landed
            semi join suspect_series using (geo_id, indicator_id, period_grain, basis)
            window series as ({_SERIES})
        ),

        -- The report before each: the last latest revision before it, which is the period
        -- before's (an earlier revision of its own period is not its period's latest) — a
        -- correction is compared with the period before, not with the slip it corrects.
        with_previous as (
            select
                *,
                last_value(
                    case when is_latest then {{'value': value, 'row_id': row_id,
                        'is_fresh': is_fresh}} end
                    ignore nulls
                ) over ({_SERIES} rows between unbounded preceding and 1 preceding) as previous
            from ordered
        ),

        -- Each report of the files checked, and the latest report of a period after one they
        -- fill in, landed before them.
        pairs_compared as (
            select
                row_id,
                indicator_id,
                value,
                previous.row_id as previous_row_id,
                previous.value as previous_value
            from with_previous
            where is_fresh or (is_latest and previous.is_fresh)
        ),

        flagged as (
            select
                pairs_compared.row_id,
                pairs_compared.previous_row_id,
                pairs_compared.value / pairs_compared.previous_value as factor,
                kinds.indicator_zh
            from pairs_compared
            inner join kinds on pairs_compared.indicator_id = kinds.indicator_id
            where
                pairs_compared.value / pairs_compared.previous_value >= kinds.limit_factor
                or pairs_compared.previous_value / pairs_compared.value >= kinds.limit_factor
        ),

        compared as (
            select
                fresh.*,
                previous.period_start as previous_period_start,
                previous.period_end as previous_period_end,
                previous.value as previous_value,
                previous.source_file as previous_source_file,
                previous.sheet as previous_sheet,
                previous.source_row as previous_source_row,
                previous.source_column as previous_source_column,
                flagged.factor,
                flagged.indicator_zh
            from flagged
            inner join raw.progress_rows as fresh on flagged.row_id = fresh.rowid
            inner join raw.progress_rows as previous on flagged.previous_row_id = previous.rowid
        )

        select
            compared.source_file,
            compared.file_sha256,
            compared.sheet,
            compared.source_row,
            compared.geo_id,
            compared.indicator_id,
            compared.period_start,
            compared.period_end,
            compared.value,
            compared.unit,
            compared.previous_period_start,
            compared.previous_period_end,
            compared.previous_value,
            compared.previous_source_file,
            compared.previous_sheet,
            compared.previous_source_row,
            compared.factor,
            'value_jump' as check_code,
            compared.source_file
            || coalesce(', sheet ' || compared.sheet, '')
            || ', row ' || compared.source_row
            || coalesce(' (' || compared.source_column || ')', '') || ': '
            || {_NUMBER.format(v="compared.value")} || ' ' || compared.unit
            || case
                when compared.unit_as_reported is distinct from compared.unit
                    then ' (written ' || compared.value_raw || ' '
                    || coalesce(compared.unit_as_reported, '') || ')'
                else ''
            end
            || ' for ' || coalesce(geographies.name_zh, compared.geo_id) || ' '
            || compared.indicator_zh || ' ' || {period} || ' is '
            || case
                when compared.factor >= 1
                    then format('{{:,}}', round(compared.factor)::bigint) || ' times'
                else '1/' || format('{{:,}}', round(1 / compared.factor)::bigint) || ' of'
            end
            || ' the report before it ('
            || {_NUMBER.format(v="compared.previous_value")} || ' ' || compared.unit || ' for '
            || {previous_period} || ', ' || compared.previous_source_file
            || coalesce(', sheet ' || compared.previous_sheet, '')
            || ', row ' || compared.previous_source_row
            || coalesce(' (' || compared.previous_source_column || ')', '')
            || '): a slip (a figure in 万元 under 亿元, a fraction for a percent, a digit typed '
            || 'twice)? It landed; if it is a slip, correct the file and send it again' as message,
            $loaded_at as loaded_at,
            $run_id as run_id,
            compared.source_column,
            compared.previous_source_column
        from compared
        left join raw.geographies as geographies on compared.geo_id = geographies.geo_id
        returning source_file, file_sha256, previous_source_file
        """,  # noqa: S608
        {"loaded_at": loaded_at, "run_id": run_id},
    ).fetchall()
    # Each named value by the landed file that brought it: its own, or, for the report after a
    # period filled in, the file that filled it in.
    fresh = set(con.execute("select source_file, file_sha256 from unchecked").fetchall())
    counts: dict[str, int] = {}
    for subject, sha, previous in checked:
        path = subject if (subject, sha) in fresh else previous
        counts[path] = counts.get(path, 0) + 1
    return counts
