"""Publish: copy the working warehouse to `plan_tracker.duckdb` by atomic rename, after every
upstream asset and blocking check of the run has passed; then, in a run of its own, the scorecard
page and workbook from what was published."""

from datetime import timedelta

import dagster as dg

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PipelineLock, PlanTrackerSettings
from dagster_project.defs.transform.assets import plan_tracker_dbt
from dagster_project.lib.sql import OFFICE_TIMEZONE
from dagster_project.lib.version import code_version
from dagster_project.lib.warehouse import publish

# What the office reads each morning is today's: published, and the page made from it, between
# the daily schedule's 06:00 and 07:00 Beijing time (defs/jobs.py; a run takes about a minute at
# 9M reports). Dagster's freshness daemon (on by default since 1.12) marks both assets FAIL from
# 07:00 until a publication comes, whatever kept it away: a failed gate, a schedule turned off,
# a run stuck behind the pipeline lock. A publication later in the day (a file landed) counts.
PUBLISHED_BY_SEVEN = dg.FreshnessPolicy.cron(
    deadline_cron="0 7 * * *", lower_bound_delta=timedelta(hours=1), timezone=OFFICE_TIMEZONE
)


@dg.asset(
    key=["warehouse", "published"],
    deps=[plan_tracker_dbt],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    pool=DUCKDB_POOL,
    freshness_policy=PUBLISHED_BY_SEVEN,
    description="The published, immutable warehouse file that BI tools and analysts open.",
)
def published_warehouse(
    context: dg.AssetExecutionContext, settings: PlanTrackerSettings, pipeline_lock: PipelineLock
) -> dg.MaterializeResult:
    result = publish(settings.paths, context.run_id, code_version())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "published_at": result.published_at.isoformat(),
            "tables": len(result.row_counts),
            "exports": len(result.exports),
            "exports_note": result.exports_note,
            "row_counts": dg.MetadataValue.json(result.row_counts),
            # marts.target_status_log (lib/status_log.py): what this publication moved.
            "status_changes": result.status_logged.changed,
            "status_log": result.status_logged.describe(),
        }
    )


@dg.asset(
    key=["warehouse", "report"],
    deps=[published_warehouse],
    group_name="publish",
    kinds={"html", "excel"},
    freshness_policy=PUBLISHED_BY_SEVEN,
    description=(
        "The scorecard page and workbook (report/index.html, report/scorecard.xlsx), read from "
        "the published warehouse. Not a step of the pipeline's run (at 9M reports it would add "
        "~8 s to every run): report_after_publication_sensor requests it after each successful "
        "scheduled, sensor or UI run; `make report` writes the same files."
    ),
)
def scorecard_report(settings: PlanTrackerSettings) -> dg.MaterializeResult:
    # Reads the published file only (read-only, as any BI tool): no pool, no pipeline lock.
    # Imported here: every run's start loads these definitions, and openpyxl is not needed there.
    from dagster_project.lib.report import write_report
    from dagster_project.lib.workbook import write_workbook

    paths = settings.paths
    page = write_report(paths.published_db, paths.report_dir)
    book = write_workbook(paths.published_db, paths.report_dir)
    return dg.MaterializeResult(
        metadata={
            "page": dg.MetadataValue.path(str(page)),
            "workbook": dg.MetadataValue.path(str(book)),
        }
    )
