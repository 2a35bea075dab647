"""Start a run when progress files are added or changed, or the ledger of withdrawn files."""

import hashlib

import dagster as dg

from dagster_project.defs.resources import PlanTrackerSettings
from dagster_project.lib.progress.files import discover
from dagster_project.lib.progress.withdrawals import WITHDRAWALS_FILE


@dg.sensor(
    job_name="full_refresh_job",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches raw/progress/ (any depth) and raw/withdrawals.csv. When files are added or "
        "changed, requests one run that ingests all of them and rebuilds and publishes the "
        "warehouse."
    ),
)
def progress_folder_sensor(
    context: dg.SensorEvaluationContext, settings: PlanTrackerSettings
) -> dg.SensorResult | dg.SkipReason:
    # The cursor is a fingerprint of the folder (paths, sizes, modification times), so a backlog
    # of many new files makes one run, and an untouched folder makes none. Reading and hashing the
    # files is the ingest asset's job; this only notices that something changed.
    raw_dir = settings.paths.raw_dir
    listing = sorted((f.relative, f.size, f.mtime_ns) for f in discover(raw_dir))
    ledger = raw_dir / WITHDRAWALS_FILE
    if ledger.is_file():  # a file withdrawn or counted again is a change to publish too
        stat = ledger.stat()
        listing.append((WITHDRAWALS_FILE, stat.st_size, stat.st_mtime_ns))
    fingerprint = hashlib.sha256(repr(listing).encode()).hexdigest()
    if context.cursor == fingerprint:
        return dg.SkipReason(f"no change among {len(listing)} progress files and the ledger")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"progress-{fingerprint}")],
        cursor=fingerprint,
    )
