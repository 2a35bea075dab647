"""The DataFrames each stage's suite validates, read from the working warehouse, and the suite
parameters that come from the catalog.

DuckDB → pandas goes through Arrow (`_pandas`), column by column in native code; reading row by
row through a DB-API cursor costs an order of magnitude more time and memory at millions of
rows. The landing frame holds only this run's new rows: validating each batch once gives the
same guarantee as re-validating all history every run.

A frame of more than CHUNK_ROWS rows is handed to Great Expectations in chunks, cut on the stage's
`chunk_key` (suites.py): at 9 million rows one frame took ~4 GB; in chunks of 250,000 rows the
gates stay at ~0.6 GB over the process's baseline (docs/performance.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from dagster_project.lib.dbt_state import changed_since_for_run
from dagster_project.lib.quality.suites import ANY_SPLIT, STAGES

CHUNK_ROWS = 250_000
GATE_MEMORY_LIMIT = "256MB"

Frames = Iterator[pd.DataFrame]


def _chunks(
    con: duckdb.DuckDBPyConnection,
    stage: str,
    sql: str,
    source: str,
    params: Sequence[Any] = (),
    chunk_rows: int | None = None,
) -> Frames:
    """The rows of `sql` as DataFrames of about `chunk_rows` rows, cut on the stage's chunk key.

    `sql` reads its main table as `({source})`; each chunk runs `sql` on the rows of `source`
    whose chunk key hashes to that chunk. Filtering before the query (rather than running it once
    and splitting the result) keeps DuckDB's share of memory small too: a window over the
    whole of a 9-million-row table would sort all of it at once.
    """
    key = STAGES[stage].chunk_key
    chunk_rows = chunk_rows or CHUNK_ROWS
    # Each chunk is a small query; left at the pipeline's limit, DuckDB would keep up to that much
    # of the table cached between chunks, on top of the frames (the 9M-row landing gate grew by
    # ~1 GB). The caller's connection ends with the gate; the next one sets the usual limit.
    con.execute(f"set memory_limit = '{GATE_MEMORY_LIMIT}'")
    if key == ANY_SPLIT:
        # One query, its result read a batch at a time as DuckDB streams it: one scan of the
        # table, where cutting by hash scans it once per chunk.
        reader = con.sql(sql.replace("{source}", source), params=list(params)).fetch_arrow_reader(
            chunk_rows
        )
        empty = True
        for batch in reader:
            empty = False
            yield _pandas(batch)
        if empty:  # still one frame: the suite checks the columns
            yield _pandas(reader.schema.empty_table())
        return
    # `source`, `sql` and `key` are this module's constants; values are bound parameters.
    count_sql = f"select count(*) from ({source})"  # noqa: S608
    total = con.execute(count_sql, list(params)).fetchall()[0][0]
    parts = math.ceil(total / chunk_rows) if key and total > chunk_rows else 1
    for part in range(parts):
        chunk = (
            source
            if parts == 1
            else (
                f"select * from ({source}) where hash({key}) % {parts} = {part}"  # noqa: S608
            )
        )
        yield _pandas(con.sql(sql.replace("{source}", chunk), params=list(params)).to_arrow_table())


def _pandas(data: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Arrow to pandas: text columns stay Arrow-backed strings (pandas' StringDtype), dates become
    datetime64. DuckDB's own `.df()` made a Python object of every text cell: 0.2 s for each
    250,000-row chunk of actuals, against 0.06 s this way, and 5.4 s against 0.5 s for the 9M
    landed rows."""
    return data.to_pandas(date_as_object=False)


def _ids(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [row[0] for row in con.execute(sql).fetchall()]


def catalog_frame(con: duckdb.DuckDBPyConnection) -> tuple[Frames, dict[str, Any]]:
    frames = _chunks(
        con,
        "catalog",
        """
        select
            targets.target_id, targets.plan_id, targets.indicator_id, targets.action_id,
            targets.geo_id, targets.comparator, targets.cadence, targets.target_value,
            targets.due_date, plans.horizon_start, plans.horizon_end, targets.source_file,
            case when known_geographies.geo_id is null then targets.geo_id end as unknown_geo_id
        from ({source}) as targets
        left join raw.plans as plans on targets.plan_id = plans.plan_id
        left join (select distinct geo_id from raw.geographies) as known_geographies
            on targets.geo_id = known_geographies.geo_id
        """,
        "select * from raw.targets",
    )
    parameters = {
        "indicator_ids": _ids(con, "select distinct indicator_id from raw.indicators"),
        "action_ids": _ids(con, "select action_id from raw.actions"),
    }
    return frames, parameters


def landing_frame(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[Frames, dict[str, Any]]:
    frames = _chunks(
        con,
        "landing",
        """
        with bounds as (
            select
                indicator_id,
                min(plausible_min) as plausible_min,
                max(plausible_max) as plausible_max
            from raw.indicators
            group by indicator_id
        ),

        window_ as (
            select
                min(least(
                    horizon_start, date_trunc('year', coalesce(baseline_date, horizon_start))
                ))
                    as window_start,
                max(horizon_end) as window_end
            from raw.plans
        )

        select
            rows.source_file, rows.file_sha256, rows.sheet, rows.source_row, rows.source_column,
            rows.geo_id,
            rows.indicator_id, rows.period_start, rows.period_end, rows.value, rows.unit,
            rows.is_reported,
            coalesce(isfinite(rows.value), false) as value_is_finite,
            case when known_geographies.geo_id is null then rows.geo_id end as unknown_geo_id,
            case when bounds.indicator_id is null then rows.indicator_id end
                as unknown_indicator_id,
            bounds.plausible_min, bounds.plausible_max,
            cast(window_.window_start as date) as window_start,
            window_.window_end
        from ({source}) as rows
        left join bounds on rows.indicator_id = bounds.indicator_id
        left join (select distinct geo_id from raw.geographies) as known_geographies
            on rows.geo_id = known_geographies.geo_id
        cross join window_
        """,
        "select * from raw.progress_rows where run_id = ?",
        [run_id],
    )
    return frames, {}


def staging_frame(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[Frames, dict[str, Any]]:
    """The actuals of the pairs this run's dbt build recomputed: all of them after a full
    refresh, only those with new reports after an incremental build (the others are the rows an
    earlier run validated, untouched since; lib/dbt_state.py)."""
    since = changed_since_for_run(con, run_id)
    source, params = "select * from marts.fct_actual", []
    if since is not None:
        source = """
            select actual.*
            from marts.fct_actual as actual
            semi join (
                select distinct geo_id, indicator_id from raw.progress_rows where loaded_at > ?
            ) as changed
                on actual.geo_id = changed.geo_id and actual.indicator_id = changed.indicator_id
        """
        params = [since]
    frames = _chunks(
        con,
        "staging",
        """
        with indicators as (
            select indicator_id, min(unit) as indicator_unit, min(kind) as indicator_kind
            from raw.indicators
            group by indicator_id
        ),

        actuals as (
            select
                actual.geo_id, actual.indicator_id, actual.period_start, actual.period_end,
                actual.value, actual.unit, indicators.indicator_unit, actual.source_file,
                actual.source_row, actual.source_column,
                coalesce(actual.basis = 'ytd' and indicators.indicator_kind = 'flow', false)
                    as is_ytd_flow
            from ({source}) as actual
            inner join indicators on actual.indicator_id = indicators.indicator_id
        )

        -- Change from the previous year-to-date value of the same year (non-negative flows only
        -- grow within a year); empty for the first value of a year, and for other rows. The
        -- window runs over the year-to-date flows only: over every row it was half of each
        -- 250,000-row chunk's query (0.15 → 0.08 s), for values thrown away.
        select
            * exclude (is_ytd_flow),
            value - lag(value) over (
                partition by geo_id, indicator_id, year(period_end) order by period_end
            ) as ytd_change
        from actuals
        where is_ytd_flow
        union all
        select * exclude (is_ytd_flow), null as ytd_change
        from actuals
        where not is_ytd_flow
        """,
        source,
        params,
    )
    return frames, {}


# The targets fct_target_vs_actual must hold: every target whose plan's first month has come by
# the as-of date the build judged at (its months run from there). A plan added ahead of its
# horizon, or a look back to before it (PLAN_TRACKER_AS_OF_DATE), has no months yet.
TARGETS_BEGUN_SQL = """
select targets.target_id
from raw.targets as targets
inner join raw.plans as plans on targets.plan_id = plans.plan_id
where date_trunc('month', plans.horizon_start) <= (select as_of_date from dq.dbt_build_plan)
"""


def marts_frame(con: duckdb.DuckDBPyConnection) -> tuple[Frames, dict[str, Any]]:
    frames = _chunks(
        con,
        "marts",
        """
        with children as (
            select
                geographies.parent_geo_id as geo_id,
                measures.indicator_id,
                measures.month_end,
                sum(measures.value) as children_sum
            from intermediate.int_measures_monthly as measures
            inner join raw.geographies as geographies on measures.geo_id = geographies.geo_id
            where measures.value_source = 'reported' and geographies.parent_geo_id is not null
            group by all
        ),

        areas as (
            select
                measures.geo_id, measures.indicator_id, measures.month_end,
                measures.value - children.children_sum as rollup_difference
            from intermediate.int_measures_monthly as measures
            inner join children
                on measures.geo_id = children.geo_id
                and measures.indicator_id = children.indicator_id
                and measures.month_end = children.month_end
            where measures.value_source = 'rolled_up'
        )

        select
            status.target_id, status.month_end, status.status, status.projected_status,
            status.is_final, status.is_final_overdue, status.is_data_stale,
            status.attainment_ratio,
            status.actual_value is not null as has_actual,
            areas.rollup_difference
        from ({source}) as status
        left join areas
            on status.geo_id = areas.geo_id
            and status.indicator_id = areas.indicator_id
            and status.month_end = areas.month_end
            and status.value_source = 'rolled_up'
        """,
        "select * from marts.fct_target_vs_actual",
    )
    return frames, {"target_ids": _ids(con, TARGETS_BEGUN_SQL)}
