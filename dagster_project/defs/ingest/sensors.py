"""Start a run when progress files are added or changed."""

import hashlib

import dagster as dg

from dagster_project.defs.resources import PlanTrackerSettings
from dagster_project.lib.progress.files import discover


@dg.sensor(
    job_name="full_refresh_job",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches raw/progress/ (any depth). When files are added or changed, requests one run "
        "that ingests all of them and rebuilds and publishes the warehouse."
    ),
)
def progress_folder_sensor(
    context: dg.SensorEvaluationContext, settings: PlanTrackerSettings
) -> dg.SensorResult | dg.SkipReason:
    # The cursor is a fingerprint of the folder (paths, sizes, modification times), so a backlog
    # of many new files makes one run, and an untouched folder makes none. Reading and hashing the
    # files is the ingest asset's job; this only notices that something changed.
    listing = sorted((f.relative, f.size, f.mtime_ns) for f in discover(settings.paths.raw_dir))
    fingerprint = hashlib.sha256(repr(listing).encode()).hexdigest()
    if context.cursor == fingerprint:
        return dg.SkipReason(f"no change among {len(listing)} progress files")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"progress-{fingerprint}")],
        cursor=fingerprint,
    )
