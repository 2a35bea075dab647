"""The Dagster definitions load, and follow the project's conventions."""

from __future__ import annotations

import dagster as dg
import pytest

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
