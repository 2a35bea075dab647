"""Whether a dbt build can be incremental, and from which load time (dbt/macros/incremental.sql).

The actuals chain is rebuilt per geography × indicator: an incremental build recomputes the pairs
with a report loaded since the last complete build and keeps the others. That is only right while
nothing else those rows depend on has moved, so a build is a full refresh when

- no complete build is recorded (first run, or a new working file);
- the fingerprint differs: the plan catalog and reference files (raw/plans, raw/reference), the
  ledger of withdrawn files (raw/withdrawals.csv) or the dbt project (models, macros,
  dbt_project.yml) changed — new aliases, indicator kinds, withdrawn reports or logic move pairs
  an incremental build would not know of;
- the as-of date moved back: reports known then may not be known now;
- the last plan was a full refresh that did not complete: it may have rebuilt some models from
  another catalog or project (undone since), which an incremental build would keep; or the last
  plan moved the as-of date and did not complete: it may have appended what its date added.

A later as-of date (with the default, today: the first build of each day) moves less, and the
build stays incremental: the reports dated after the last build's as-of date and on or before the
new one become known, so their pairs are rebuilt like those with new reports (dq.dbt_build_pairs);
the reports still missing are late by more days, and those whose due date passed become missing —
fct_report_completeness restates the reports not received and int_report_counts counts those
pairs again (macros/incremental.sql). Within a month nothing else moves (no reporting period ends
and no month of the spine begins: periods and the spine are months). Into another month, the
reporting periods ended since are added (int_expected_reports, selected for this build, and their
completeness), and every value is carried into the new months of the spine (int_measures_monthly
copies each unmoved pair's last month into them and computes the others again; the first shares
are looked for again where none was found).

Each complete, successful build appends a row to dq.dbt_build_state.

The build reads its `changed_since` from dq.dbt_build_plan, and the geography × indicator pairs
with a report loaded since then (each with the first month it may have moved from) from
dq.dbt_build_pairs, both written just before it, rather than from dbt variables: dbt re-parses
the whole project whenever its variables change (~2 s), and these change on every run. A build
by hand reads the last plan, whose pairs cover at least every report loaded up to it (an empty
`changed_since` means every pair).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib.progress.withdrawals import WITHDRAWALS_FILE
from dagster_project.lib.sql import KNOWN_ON_SQL, OFFICE_TODAY_SQL
from dagster_project.lib.version import files_digest

PLAN_DDL = """
create or replace table dq.dbt_build_plan as
select
    cast(? as timestamptz) as changed_since,
    cast(? as boolean) as full_refresh,
    cast(? as timestamptz) as planned_at,
    -- The last build's as-of date when this incremental build judges at a later one (null
    -- otherwise): the reports due from then on turn missing, the periods ended since are added.
    cast(? as date) as as_of_moved_from,
    -- The date the build judges status at (the marts gate expects a row of every target whose
    -- plan has begun by then: lib/quality/frames.py).
    cast(? as date) as as_of_date
"""

AS_OF_VARIABLE = "PLAN_TRACKER_AS_OF_DATE"
# Today in the plan office's time zone (lib/sql.py), as dbt's macro as_of_date asks it.
TODAY_SQL = f"select {OFFICE_TODAY_SQL}"

# The pairs an incremental build recomputes, written once with the plan: the models, their delete
# hooks and the tests' `where` read this small table instead of each filtering the 9M landed rows
# by load time. A table, not a subquery, also for DuckDB's join planner: it cannot estimate
# `loaded_at > (subquery)`, and joined that way to a filtered 9M-row model it built its hash
# table on the large side (fct_actual 2.3 s, spilling; 0.04 s against this table).
PAIRS_DDL = f"""
create or replace table dq.dbt_build_pairs as
select
    geo_id,
    indicator_id,
    -- No month before the start of the year of the pair's earliest new report can have moved.
    cast(date_trunc('year', min(period_start)) as date) as changed_from
from raw.progress_rows
where
    loaded_at > coalesce(cast(? as timestamptz), '-infinity'::timestamptz)
    -- Reports dated after the last build's as-of date, on or before this one: known now
    -- (int_actuals_known, fct_report_completeness), as if they had just been loaded.
    or {KNOWN_ON_SQL} between cast(? as date) + 1 and cast(? as date)
group by geo_id, indicator_id
"""  # noqa: S608 (a constant of lib/sql.py)

STATE_DDL = """
create table if not exists dq.dbt_build_state (
    built_at timestamptz,
    run_id varchar,
    fingerprint varchar,
    as_of_date date,
    full_refresh boolean,
    changed_since timestamptz,
    loaded_through timestamptz,
    reason varchar
);
-- Warehouses built before the column existed (earlier commits) get it added.
alter table dq.dbt_build_state add column if not exists reason varchar;
"""


@dataclass(frozen=True)
class BuildPlan:
    full_refresh: bool
    reason: str
    fingerprint: str
    as_of_date: dt.date
    changed_since: dt.datetime | None  # None: every pair is rebuilt
    loaded_through: dt.datetime | None  # the newest report load time the build reads
    # The last build's as-of date, when this incremental build judges at a later one.
    as_of_moved_from: dt.date | None = None

    def dbt_args(self) -> list[str]:
        return ["--full-refresh"] if self.full_refresh else []

    @property
    def into_another_month(self) -> bool:
        """Whether the as-of date moved into another month since the last build: reporting periods
        ended and months of the spine began since (int_expected_reports gains rows)."""
        moved = self.as_of_moved_from
        return moved is not None and (moved.year, moved.month) != (
            self.as_of_date.year,
            self.as_of_date.month,
        )


def fingerprint(raw_dir: Path, dbt_dir: Path) -> str:
    """A digest of everything besides the reports that the actuals chain depends on: a change
    of the ledger of withdrawn files too, rare, makes a full refresh. The singular tests too: an
    incremental build runs only the tests downstream of the reports, so a test of the catalog's
    models added or changed would wait for the next full refresh."""
    return files_digest(
        {
            raw_dir: ["plans", "reference", WITHDRAWALS_FILE],
            dbt_dir: ["models", "macros", "tests", "dbt_project.yml"],
        }
    )


def plan_build(
    con: duckdb.DuckDBPyConnection, fingerprint: str, as_of_date: dt.date | None = None
) -> BuildPlan:
    """Decide and write down (dq.dbt_build_plan) how the next dbt build runs. The as-of date:
    PLAN_TRACKER_AS_OF_DATE when set, else today in the plan office's time zone, asked of DuckDB
    as dbt's macro as_of_date asks it. The build is then handed this date (`build_env`), so that a
    run across midnight builds at the date it planned."""
    if as_of_date is None:
        as_of_date = as_of_date_from_env()
    if as_of_date is None:
        as_of_date = con.execute(TODAY_SQL).fetchall()[0][0]
    plan = _plan(con, fingerprint, as_of_date)
    con.execute(
        PLAN_DDL,
        [
            plan.changed_since,
            plan.full_refresh,
            dt.datetime.now(dt.UTC),
            plan.as_of_moved_from,
            plan.as_of_date,
        ],
    )
    # Without a move, the date range is empty (from the day after the as-of date to it).
    con.execute(PAIRS_DDL, [plan.changed_since, plan.as_of_moved_from or as_of_date, as_of_date])
    return plan


def build_env(plan: BuildPlan) -> dict[str, str]:
    """What the dbt build of `plan` is given besides the working file: the as-of date planned."""
    return {AS_OF_VARIABLE: plan.as_of_date.isoformat()}


def as_of_date_from_env() -> dt.date | None:
    """PLAN_TRACKER_AS_OF_DATE (a date such as 2026-06-30): the day a run judges status at, as
    dbt's macro as_of_date reads it too; None when unset or empty (today)."""
    value = os.environ.get(AS_OF_VARIABLE, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{AS_OF_VARIABLE}={value!r} is not a date such as 2026-06-30 "
            "(leave it empty for today)"
        ) from None


def _plan(con: duckdb.DuckDBPyConnection, fingerprint: str, as_of_date: dt.date) -> BuildPlan:
    con.execute(STATE_DDL)
    loaded_through = con.execute("select max(loaded_at) from raw.progress_rows").fetchall()[0][0]
    last = con.execute(
        "select fingerprint, as_of_date, loaded_through from dq.dbt_build_state "
        "order by built_at desc limit 1"
    ).fetchall()

    def full(reason: str) -> BuildPlan:
        return BuildPlan(True, reason, fingerprint, as_of_date, None, loaded_through)

    if not last:
        return full("no complete build recorded")
    unfinished = _unfinished(con)
    if unfinished:
        return full(unfinished)
    last_fingerprint, last_as_of, last_loaded_through = last[0]
    if last_fingerprint != fingerprint:
        return full("the plan catalog, reference files, withdrawals or dbt project changed")
    if last_as_of != as_of_date and (last_as_of is None or as_of_date < last_as_of):
        return full(f"the as-of date moved back from {last_as_of} to {as_of_date}")
    if last_loaded_through is None:
        return full("the last build read no reports")
    reason = f"reports loaded after {last_loaded_through.isoformat()}"
    moved_from = None
    if last_as_of != as_of_date:
        moved_from = last_as_of
        same_month = (last_as_of.year, last_as_of.month) == (as_of_date.year, as_of_date.month)
        reason += f"; the as-of date moved from {last_as_of} to {as_of_date}, " + (
            "within its month" if same_month else "into another month"
        )
    return BuildPlan(
        False,
        reason,
        fingerprint,
        as_of_date,
        last_loaded_through,
        loaded_through,
        moved_from,
    )


def _unfinished(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the tables may no longer be those of the last complete build, or None: the last plan
    was a full refresh, or moved the as-of date, and no complete build followed it.

    A full refresh rebuilds some models from scratch, maybe from another catalog or project. A
    build that moved the as-of date appends what the new date adds (periods ended since, months of
    the spine) and rebuilds the pairs known by it: done again from the last complete build, or at
    another date, those rows would be appended twice, or kept where they no longer hold. An
    incremental build of the same date only rebuilds pairs whole, which the next one does again.
    A Dagster run that builds a subset plans too and records nothing: the next build is then a
    full refresh.
    """
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() "
            "where schema_name = 'dq' and table_name = 'dbt_build_plan'"
        ).fetchall()
    }
    if "planned_at" not in columns:  # no plan yet, or one written before the column existed
        return None
    moved = "as_of_moved_from" if "as_of_moved_from" in columns else "null"
    previous = con.execute(
        f"select full_refresh, planned_at, {moved} is not null from dq.dbt_build_plan"  # noqa: S608
    ).fetchall()
    if not previous or previous[0][1] is None:
        return None
    full_refresh, planned_at, moved_date = previous[0]
    if not full_refresh and not moved_date:
        return None
    completed = con.execute(
        "select count(*) from dq.dbt_build_state where built_at > ? and (full_refresh or ?)",
        [planned_at, not full_refresh],
    ).fetchall()[0][0]
    if completed:
        return None
    if full_refresh:
        return "the last full refresh did not complete"
    return "the last build that moved the as-of date did not complete"


def record_build(con: duckdb.DuckDBPyConnection, plan: BuildPlan, run_id: str) -> None:
    con.execute(STATE_DDL)
    row: list[Any] = [
        dt.datetime.now(dt.UTC),
        run_id,
        plan.fingerprint,
        plan.as_of_date,
        plan.full_refresh,
        plan.changed_since,
        plan.loaded_through,
        plan.reason,
    ]
    con.execute(
        "insert into dq.dbt_build_state (built_at, run_id, fingerprint, as_of_date, full_refresh, "
        "changed_since, loaded_through, reason) values (?, ?, ?, ?, ?, ?, ?, ?)",
        row,
    )


def changed_since_for_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dt.datetime | None:
    """`changed_since` of the build this run recorded, or None when it rebuilt every pair (or
    recorded no complete build): then every pair counts as changed."""
    con.execute(STATE_DDL)
    rows = con.execute(
        "select changed_since from dq.dbt_build_state where run_id = ? "
        "order by built_at desc limit 1",
        [run_id],
    ).fetchall()
    return rows[0][0] if rows else None


# The sources every run writes (the ingest). An incremental build selects what is downstream of them
# (dbt's `source:<name>+`); the rest reads the catalog and the dbt project only, unchanged since the
# last complete build (else the build is a full refresh), which built and tested it.
RUN_SOURCES = ("raw.progress_rows", "raw.file_manifest", "dq.quarantine")
INCREMENTAL_SELECTION = " ".join(f"source:{name}+" for name in RUN_SOURCES)
# Reads the catalog and the as-of date: selected too when the date moved into another month.
NEW_PERIODS_MODEL = "int_expected_reports"


def incremental_selection(plan: BuildPlan) -> str:
    """dbt's `--select` for an incremental build of `plan`."""
    if plan.into_another_month:
        return f"{INCREMENTAL_SELECTION} {NEW_PERIODS_MODEL}"
    return INCREMENTAL_SELECTION


def unchanged_models(manifest: Mapping[str, Any], plan: BuildPlan | None = None) -> list[str]:
    """The models an incremental build (of `plan`) leaves out — not downstream of RUN_SOURCES,
    nor selected by `incremental_selection` —, parents before children: the unique ids of a
    parsed manifest (manifest.json's shape)."""
    also_selected = {NEW_PERIODS_MODEL} if plan is not None and plan.into_another_month else set()
    wanted = {tuple(name.split(".", 1)) for name in RUN_SOURCES}
    start = [
        uid
        for uid, source in manifest["sources"].items()
        if (source["source_name"], source["name"]) in wanted
    ]
    downstream: set[str] = set()
    stack = list(start)
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child not in downstream:
                downstream.add(child)
                stack.append(child)
    models = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and uid not in downstream
        and node["name"] not in also_selected
    }
    ordered: list[str] = []
    done: set[str] = set()

    def visit(uid: str) -> None:
        if uid in done:
            return
        done.add(uid)
        for parent in manifest["parent_map"].get(uid, []):
            if parent in models:
                visit(parent)
        ordered.append(uid)

    for uid in sorted(models):
        visit(uid)
    return ordered
