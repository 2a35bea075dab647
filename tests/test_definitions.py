"""The Dagster definitions load, and follow the project's conventions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

# Not exported by dagster: the freshness policy's class, and the function its evaluator reads
# the last deadline with (dagster/_core/definitions/freshness_evaluator.py).
from dagster._core.definitions.freshness import CronFreshnessPolicy
from dagster._utils.schedules import get_latest_completed_cron_tick

from dagster_project.definitions import defs
from dagster_project.defs.jobs import REPORT


@pytest.fixture(scope="module")
def definitions(monkeypatch_module) -> dg.Definitions:
    return defs()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLAN_TRACKER_RAW_DIR", "raw")
        mp.setenv("PLAN_TRACKER_WAREHOUSE_DIR", "warehouse")
        mp.setenv("PLAN_TRACKER_MAX_XLSX_BYTES", "209715200")
        yield mp


def test_definitions_load_with_every_stage(definitions: dg.Definitions) -> None:
    keys = {k.to_user_string() for k in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/targets", "raw/geographies", "marts/fct_target", "warehouse/published"} <= keys
    assert {"staging/stg_catalog__targets", "intermediate/int_targets_resolved"} <= keys


def test_dbt_sources_join_the_ingest_assets_in_one_graph(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_catalog__targets"]))
    assert dg.AssetKey(["raw", "targets"]) in staging.parent_keys
    assert graph.get(dg.AssetKey(["raw", "targets"])).is_materializable


def test_every_duckdb_writer_is_in_the_one_pool(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for key in graph.materializable_asset_keys - {REPORT}:  # the report only reads
        node = graph.get(key)
        assert node.pools == {"duckdb_writer"}, key


def test_dbt_tests_are_asset_checks(definitions: dg.Definitions) -> None:
    checks = {c.to_user_string() for c in definitions.resolve_asset_graph().asset_check_keys}
    assert any(c.startswith("marts/fct_actual:relationships_fct_actual_geo_id") for c in checks), (
        checks
    )


def test_jobs_schedule_and_sensors(definitions: dg.Definitions) -> None:
    assert definitions.resolve_job_def("full_refresh_job").name == "full_refresh_job"
    assert definitions.resolve_job_def("ingest_job").name == "ingest_job"
    schedule = definitions.resolve_schedule_def("daily_refresh_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "Asia/Shanghai")
    assert definitions.resolve_sensor_def("progress_folder_sensor").job_name == "full_refresh_job"
    definitions.resolve_sensor_def("run_failure_log_sensor")


@pytest.mark.parametrize(
    "now",
    ["2026-11-28 07:00:30", "2026-11-28 23:59:00", "2027-01-01 06:59:00", "2028-02-29 12:00:00"],
)
def test_the_publication_and_page_are_due_within_an_hour_of_the_daily_run(
    definitions: dg.Definitions, now: str
) -> None:
    """Dagster's freshness daemon finds an asset stale when its last materialization is older than
    the last deadline tick less the policy's lower bound (get_latest_completed_cron_tick is the
    evaluator's own). The daily schedule's run must start inside that window — so that the day's
    run, done within an hour, keeps both assets fresh — and yesterday's run must fall outside it."""
    graph = definitions.resolve_asset_graph()
    schedule = definitions.resolve_schedule_def("daily_refresh_schedule")
    at = datetime.fromisoformat(now).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    for key in (dg.AssetKey(["warehouse", "published"]), REPORT):
        policy = graph.get(key).freshness_policy
        assert isinstance(policy, CronFreshnessPolicy), key
        deadline = get_latest_completed_cron_tick(policy.deadline_cron, at, policy.timezone)
        window_start = deadline - policy.lower_bound_delta
        assert isinstance(schedule.cron_schedule, str)
        run_start = get_latest_completed_cron_tick(
            schedule.cron_schedule, deadline, schedule.execution_timezone
        )
        assert window_start <= run_start < deadline, (key, window_start, run_start, deadline)
        assert run_start - timedelta(days=1) + timedelta(minutes=5) < window_start


def test_quality_gates_block_publication(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {
        "progress_rows_all_accounted_for",
        "catalog_targets_pass_catalog_suite",
        "landed_rows_pass_landing_suite",
        "actuals_pass_staging_suite",
        "status_passes_marts_suite",
    } <= blocking


def test_values_to_check_warn_without_blocking(definitions: dg.Definitions) -> None:
    """A value far from the report before it may be right: the check warns, and publishes."""
    graph = definitions.resolve_asset_graph()
    key = dg.AssetCheckKey(dg.AssetKey(["raw", "progress_rows"]), "progress_values_to_check")
    assert key in graph.asset_check_keys
    assert not graph.get_check_spec(key).blocking


def test_the_report_is_made_after_a_publication_in_a_run_of_its_own(
    definitions: dg.Definitions,
) -> None:
    """The pipeline's run does not write the page and workbook (at scale they would add ~8 s to
    each run); a sensor requests report_job after each successful full_refresh_job run."""
    full = {n.name for n in definitions.resolve_job_def("full_refresh_job").nodes}
    assert "warehouse__published" in full and "warehouse__report" not in full
    assert [n.name for n in definitions.resolve_job_def("report_job").nodes] == [
        "warehouse__report"
    ]
    sensor = definitions.resolve_sensor_def("report_after_publication_sensor")
    assert isinstance(sensor, dg.RunStatusSensorDefinition)
    assert sensor.job_name == "report_job"
    assert dg.AssetKey(["warehouse", "published"]) in (
        definitions.resolve_asset_graph().get(REPORT).parent_keys
    )
