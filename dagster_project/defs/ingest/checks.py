"""Blocking checks on what the ingest landed."""

import dagster as dg

from dagster_project.defs.ingest.progress_assets import PROGRESS_KEYS
from dagster_project.defs.resources import PlanTrackerSettings
from dagster_project.lib.progress.accounting import unaccounted_files
from dagster_project.lib.warehouse import connect


@dg.asset_check(
    asset=PROGRESS_KEYS["file_manifest"],
    blocking=True,
    description=(
        "Nothing lost: for every file version, rows_in = rows_loaded + rows_quarantined, and the "
        "rows actually in raw.progress_rows and dq.quarantine match those counts."
    ),
)
def progress_rows_all_accounted_for(settings: PlanTrackerSettings) -> dg.AssetCheckResult:
    with connect(settings.paths.work_db, read_only=True) as con:
        bad = unaccounted_files(con)
    return dg.AssetCheckResult(
        passed=not bad,
        metadata={"files_unaccounted": len(bad), "sample": dg.MetadataValue.json(bad[:20])},
        description=(
            "every row of every file is loaded or quarantined"
            if not bad
            else "rows unaccounted for in: " + ", ".join(b["source_file"] for b in bad[:5])
        ),
    )
