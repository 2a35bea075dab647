"""When a dbt build may be incremental (lib/dbt_state.py)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from dagster_project.defs.jobs import daily_refresh_schedule
from dagster_project.lib.dbt_state import (
    INCREMENTAL_SELECTION,
    TODAY_SQL,
    as_of_date_from_env,
    build_env,
    changed_since_for_run,
    fingerprint,
    incremental_selection,
    plan_build,
    record_build,
    unchanged_models,
)
from dagster_project.lib.paths import DBT_DIR
from dagster_project.lib.progress.rules import PARSE_SQL
from dagster_project.lib.sql import OFFICE_TIMEZONE, OFFICE_TODAY_SQL

REPO = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 25)


def _warehouse(loaded: list[dt.datetime]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw; create schema dq")
    con.execute(
        "create table raw.progress_rows (geo_id varchar, indicator_id varchar, "
        "loaded_at timestamptz, period_start date, reported_on date)"
    )
    for t in loaded:
        con.execute(
            "insert into raw.progress_rows values ('wuhan', 'gdp', ?, '2025-04-01', null)", [t]
        )
    return con


def _pairs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute("select * from dq.dbt_build_pairs order by all").fetchall()


def test_first_build_is_full_then_incremental_from_what_it_read() -> None:
    first = dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)
    con = _warehouse([first])
    plan = plan_build(con, "f1", TODAY)
    assert plan.full_refresh and plan.changed_since is None and plan.loaded_through == first
    assert plan.dbt_args() == ["--full-refresh"]
    assert con.execute("select changed_since, full_refresh from dq.dbt_build_plan").fetchall() == [
        (None, True)
    ]
    # every pair, for a build by hand, from the start of the year of its earliest report
    assert _pairs(con) == [("wuhan", "gdp", dt.date(2025, 1, 1))]
    record_build(con, plan, "run-1")
    assert changed_since_for_run(con, "run-1") is None

    later = dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC)
    con.executemany(
        "insert into raw.progress_rows values ('xiaogan', 'gdp', ?, ?, null)",
        [[later, dt.date(2026, 10, 1)], [later, dt.date(2025, 7, 1)]],
    )
    plan = plan_build(con, "f1", TODAY)
    assert not plan.full_refresh
    assert plan.changed_since == first and plan.loaded_through == later
    assert plan.dbt_args() == []
    # What the models read (dbt/macros/incremental.sql):
    assert con.execute("select changed_since, full_refresh from dq.dbt_build_plan").fetchall() == [
        (first, False)
    ]
    # only the pair with a report loaded since; no month before 2025 can have moved
    assert _pairs(con) == [("xiaogan", "gdp", dt.date(2025, 1, 1))]
    record_build(con, plan, "run-2")
    assert changed_since_for_run(con, "run-2") == first
    assert changed_since_for_run(con, "run-3") is None


def test_the_as_of_date_is_today_in_the_plan_offices_time_zone() -> None:
    con = _warehouse([])
    plan = plan_build(con, "f1")
    assert plan.as_of_date == dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    # The build is handed that date, so that a run across midnight builds at the date it planned.
    assert build_env(plan) == {"PLAN_TRACKER_AS_OF_DATE": plan.as_of_date.isoformat()}
    # dbt's macro as_of_date and the daily schedule use the same time zone.
    project = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["office_timezone"] == OFFICE_TIMEZONE == "Asia/Shanghai"
    assert daily_refresh_schedule.execution_timezone == OFFICE_TIMEZONE
    # … and the ingest rule for a period not yet started.
    assert f"period_start > {OFFICE_TODAY_SQL} then 'period_in_future'" in PARSE_SQL


def test_the_office_day_is_not_the_servers_utc_day() -> None:
    """At 06:00 Beijing time, the daily run, a UTC server's date is still yesterday's."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    day = con.execute(
        TODAY_SQL.replace("current_timestamp", "timestamptz '2026-11-30 22:00:00+00'")
    ).fetchall()[0][0]
    assert day == dt.date(2026, 12, 1)


def test_a_new_fingerprint_or_an_earlier_as_of_date_means_a_full_refresh() -> None:
    def built() -> duckdb.DuckDBPyConnection:
        con = _warehouse([dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)])
        record_build(con, plan_build(con, "f1", TODAY), "run-1")
        return con

    changed = plan_build(built(), "f2", TODAY)
    assert changed.full_refresh and "dbt project changed" in changed.reason
    for other in (TODAY - dt.timedelta(days=1), dt.date(2025, 11, 26)):
        moved = plan_build(built(), "f1", other)  # back
        assert moved.full_refresh, other
        assert moved.reason == f"the as-of date moved back from {TODAY} to {other}"
    assert not plan_build(built(), "f1", TODAY).full_refresh
    later = plan_build(built(), "f1", dt.date(2026, 12, 1))
    assert not later.full_refresh and later.into_another_month
    assert later.reason.endswith("moved from 2026-11-25 to 2026-12-01, into another month")
    assert incremental_selection(later) == f"{INCREMENTAL_SELECTION} int_expected_reports"
    same_month = plan_build(built(), "f1", dt.date(2026, 11, 30))
    assert not same_month.into_another_month
    assert incremental_selection(same_month) == INCREMENTAL_SELECTION


def test_a_later_day_of_the_month_rebuilds_the_pairs_with_reports_dated_in_between() -> None:
    con = _warehouse([dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)])
    con.executemany(
        "insert into raw.progress_rows values (?, 'gdp', '2026-11-25 01:00+00', ?, ?)",
        [
            ["xiaogan", dt.date(2026, 10, 1), dt.date(2026, 11, 26)],  # known on the 26th
            ["xianning", dt.date(2026, 10, 1), dt.date(2026, 11, 28)],  # known on the 28th
            ["ezhou", dt.date(2026, 9, 1), dt.date(2026, 11, 25)],  # known already
        ],
    )
    record_build(con, plan_build(con, "f1", TODAY), "run-1")
    plan = plan_build(con, "f1", dt.date(2026, 11, 27))
    assert not plan.full_refresh and plan.as_of_moved_from == TODAY
    assert plan.reason.endswith(
        "; the as-of date moved from 2026-11-25 to 2026-11-27, within its month"
    )
    assert con.execute("select as_of_moved_from from dq.dbt_build_plan").fetchall() == [(TODAY,)]
    assert _pairs(con) == [("xiaogan", "gdp", dt.date(2026, 1, 1))]
    # The same day again: nothing dated in between, no move.
    record_build(con, plan, "run-2")
    plan = plan_build(con, "f1", dt.date(2026, 11, 27))
    assert not plan.full_refresh and plan.as_of_moved_from is None and _pairs(con) == []
    assert con.execute("select as_of_moved_from from dq.dbt_build_plan").fetchall() == [(None,)]


def test_a_report_without_a_date_is_known_from_the_office_day_it_was_loaded() -> None:
    """Loaded at 06:00 Beijing time on the 27th, a UTC server's 26th, with no report date: known
    on the 27th (the as-of date is the office's day), so a build at the 26th leaves it out and
    the move to the 27th brings its pair in."""
    con = _warehouse([])
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        "insert into raw.progress_rows values ('xiaogan', 'gdp', '2026-11-26 22:00+00', "
        "'2026-10-01', null)"
    )
    record_build(con, plan_build(con, "f1", dt.date(2026, 11, 26)), "run-1")
    plan = plan_build(con, "f1", dt.date(2026, 11, 27))
    assert not plan.full_refresh and plan.as_of_moved_from == dt.date(2026, 11, 26)
    assert _pairs(con) == [("xiaogan", "gdp", dt.date(2026, 1, 1))]


def test_the_as_of_date_can_be_set_for_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAN_TRACKER_AS_OF_DATE", " 2026-06-30 ")
    assert plan_build(_warehouse([]), "f1").as_of_date == dt.date(2026, 6, 30)
    monkeypatch.setenv("PLAN_TRACKER_AS_OF_DATE", "")
    assert as_of_date_from_env() is None
    monkeypatch.setenv("PLAN_TRACKER_AS_OF_DATE", "2026-06")
    with pytest.raises(ValueError, match=r"PLAN_TRACKER_AS_OF_DATE='2026-06' is not a date"):
        plan_build(_warehouse([]), "f1")


def test_fingerprint_follows_content_not_location(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw" / "plans", raw / "plans")
    shutil.copytree(REPO / "raw" / "reference", raw / "reference")
    shutil.copy(REPO / "raw" / "withdrawals.csv", raw / "withdrawals.csv")
    dbt = REPO / "dbt"
    assert fingerprint(raw, dbt) == fingerprint(REPO / "raw", dbt)
    (raw / "progress").mkdir()
    (raw / "progress" / "new.csv").write_text("reports do not count\n", encoding="utf-8")
    assert fingerprint(raw, dbt) == fingerprint(REPO / "raw", dbt)
    # A file withdrawn (raw/withdrawals.csv) moves pairs no report was loaded for.
    ledger = raw / "withdrawals.csv"
    ledger.write_text(ledger.read_text(encoding="utf-8") + "progress/a.csv,,x,\n", "utf-8")
    assert fingerprint(raw, dbt) != fingerprint(REPO / "raw", dbt)
    shutil.copy(REPO / "raw" / "withdrawals.csv", ledger)
    units = raw / "reference" / "units.csv"
    units.write_text(units.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert fingerprint(raw, dbt) != fingerprint(REPO / "raw", dbt)
    # A singular test of the project changed: its next build is a full one, which runs it.
    copy = tmp_path / "dbt"
    shutil.copytree(dbt, copy, ignore=shutil.ignore_patterns("target", "logs"))
    assert fingerprint(raw, copy) == fingerprint(raw, dbt)
    (copy / "tests" / "assert_new.sql").write_text("select 1 where false\n", encoding="utf-8")
    assert fingerprint(raw, copy) != fingerprint(raw, dbt)


def test_a_state_table_from_before_the_reason_column_is_brought_up_to_date() -> None:
    con = _warehouse([dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)])
    con.execute(
        "create table dq.dbt_build_state (built_at timestamptz, run_id varchar, "
        "fingerprint varchar, as_of_date date, full_refresh boolean, changed_since timestamptz, "
        "loaded_through timestamptz)"
    )
    record_build(con, plan_build(con, "f1", TODAY), "run-1")
    assert con.execute("select run_id, reason from dq.dbt_build_state").fetchall() == [
        ("run-1", "no complete build recorded")
    ]


def test_an_incremental_build_leaves_out_only_what_reads_the_catalog_alone() -> None:
    manifest = json.loads((DBT_DIR / "target" / "manifest.json").read_text(encoding="utf-8"))
    left_out = unchanged_models(manifest)
    names = [uid.rsplit(".", 1)[1] for uid in left_out]
    assert {"stg_catalog__geographies", "dim_geography", "fct_target"} <= set(names)
    # Nothing that reads the reports, the manifest or the quarantine.
    for uid in left_out:
        upstream, stack = set(), [uid]
        while stack:
            for parent in manifest["parent_map"].get(stack.pop(), []):
                if parent not in upstream:
                    upstream.add(parent)
                    stack.append(parent)
        assert not any(
            p.endswith(("raw.progress_rows", "raw.file_manifest", "dq.quarantine"))
            for p in upstream
        ), uid
    assert {"stg_progress__rows", "fct_actual", "scorecard_plan"}.isdisjoint(names)
    # A build into another month selects the expected reports too (incremental_selection).
    assert "int_expected_reports" in names
    con = _warehouse([dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)])
    record_build(con, plan_build(con, "f1", TODAY), "run-1")
    later = plan_build(con, "f1", dt.date(2026, 12, 1))
    assert set(left_out) - set(unchanged_models(manifest, later)) == {
        uid for uid in left_out if uid.endswith(".int_expected_reports")
    }
    # Parents before children: a multi-asset yields its outputs in that order.
    position = {uid: n for n, uid in enumerate(left_out)}
    for uid in left_out:
        for parent in manifest["parent_map"][uid]:
            assert position.get(parent, -1) < position[uid]


def test_a_full_refresh_that_did_not_complete_is_done_again() -> None:
    first = dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)
    con = _warehouse([first])
    record_build(con, plan_build(con, "f1", TODAY), "run-1")
    # The catalog changes; that full refresh fails (nothing recorded); the change is undone.
    assert plan_build(con, "f2", TODAY).full_refresh
    plan = plan_build(con, "f1", TODAY)
    assert plan.full_refresh and plan.reason == "the last full refresh did not complete"
    record_build(con, plan, "run-3")
    assert not plan_build(con, "f1", TODAY).full_refresh


def test_a_build_that_moved_the_as_of_date_and_did_not_complete_is_followed_by_a_full_refresh() -> (
    None
):
    # Planned for the 1st of December, failed (it may have appended December's rows): the next
    # run starts from a full refresh, whatever its date.
    for day in (TODAY, dt.date(2026, 11, 28), dt.date(2026, 12, 1)):
        con = _warehouse([dt.datetime(2026, 11, 25, 1, tzinfo=dt.UTC)])
        record_build(con, plan_build(con, "f1", TODAY), "run-1")
        assert not plan_build(con, "f1", dt.date(2026, 12, 1)).full_refresh
        plan = plan_build(con, "f1", day)
        assert plan.full_refresh, day
        assert plan.reason == "the last build that moved the as-of date did not complete"
    record_build(con, plan, "run-3")
    # Completed: moving on is incremental again, and so is the next build once it completed.
    plan = plan_build(con, "f1", dt.date(2026, 12, 2))
    assert not plan.full_refresh and plan.as_of_moved_from == dt.date(2026, 12, 1)
    record_build(con, plan, "run-4")
    assert not plan_build(con, "f1", dt.date(2026, 12, 2)).full_refresh
