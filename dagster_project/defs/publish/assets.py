"""Publish: copy the working warehouse to `plan_tracker.duckdb` by atomic rename, after every
upstream asset and blocking check of the run has passed."""

import dagster as dg

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PipelineLock, PlanTrackerSettings
from dagster_project.defs.transform.assets import plan_tracker_dbt
from dagster_project.lib.version import code_version
from dagster_project.lib.warehouse import publish


@dg.asset(
    key=["warehouse", "published"],
    deps=[plan_tracker_dbt],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    pool=DUCKDB_POOL,
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
