"""Jobs, the daily schedule, and the run-failure log.

Both jobs run in one process (in_process_executor): a run is a short sequence of steps against one
DuckDB file, so process start-up per step would cost more than the steps, and a single process
lets the pipeline lock (defs/resources.py) cover the whole run.
"""

import dagster as dg

from dagster_project.defs.ingest.catalog_assets import plan_catalog
from dagster_project.defs.ingest.progress_assets import progress_reports
from dagster_project.lib.sql import OFFICE_TIMEZONE

# The scorecard page and workbook (defs/publish/assets.py), made after a publication in a run of
# their own, not by the pipeline's.
REPORT = dg.AssetKey(["warehouse", "report"])

full_refresh_job = dg.define_asset_job(
    name="full_refresh_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(REPORT),
    executor_def=dg.in_process_executor,
    description="Ingest every new input, build every model, run every check, publish.",
)

report_job = dg.define_asset_job(
    name="report_job",
    selection=dg.AssetSelection.assets(REPORT),
    executor_def=dg.in_process_executor,
    description="Write the scorecard page and workbook from the published warehouse.",
)

ingest_job = dg.define_asset_job(
    name="ingest_job",
    selection=dg.AssetSelection.assets(plan_catalog, progress_reports),
    executor_def=dg.in_process_executor,
    description="Validate the catalog and land new progress files (no rebuild, no publish).",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=full_refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone=OFFICE_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 Beijing time: the full refresh and publication.",
)


@dg.run_failure_sensor(
    name="run_failure_log_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs every failed run with the step and the reason, for the operator.",
)
def run_failure_log_sensor(context: dg.RunFailureSensorContext) -> None:
    steps = [
        f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
        for event in context.get_step_failure_events()
        if event.step_failure_data and event.step_failure_data.error
    ]
    context.log.error(
        f"run {context.dagster_run.run_id} of {context.dagster_run.job_name} failed: "
        f"{context.failure_event.message}" + ("; " + " | ".join(steps) if steps else "")
    )


@dg.run_status_sensor(
    name="report_after_publication_sensor",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[full_refresh_job],
    request_job=report_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After each successful full_refresh_job run (the schedule's, the progress sensor's, the "
        "UI's), writes the scorecard page and workbook from the warehouse it published."
    ),
)
def report_after_publication_sensor(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"report-after-{context.dagster_run.run_id}")
