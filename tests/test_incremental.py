"""Incremental dbt builds (dbt/macros/incremental.sql, lib/dbt_state.py): a run with new reports
rebuilds only the geography × indicator pairs they touch, and ends with exactly the tables a full
refresh builds from the same reports."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.exports import HISTORY_MARTS
from tests.conftest import run_pipeline

pytestmark = pytest.mark.slow

TABLES = (
    "intermediate.int_actuals_revisioned",
    "intermediate.int_actuals_known",
    "intermediate.int_flow_ytd_chained",
    "marts.fct_actual",
    "marts.fct_actual_history",
    "intermediate.int_measures_monthly",
    "intermediate.int_expected_reports",
    "marts.fct_report_completeness",
    "intermediate.int_report_counts",
    "marts.fct_target_vs_actual",
    "intermediate.int_member_first_shares",
    "marts.fct_target_contribution",
    # Left out of an incremental build (they read the catalog only), and what reads them.
    "marts.dim_geography",
    "marts.fct_target",
    "marts.scorecard_plan",
    "marts.scorecard_geography",
)


def _tables(published: Path) -> dict[str, Counter[tuple]]:
    # Rows counted, not a set of them: a row an incremental build appended twice must show.
    with duckdb.connect(str(published), read_only=True) as con:
        return {t: Counter(con.execute(f"select * from {t}").fetchall()) for t in TABLES}


def _last_build(work: Path) -> tuple[bool, object]:
    with duckdb.connect(str(work), read_only=True) as con:
        return con.execute(
            "select full_refresh, changed_since from dq.dbt_build_state "
            "order by built_at desc limit 1"
        ).fetchall()[0]


def _assert_exports_are_the_marts(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """The history marts' Parquet folders hold exactly the published tables."""
    for mart in HISTORY_MARTS:
        files = f"read_parquet('{warehouse / 'exports' / mart}/*.parquet')"
        assert con.execute(
            f"select count(*) from (select * from marts.{mart} except all select * from {files}"
            f" union all (select * from {files} except all select * from marts.{mart}))"
        ).fetchall() == [(0,)], mart


def _full_refresh(
    raw: Path, warehouse: Path, env: dict[str, str] | None = None
) -> dict[str, Counter[tuple]]:
    """The tables a full refresh builds from the same reports: the build state forgotten first."""
    with duckdb.connect(str(warehouse / "work" / "plan_tracker.duckdb")) as con:
        con.execute("delete from dq.dbt_build_state")
    printed = run_pipeline(raw, warehouse, env=env).stdout
    assert "dbt: full refresh (no complete build recorded)" in printed
    return _tables(warehouse / "plan_tracker.duckdb")


def test_incremental_build_equals_a_full_refresh(copies: tuple[Path, Path]) -> None:
    raw, warehouse = copies
    work = warehouse / "work" / "plan_tracker.duckdb"
    published = warehouse / "plan_tracker.duckdb"
    inbox = raw / "progress" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    header = "报告期,城市,指标,数值,单位,口径,填报日期\n"
    # A new month for one city, corrections of earlier months (one its area's first month with
    # values: every member's first share of it moves) and a new year-to-date figure; and a
    # year-to-date figure for a member whose first share is from the year before (kept:
    # int_member_first_shares).
    (inbox / "huangshi_2026-10.csv").write_text(
        header
        + "2026-10,黄石,技术合同成交额,3.5,亿元,当期,2026-11-20\n"
        + "2026-03,黄石,技术合同成交额,1.25,亿元,当期,2026-11-21\n"
        + "2026-01,黄石,技术合同成交额,0.9,亿元,当期,2026-11-21\n"
        + "2026年1-10月,鄂州,技术合同成交额,20,亿元,累计,2026-11-21\n"
        + "2026年1-10月,武汉,新能源汽车产量,61.5,万辆,累计,2026-11-21\n"
        # A correction a digit off (421 before): landed, and named as a value to check.
        + "2026年三季度,黄石,规上高新技术企业,4210,家,当期,2026-11-21\n",
        encoding="utf-8",
    )
    result = run_pipeline(raw, warehouse)
    printed = result.stdout
    assert "this run: 1 value(s) landed to check" in printed
    assert "dbt: incremental (reports loaded after " in printed
    # The dbt tests it left out keep their last outcome: no blocking check without a result, and
    # nothing a person has to read past.
    assert "emitted no result" not in result.stderr
    assert "leaked semaphore" not in result.stderr
    full_refresh, changed_since = _last_build(work)
    assert full_refresh is False and changed_since is not None
    incremental = _tables(published)
    # The history marts' Parquet folders were rewritten where the new reports fell, and hold
    # exactly the published tables.
    state = json.loads((warehouse / "exports" / "_state.json").read_text(encoding="utf-8"))
    # huangshi, ezhou, wuhan and their area: four geographies, at most four files of 32
    assert re.match(r"[1-4] of 32 files of each history mart rewritten", state["last_exports"])
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select rows_loaded from raw.file_manifest where source_file like '%huangshi_2026-10%'"
        ).fetchall() == [(6,)]
        # The warning of the run, in Dagster (not a gate: the run published) and recorded.
        assert con.execute(
            "select success, severity, observed_value ->> 'values_to_check' "
            "from dq.check_results where check_name = 'progress_values_to_check' "
            "order by checked_at desc limit 1"
        ).fetchall() == [(False, "warn", "1")]
        _assert_exports_are_the_marts(con, warehouse)
        # The catalog was kept, and its gate's outcome on it stands: named, not run again.
        (carried,) = con.execute(
            "select observed_value ->> 'outcome_of_run' from dq.check_results "
            "where check_name = 'catalog_targets_pass_catalog_suite' "
            "order by checked_at desc limit 1"
        ).fetchall()[0]
        assert carried is not None

    full = _full_refresh(raw, warehouse)
    assert _last_build(work) == (True, None)
    for table in TABLES:
        assert incremental[table] == full[table], table


def _land(path: Path, *rows: str) -> None:
    """A progress file of `rows` (period, city, indicator, value, unit, basis, report date)."""
    header = "报告期,城市,指标,数值,单位,口径,填报日期\n"
    path.write_text(header + "".join(f"{r}\n" for r in rows), encoding="utf-8")


def _missing(published: Path) -> dict[tuple[str, str, object], int]:
    """The reports missing, with their days late."""
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select geo_id, indicator_id, period_start, days_late "
            "from marts.fct_report_completeness where report_status = 'missing'"
        ).fetchall()
    return {(geo, indicator, start): late for geo, indicator, start, late in rows}


def test_a_later_as_of_date_is_an_incremental_build(copies: tuple[Path, Path]) -> None:
    """The as-of date (PLAN_TRACKER_AS_OF_DATE here, today by default) moving on keeps the build
    incremental (lib/dbt_state.py): reports dated in between become known, missing reports are
    late by more days, reports due in between turn missing; into another month, the periods ended
    since are expected and every value is carried into the new month — and the tables are those
    of a full refresh at the new date. Back is a full refresh."""
    raw, warehouse = copies
    work = warehouse / "work" / "plan_tracker.duckdb"
    published = warehouse / "plan_tracker.duckdb"
    inbox = raw / "progress" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    # Landed now, dated after the first as-of date: a new month and a correction known on the
    # 24th, a year-to-date figure for an area's member not known until the 30th.
    _land(
        inbox / "huangshi_dated_ahead.csv",
        "2026-10,黄石,技术合同成交额,3.5,亿元,当期,2026-11-12",
        "2026-03,黄石,技术合同成交额,1.25,亿元,当期,2026-11-20",
        "2026年1-10月,鄂州,技术合同成交额,20,亿元,累计,2026-11-30",
    )
    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-11-08"}).stdout
    assert "dbt: full refresh (the as-of date moved back from " in printed
    before = _missing(published)
    # And a new file with the move: 孝感's October, reported on the 21st.
    _land(inbox / "xiaogan_2026-10.csv", "2026-10,孝感,技术合同成交额,2.5,亿元,当期,2026-11-21")

    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-11-24"}).stdout
    assert "the as-of date moved from 2026-11-08 to 2026-11-24, within its month)" in printed
    assert "dbt: incremental (" in printed
    assert _last_build(work)[0] is False
    after = _missing(published)
    # What the test is about happened: the reports missing before are 16 days later each, and
    # October's, due on the 15th, turned missing — but huangshi's, dated the 12th.
    assert before and all(after[key] == late + 16 for key, late in before.items())
    turned = {key for key in after.keys() - before.keys() if key[2] == dt.date(2026, 10, 1)}
    assert turned
    for city in ("huangshi", "xiaogan"):  # received on the 12th and the 21st
        assert (city, "tech_contract_turnover", dt.date(2026, 10, 1)) not in turned
    incremental = _tables(published)
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select value from marts.fct_actual_history "
            "where geo_id = 'huangshi' and period_start = '2026-10-01' "
            "and indicator_id = 'tech_contract_turnover' and reported_on = '2026-11-12'"
        ).fetchall() == [(3.5,)]
        assert con.execute(
            "select count(*) from marts.fct_report_completeness "
            "where geo_id = 'huangshi' and indicator_id = 'tech_contract_turnover' "
            "and period_start = '2026-10-01' and first_received_on = '2026-11-12'"
        ).fetchall() == [(1,)]
        # The Parquet files of the completeness mart follow the restated rows.
        _assert_exports_are_the_marts(con, warehouse)

    full = _full_refresh(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-11-24"})
    for table in TABLES:
        assert incremental[table] == full[table], table

    # Into another month: November's periods are expected now, every value is carried into
    # December (and 鄂州's year-to-date figure of the 30th is known, 黄冈's November just landed).
    _land(inbox / "huanggang_2026-11.csv", "2026-11,黄冈,技术合同成交额,1.5,亿元,当期,2026-12-02")
    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-12-03"}).stdout
    assert "the as-of date moved from 2026-11-24 to 2026-12-03, into another month)" in printed
    assert "dbt: incremental (" in printed
    incremental = _tables(published)
    with duckdb.connect(str(published), read_only=True) as con:
        assert (
            con.execute(
                "select count(*), count(*) filter (where is_received) "
                "from marts.fct_report_completeness where period_start = '2026-11-01'"
            ).fetchall()[0][1]
            == 1
        )  # 黄冈's, of all November's expected reports
        assert con.execute(
            "select max(month_end) from intermediate.int_measures_monthly"
        ).fetchall() == [(dt.date(2026, 12, 31),)]
        _assert_exports_are_the_marts(con, warehouse)
    full = _full_refresh(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-12-03"})
    for table in TABLES:
        assert incremental[table] == full[table], table

    # Into another year: the values that did not move are carried into January from December as
    # built (int_measures_monthly `carried`) — a level on, a year-to-date flow not (a new year's
    # total starts with its first report).
    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2027-01-05"}).stdout
    assert "the as-of date moved from 2026-12-03 to 2027-01-05, into another month)" in printed
    incremental = _tables(published)
    with duckdb.connect(str(published), read_only=True) as con:
        january = dict(
            con.execute(
                "select i.kind, count(*) from intermediate.int_measures_monthly as m "
                "inner join marts.dim_indicator as i using (indicator_id) "
                "where m.month_end = '2027-01-31' group by all"
            ).fetchall()
        )
    assert january.get("stock") and "flow" not in january
    # 2026's per-year deadlines have passed, their reports not due until the 15th.
    assert "deadlines passed with no outcome" not in printed
    full = _full_refresh(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2027-01-05"})
    for table in TABLES:
        assert incremental[table] == full[table], table

    # Once they are due, the deadlines whose data stop short of them (the talent figures end in
    # September) have no outcome, and the run names them.
    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2027-01-20"}).stdout
    with duckdb.connect(str(published), read_only=True) as con:
        overdue = con.execute(
            "select target_id, data_through_date from marts.fct_target_vs_actual "
            "where is_final_overdue and status = 'no_data' order by target_id"
        ).fetchall()
    assert overdue and {through for _, through in overdue} == {dt.date(2026, 9, 30)}
    assert (
        f"deadlines passed with no outcome (their reports due, not in): {len(overdue)}" in printed
    )
    for target_id, _ in overdue:
        assert f"  {target_id} " in printed
        assert ": deadline 2026-12-31, reports due 2027-01-15, data through 2026-09-30" in printed

    # (Back is a full refresh: the first run above; lib/dbt_state.py's tests besides.)
    result = run_pipeline(
        raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "30/11/2026"}, check=False
    )
    assert result.returncode != 0
    assert "PLAN_TRACKER_AS_OF_DATE='30/11/2026' is not a date such as 2026-06-30" in result.stdout


def test_a_catalog_change_forces_a_full_refresh(copies: tuple[Path, Path]) -> None:
    raw, warehouse = copies
    geographies = raw / "reference" / "geographies.csv"
    geographies.write_text(geographies.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    printed = run_pipeline(raw, warehouse).stdout
    assert (
        "dbt: full refresh (the plan catalog, reference files, withdrawals or dbt project changed)"
        in printed
    )
    assert _last_build(warehouse / "work" / "plan_tracker.duckdb") == (True, None)
    # A changed catalog is loaded again and judged again by its gate.
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        (carried,) = con.execute(
            "select observed_value ->> 'outcome_of_run' from dq.check_results "
            "where check_name = 'catalog_targets_pass_catalog_suite' "
            "order by checked_at desc limit 1"
        ).fetchall()[0]
    assert carried is None


def _fct_actual_unique_test(work: Path, target: Path) -> bool:
    """fct_actual's uniqueness test alone, as an incremental build runs it: True if it passes."""
    from dagster_project.lib import dbt_inprocess
    from dagster_project.lib.warm import dbt_project_args

    command = ["test", "--select", "fct_actual,test_name:unique_combination_of_columns"]
    build = dbt_inprocess.build(
        command, dbt_project_args(), str(target), {"PLAN_TRACKER_WORK_DB": str(work)}
    )
    events = list(build)
    assert len(events) == 1, events
    return events[0]["data"]["status"] == "pass"


def test_data_tests_of_an_incremental_build_judge_the_rebuilt_pairs(
    copies: tuple[Path, Path], tmp_path: Path
) -> None:
    """dbt/macros/get_where_subquery.sql: on an incremental build, a uniqueness test of a model
    rebuilt by pairs reads the rebuilt pairs only — and still finds a duplicate there."""
    raw, warehouse = copies
    inbox = raw / "progress" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "huangshi_2026-10.csv").write_text(
        "报告期,城市,指标,数值,单位,口径\n2026-10,黄石,技术合同成交额,3.5,亿元,当期\n",
        encoding="utf-8",
    )
    assert "dbt: incremental" in run_pipeline(raw, warehouse).stdout
    work = tmp_path / "plan_tracker.duckdb"
    duplicate = "insert into marts.fct_actual select * from marts.fct_actual where {} limit 1"
    rebuilt = "geo_id = 'huangshi' and indicator_id = 'tech_contract_turnover'"
    for where, caught in ((f"not ({rebuilt})", False), (rebuilt, True)):
        shutil.copy(warehouse / "work" / "plan_tracker.duckdb", work)
        with duckdb.connect(str(work)) as con:
            assert con.execute(duplicate.format(where)).fetchall() == [(1,)]
        assert _fct_actual_unique_test(work, tmp_path / "target") is not caught, where


def test_the_history_marts_exported_by_geography_are_the_incremental_marts() -> None:
    """lib/exports.py rewrites a history mart's files by geography only because dbt rebuilds its
    rows by geography × indicator: the two lists must stay the same."""
    marts = Path(__file__).parents[1] / "dbt" / "models" / "marts"
    incremental = {
        path.stem
        for path in marts.glob("*.sql")
        if re.search(r"materialized\s*=\s*['\"]incremental['\"]", path.read_text(encoding="utf-8"))
    }
    assert incremental == set(HISTORY_MARTS)


def test_a_plan_that_begins_between_two_builds_is_judged_as_a_full_refresh_would(
    copies: tuple[Path, Path],
) -> None:
    """A plan whose horizon starts after the as-of date is in the catalog ahead of time: no target
    of it is judged, the run publishes; the build whose date moves into its first month (an
    incremental build) judges its targets as a full refresh at that date does."""
    raw, warehouse = copies
    published = warehouse / "plan_tracker.duckdb"
    plan = raw / "plans" / "wuhan_metro_sti_2026_2028.yaml"
    text = plan.read_text(encoding="utf-8")
    assert text.count("horizon_start: 2026-01-01") == 1
    plan.write_text(text.replace("horizon_start: 2026-01-01", "horizon_start: 2026-12-01"))

    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-11-24"}).stdout
    assert (
        "(wuhan_metro_sti_2026_2028): begins 2026-12-01, no target judged as of 2026-11-24"
        in printed
    )
    assert "(chegu_corridor_2030): 0 achieved" in printed
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select count(*) from marts.fct_target_vs_actual "
            "where plan_id = 'wuhan_metro_sti_2026_2028'"
        ).fetchall() == [(0,)]

    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-12-03"}).stdout
    assert "the as-of date moved from 2026-11-24 to 2026-12-03, into another month)" in printed
    assert "dbt: incremental (" in printed
    assert "(wuhan_metro_sti_2026_2028): 2 achieved · " in printed
    incremental = _tables(published)
    with duckdb.connect(str(published), read_only=True) as con:
        # Every target of the plan judged, from its first month only.
        assert con.execute(
            "select count(distinct target_id), min(month_end)::varchar "
            "from marts.fct_target_vs_actual where plan_id = 'wuhan_metro_sti_2026_2028'"
        ).fetchall() == [(10, "2026-12-31")]
        _assert_exports_are_the_marts(con, warehouse)
    full = _full_refresh(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-12-03"})
    for table in TABLES:
        assert incremental[table] == full[table], table
