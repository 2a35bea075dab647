"""Each stage's Great Expectations suite passes on good data and fails, with a message naming the
stage, the expectation and the offending values (and rows), on bad data."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.quality import frames
from dagster_project.lib.quality.gate import run_gate
from dagster_project.lib.quality.suites import EXPECTATIONS_DIR, STAGES, expectation_specs


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    return tmp_path / "quality"


def _targets(**changes) -> pd.DataFrame:
    row = {
        "target_id": "t1",
        "plan_id": "p",
        "indicator_id": "ind",
        "action_id": "a",
        "geo_id": "g",
        "comparator": ">=",
        "cadence": "by_due_date",
        "target_value": 30.0,
        "due_date": pd.Timestamp("2028-12-31"),
        "horizon_start": pd.Timestamp("2026-01-01"),
        "horizon_end": pd.Timestamp("2028-12-31"),
        "source_file": "plans/p.yaml",
        "unknown_geo_id": None,
    }
    second = {**row, "target_id": "t2"}
    return pd.DataFrame([{**row, **changes}, second])


CATALOG_PARAMETERS = {"indicator_ids": ["ind"], "action_ids": ["a"]}


def test_catalog_suite_passes_on_a_good_catalog(results_dir: Path) -> None:
    outcome = run_gate("catalog", _targets(), CATALOG_PARAMETERS, results_dir)
    assert outcome.success, outcome.message()
    assert "catalog: targets__suite passed" in outcome.message()


def test_catalog_suite_names_an_unknown_indicator(results_dir: Path) -> None:
    outcome = run_gate("catalog", _targets(indicator_id="no_such"), CATALOG_PARAMETERS, results_dir)
    assert not outcome.success
    message = outcome.message()
    assert message.startswith("catalog: targets__suite failed")
    assert "expect_column_values_to_be_in_set on indicator_id" in message
    assert "no_such" in message and "plans/p.yaml" in message


def test_catalog_suite_names_a_geography_the_reference_does_not_hold(results_dir: Path) -> None:
    frame = _targets(geo_id="atlantis", unknown_geo_id="atlantis")
    outcome = run_gate("catalog", frame, CATALOG_PARAMETERS, results_dir)
    (failure,) = outcome.blocking_failures
    assert failure.column == "unknown_geo_id" and failure.unexpected_count == 1
    assert failure.sample[0]["unknown_geo_id"] == "atlantis"
    assert failure.sample[0]["target_id"] == "t1"


def test_catalog_frame_marks_a_geography_the_reference_does_not_hold() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create schema raw;
        create table raw.indicators as select 'ind' as indicator_id;
        create table raw.actions as select 'a' as action_id;
        create table raw.geographies as select 'g' as geo_id;
        create table raw.plans as select 'p' as plan_id, date '2026-01-01' as horizon_start,
            date '2028-12-31' as horizon_end;
        create table raw.targets as
            select t as target_id, 'p' as plan_id, 'ind' as indicator_id, 'a' as action_id,
                g as geo_id, '>=' as comparator, 'by_due_date' as cadence, 1.0 as target_value,
                date '2028-12-31' as due_date, 'plans/p.yaml' as source_file
            from (values ('t1', 'g'), ('t2', 'atlantis')) as v (t, g);
        """
    )
    chunks, parameters = frames.catalog_frame(con)
    (frame,) = list(chunks)
    marks = frame.set_index("target_id")["unknown_geo_id"]
    assert pd.isna(marks["t1"]) and marks["t2"] == "atlantis"
    assert parameters == {"indicator_ids": ["ind"], "action_ids": ["a"]}


def test_catalog_suite_refuses_bad_comparator_and_due_date(results_dir: Path) -> None:
    frame = _targets(comparator="≥", due_date=pd.Timestamp("2031-01-01"))
    failed = {
        o.column
        for o in run_gate("catalog", frame, CATALOG_PARAMETERS, results_dir).blocking_failures
    }
    assert {"comparator", "horizon_end,due_date"} <= failed


def _landing(**changes) -> pd.DataFrame:
    row = {
        "source_file": "progress/x.csv",
        "file_sha256": "abc",
        "sheet": None,
        "source_row": 7,
        "source_column": None,
        "geo_id": "huangshi",
        "indicator_id": "tech",
        "period_start": pd.Timestamp("2026-03-01"),
        "period_end": pd.Timestamp("2026-03-31"),
        "value": 12.5,
        "unit": "亿元",
        "is_reported": True,
        "value_is_finite": True,
        "unknown_geo_id": None,
        "unknown_indicator_id": None,
        "plausible_min": 0.0,
        "plausible_max": 20000.0,
        "window_start": pd.Timestamp("2025-01-01"),
        "window_end": pd.Timestamp("2030-12-31"),
    }
    return pd.DataFrame([{**row, **changes}])


LANDING_PARAMETERS: dict[str, list[str]] = {}


def test_landing_suite_passes_on_good_rows(results_dir: Path) -> None:
    assert run_gate("landing", _landing(), LANDING_PARAMETERS, results_dir).success


def test_landing_suite_failure_names_file_and_row(results_dir: Path) -> None:
    outcome = run_gate("landing", _landing(value=99999.0), LANDING_PARAMETERS, results_dir)
    assert not outcome.success
    (failure,) = outcome.blocking_failures
    assert failure.column == "plausible_max,value"
    assert failure.sample[0]["source_file"] == "progress/x.csv"
    assert str(failure.sample[0]["source_row"]) == "7"
    assert "progress/x.csv" in outcome.message()


def test_landing_suite_names_a_geography_the_catalog_does_not_hold(results_dir: Path) -> None:
    frame = _landing(geo_id="atlantis", unknown_geo_id="atlantis")
    outcome = run_gate("landing", frame, LANDING_PARAMETERS, results_dir)
    (failure,) = outcome.blocking_failures
    assert failure.column == "unknown_geo_id" and failure.unexpected_count == 1
    assert failure.sample[0]["unknown_geo_id"] == "atlantis"
    assert str(failure.sample[0]["source_row"]) == "7"
    assert "atlantis" in outcome.message()


def test_landing_frame_marks_ids_the_catalog_does_not_hold() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create schema raw;
        create table raw.indicators as
            select 'tech' as indicator_id, 0.0 as plausible_min, 1e6 as plausible_max;
        create table raw.geographies as select 'huangshi' as geo_id;
        create table raw.plans as select date '2026-01-01' as horizon_start,
            date '2028-12-31' as horizon_end, cast(null as date) as baseline_date;
        create table raw.progress_rows as
            select 'f.csv' as source_file, 'x' as file_sha256, null as sheet, r as source_row,
                cast(null as varchar) as source_column, g as geo_id, i as indicator_id,
                date '2026-03-01' as period_start, date '2026-03-31' as period_end,
                1.0 as value, '亿元' as unit, true as is_reported, 'run' as run_id
            from (values (1, 'huangshi', 'tech'), (2, 'atlantis', 'tech'),
                (3, 'huangshi', 'magic')) as t (r, g, i);
        """
    )
    chunks, parameters = frames.landing_frame(con, "run")
    (frame,) = list(chunks)
    marks = frame.set_index("source_row")[["unknown_geo_id", "unknown_indicator_id"]]
    assert marks.loc[1].isna().all()
    assert marks.loc[2, "unknown_geo_id"] == "atlantis" and pd.isna(
        marks.loc[2, "unknown_indicator_id"]
    )
    assert marks.loc[3, "unknown_indicator_id"] == "magic" and pd.isna(
        marks.loc[3, "unknown_geo_id"]
    )
    assert parameters == {}


def test_staging_frame_gives_the_change_of_year_to_date_flows_only() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create schema raw;
        create schema marts;
        create schema dq;
        create table raw.indicators as
            select * from (values ('gdp', '亿元', 'flow'), ('firms', '家', 'stock'))
                as t (indicator_id, unit, kind);
        create table marts.fct_actual as
            select g as geo_id, i as indicator_id, make_date(y, m, 1) as period_start,
                last_day(make_date(y, m, 1)) as period_end, b as basis, v as value, u as unit,
                'f.csv' as source_file, r as source_row, cast(null as varchar) as source_column
            from (values
                (1, 'wuhan', 'gdp', 2025, 12, 'ytd', 90.0, '亿元'),
                (2, 'wuhan', 'gdp', 2026, 1, 'ytd', 10.0, '亿元'),
                (3, 'wuhan', 'gdp', 2026, 2, 'ytd', 25.0, '亿元'),
                (4, 'wuhan', 'gdp', 2026, 3, 'ytd', 22.0, '亿元'),
                (5, 'xiaogan', 'gdp', 2026, 2, 'ytd', 7.0, '亿元'),
                (6, 'xiaogan', 'gdp', 2026, 3, 'period', 3.0, '亿元'),
                (7, 'wuhan', 'firms', 2026, 3, 'ytd', 40.0, '家'),
                (8, 'wuhan', 'firms', 2026, 6, 'ytd', 45.0, '家')
            ) as t (r, g, i, y, m, b, v, u);
        """
    )
    chunks, _ = frames.staging_frame(con, "run")
    (frame,) = list(chunks)
    change = frame.set_index("source_row")["ytd_change"]
    # Within a year only, from the previous year-to-date value of the same pair; not for a
    # period's own value, nor for a stock.
    assert change.loc[3] == 15.0 and change.loc[4] == -3.0
    assert change.drop([3, 4]).isna().all()
    assert len(frame) == 8
    assert frame.loc[frame.source_row == 6, "indicator_unit"].item() == "亿元"


def test_a_failure_read_from_duckdb_names_a_blank_sheet_as_null(results_dir: Path) -> None:
    # Text columns arrive as pandas' Arrow-backed strings, where a missing value is NaN; the
    # stored sample (dq.check_results.failing_sample, JSON) must say null.
    con = duckdb.connect()
    con.execute(
        "create table landed as select 'f.csv' as source_file, cast(null as varchar) as sheet, "
        "2 as source_row, cast(null as varchar) as source_column, 'atlantis' as unknown_geo_id"
    )
    (frame,) = frames._chunks(con, "landing", "select * from ({source})", "select * from landed")
    frame = pd.concat([_landing(), frame.assign(source_row=frame.source_row.astype("int64"))])
    outcome = run_gate("landing", frame.reset_index(drop=True), {}, results_dir)
    (failure,) = [f for f in outcome.blocking_failures if f.column == "unknown_geo_id"]
    assert failure.sample == [
        {
            "unknown_geo_id": "atlantis",
            "source_file": "f.csv",
            "sheet": None,
            "source_row": "2",
            "source_column": None,
        }
    ]


def test_landing_suite_refuses_a_period_outside_the_window(results_dir: Path) -> None:
    frame = _landing(period_start=pd.Timestamp("2019-01-01"), period_end=pd.Timestamp("2019-01-31"))
    outcome = run_gate("landing", frame, LANDING_PARAMETERS, results_dir)
    assert [o.column for o in outcome.blocking_failures] == ["period_start,window_start"]


def _actuals(**changes) -> pd.DataFrame:
    base = {
        "geo_id": "g",
        "indicator_id": "i",
        "period_start": pd.Timestamp("2026-01-01"),
        "period_end": pd.Timestamp("2026-01-31"),
        "value": 5.0,
        "unit": "亿元",
        "indicator_unit": "亿元",
        "source_file": "f.csv",
        "source_row": 2,
        "ytd_change": None,
    }
    return pd.DataFrame([base, {**base, "period_end": pd.Timestamp("2026-02-28"), **changes}])


def test_staging_suite_passes_and_catches_a_non_canonical_unit(results_dir: Path) -> None:
    assert run_gate("staging", _actuals(), {}, results_dir).success
    outcome = run_gate("staging", _actuals(unit="万元"), {}, results_dir)
    assert [o.column for o in outcome.blocking_failures] == ["unit,indicator_unit"]


def test_staging_suite_catches_a_duplicate_key_and_warns_on_a_falling_ytd(
    results_dir: Path,
) -> None:
    duplicate = _actuals(period_end=pd.Timestamp("2026-01-31"))
    assert not run_gate("staging", duplicate, {}, results_dir).success
    falling = run_gate("staging", _actuals(ytd_change=-3.0), {}, results_dir)
    assert falling.success and [o.column for o in falling.warnings] == ["ytd_change"]


def _status(**changes) -> pd.DataFrame:
    base = {
        "target_id": "t1",
        "month_end": pd.Timestamp("2026-09-30"),
        "status": "on_track",
        "projected_status": "on_track",
        "is_final": False,
        "is_final_overdue": False,
        "is_data_stale": False,
        "attainment_ratio": 0.5,
        "has_actual": True,
        "rollup_difference": 0.0,
    }
    return pd.DataFrame([{**base, **changes}])


def test_marts_suite_passes_and_checks_every_rule(results_dir: Path) -> None:
    parameters = {"target_ids": ["t1"]}
    assert run_gate("marts", _status(), parameters, results_dir).success
    bad = _status(status="behind", attainment_ratio=None, rollup_difference=2.5)
    failed = run_gate("marts", bad, {"target_ids": ["t1", "t2"]}, results_dir).blocking_failures
    assert {o.column for o in failed} == {
        "status",
        "attainment_ratio",
        "target_id",
        "rollup_difference",
    }


def test_marts_suite_refuses_a_pace_on_a_deadline_with_its_outcome(results_dir: Path) -> None:
    parameters = {"target_ids": ["t1"]}
    missed = _status(is_final=True, status="off_track", projected_status="off_track")
    assert run_gate("marts", missed, parameters, results_dir).success
    on_pace = run_gate("marts", _status(is_final=True), parameters, results_dir)
    assert [o.column for o in on_pace.blocking_failures] == ["status"]


def test_marts_suite_refuses_a_pace_on_a_deadline_whose_reports_are_overdue(
    results_dir: Path,
) -> None:
    parameters = {"target_ids": ["t1"]}
    for status in ("no_data", "achieved"):
        overdue = _status(is_final_overdue=True, status=status)
        assert run_gate("marts", overdue, parameters, results_dir).success, status
    stale_pace = run_gate("marts", _status(is_final_overdue=True), parameters, results_dir)
    assert [o.column for o in stale_pace.blocking_failures] == ["status"]


def test_marts_suite_refuses_a_status_or_projection_on_data_too_far_behind(
    results_dir: Path,
) -> None:
    parameters = {"target_ids": ["t1"]}
    stale = _status(is_data_stale=True, status="no_data", projected_status="no_data")
    assert run_gate("marts", stale, parameters, results_dir).success
    judged = run_gate("marts", _status(is_data_stale=True), parameters, results_dir)
    assert [o.column for o in judged.blocking_failures] == ["status", "projected_status"]


def test_marts_suite_names_a_target_without_rows(results_dir: Path) -> None:
    outcome = run_gate("marts", _status(), {"target_ids": ["t1", "t2"]}, results_dir)
    assert not outcome.success
    assert (
        'expect_column_distinct_values_to_equal_set on target_id (error): 1 missing, e.g. ["t2"]'
    ) in outcome.message()
    assert {"missing": ["t2"]}.items() <= outcome.failing_sample()[0].items()


def test_marts_gate_expects_the_targets_of_plans_begun_by_the_as_of_date() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create schema raw; create schema dq;
        create table raw.plans as
            select * from (values ('p26', date '2026-01-01'), ('p27', date '2027-01-15'))
                as v (plan_id, horizon_start);
        create table raw.targets as
            select * from (values ('t26', 'p26'), ('t27', 'p27')) as v (target_id, plan_id);
        create table dq.dbt_build_plan as select date '2026-12-31' as as_of_date;
        """
    )
    assert frames._ids(con, frames.TARGETS_BEGUN_SQL) == ["t26"]
    # Its first month has come: judged from 1 January, the month of its start.
    con.execute("update dq.dbt_build_plan set as_of_date = '2027-01-01'")
    assert sorted(frames._ids(con, frames.TARGETS_BEGUN_SQL)) == ["t26", "t27"]


def test_committed_suites_match_their_definitions() -> None:
    for stage in STAGES.values():
        suite = json.loads(
            (EXPECTATIONS_DIR / "gx" / "expectations" / f"{stage.suite}.json").read_text()
        )
        committed = [(e["type"], e["kwargs"]) for e in suite["expectations"]]
        defined = []
        for name, kwargs in expectation_specs(stage.stage):
            snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
            defined.append((snake, {k: v for k, v in kwargs.items() if k != "meta"}))
        assert len(committed) == len(defined), stage.suite
        for (ctype, ckwargs), (dtype, dkwargs) in zip(committed, defined, strict=True):
            assert ctype == dtype
            for key, value in dkwargs.items():
                got = ckwargs.get(key)
                if key == "row_condition" and isinstance(got, dict):
                    got = got.get("pass_through_filter")
                assert got == value, (stage.suite, ctype, key)
    for name in ("catalog", "landing", "staging", "marts"):
        assert (EXPECTATIONS_DIR / "gx" / "checkpoints" / f"{name}_checkpoint.json").exists()


def _actuals_table(con: duckdb.DuckDBPyConnection, geos: int, duplicated_geo: int) -> str:
    """An actuals frame's query: `geos` geographies × 2 indicators × 12 months, with one
    geography's January reported twice."""
    con.execute(
        f"""
        create or replace table actuals as
        select
            'g' || g as geo_id, 'i' || i as indicator_id,
            make_date(2026, m, 1) as period_start, last_day(make_date(2026, m, 1)) as period_end,
            5.0 as value, '亿元' as unit, '亿元' as indicator_unit, 'f.csv' as source_file,
            g * 100 + i * 20 + m as source_row, cast(null as varchar) as source_column,
            cast(null as double) as ytd_change
        from range({geos}) as gg (g), range(2) as ii (i), range(1, 13) as mm (m)
        union all
        select 'g{duplicated_geo}', 'i1', date '2026-01-01', date '2026-01-31', 6.0, '亿元', '亿元',
            'fix.csv', 1, null, null
        """
    )
    return "select * from actuals"


def test_chunks_keep_each_key_together_so_a_duplicate_is_still_found(results_dir: Path) -> None:
    con = duckdb.connect()
    sql = _actuals_table(con, geos=40, duplicated_geo=17)
    chunks = list(frames._chunks(con, "staging", "select * from ({source})", sql, chunk_rows=100))
    assert len(chunks) == 10 and sum(len(c) for c in chunks) == 40 * 2 * 12 + 1
    keys = [set(zip(c.geo_id, c.indicator_id, strict=True)) for c in chunks]
    assert all(a.isdisjoint(b) for n, a in enumerate(keys) for b in keys[n + 1 :])
    whole = run_gate("staging", con.execute(sql).df(), {}, results_dir)
    chunked = run_gate("staging", iter(chunks), {}, results_dir)
    assert not chunked.success and chunked.rows_checked == whole.rows_checked == 961
    ((failure,),) = [chunked.blocking_failures]
    assert failure.expectation == "expect_compound_columns_to_be_unique"
    assert failure.unexpected_count == whole.blocking_failures[0].unexpected_count == 2


def test_landing_rows_stream_in_chunks_of_one_query_each_row_once() -> None:
    con = duckdb.connect()
    con.execute("create table landed as select range as source_row from range(10000)")
    sql = "select source_row, source_row * 2 as doubled from ({source})"
    chunks = list(frames._chunks(con, "landing", sql, "select * from landed", chunk_rows=4096))
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    rows = pd.concat(chunks)
    assert sorted(rows.source_row) == list(range(10000))
    assert (rows.doubled == rows.source_row * 2).all()
    # No rows: one empty frame, so that the suite still checks the columns.
    (empty,) = frames._chunks(con, "landing", sql, "select * from landed where false")
    assert empty.empty and list(empty.columns) == ["source_row", "doubled"]


def test_chunked_landing_outcome_adds_up_over_chunks(results_dir: Path) -> None:
    rows = pd.concat(
        [_landing(source_row=n, value=99999.0 if n % 7 == 0 else 5.0) for n in range(1, 50)],
        ignore_index=True,
    )
    chunks = [rows.iloc[i : i + 10].reset_index(drop=True) for i in range(0, len(rows), 10)]
    chunked = run_gate("landing", iter(chunks), LANDING_PARAMETERS, results_dir)
    (failure,) = chunked.blocking_failures
    assert failure.unexpected_count == 7  # rows 7, 14, …, 49
    assert sorted(int(s["source_row"]) for s in failure.sample) == [7, 14, 21, 28, 35, 42, 49]
    assert chunked.rows_checked == 49


def test_the_last_outcome_of_a_dbt_test_is_found_by_its_check_key() -> None:
    import dagster as dg

    from dagster_project.lib.quality.results import CheckResult, last_outcomes, record

    con = duckdb.connect()
    con.execute("create schema dq")

    def result(run_id: str, success: bool, name: str = "unique_dim_plan_plan_id") -> CheckResult:
        return CheckResult(
            run_id, "marts", "marts/dim_plan", name, "dbt_test", success, "error", None, None, ""
        )

    record(con, [result("run-1", False)])
    record(con, [result("run-2", True)])
    known = dg.AssetCheckKey(dg.AssetKey(["marts", "dim_plan"]), "unique_dim_plan_plan_id")
    never = dg.AssetCheckKey(dg.AssetKey(["marts", "dim_plan"]), "not_null_dim_plan_plan_id")
    assert last_outcomes(con, [known, never]) == {known: (True, "error", "run-2")}


def test_the_last_evaluation_of_a_check_since_a_time_skips_carried_outcomes() -> None:
    import datetime as dt

    from dagster_project.lib.quality.results import CheckResult, last_result_since, record

    con = duckdb.connect()
    con.execute("create schema dq")
    before = dt.datetime.now(dt.UTC)

    def result(run_id: str, observed: object) -> CheckResult:
        return CheckResult(
            run_id,
            "catalog",
            "raw/targets",
            "suite",
            "great_expectations",
            True,
            "error",
            observed,
            None,
            f"passed in {run_id}",
        )

    assert last_result_since(con, "raw/targets", "suite", before) is None
    record(con, [result("run-1", [{"expectation": "x"}])])
    record(con, [result("run-2", {"outcome_of_run": "run-1"})])
    assert last_result_since(con, "raw/targets", "suite", before) == (
        True,
        "error",
        "passed in run-1",
        "run-1",
    )
    assert last_result_since(con, "raw/targets", "suite", dt.datetime.now(dt.UTC)) is None
