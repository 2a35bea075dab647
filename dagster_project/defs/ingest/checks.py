"""Blocking checks on what the ingest landed."""

import dagster as dg

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.ingest.progress_assets import PROGRESS_KEYS
from dagster_project.defs.resources import PlanTrackerSettings
from dagster_project.lib.progress.accounting import unaccounted_files
from dagster_project.lib.quality.results import CheckResult, record
from dagster_project.lib.warehouse import connect


@dg.asset_check(
    asset=PROGRESS_KEYS["file_manifest"],
    blocking=True,
    pool=DUCKDB_POOL,
    description=(
        "Nothing lost: for every file version, rows_in = rows_loaded + rows_quarantined, and the "
        "rows actually in raw.progress_rows and dq.quarantine match those counts."
    ),
)
def progress_rows_all_accounted_for(
    context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
) -> dg.AssetCheckResult:
    with connect(settings.paths.work_db) as con:
        bad = unaccounted_files(con)
        files = con.execute("select count(*) from raw.file_manifest").fetchall()[0][0]
        message = (
            f"landing: all rows of {files} file versions are loaded or quarantined"
            if not bad
            else "landing: rows unaccounted for in "
            + ", ".join(f"{b['source_file']} ({b['file_sha256'][:12]})" for b in bad[:5])
        )
        record(
            con,
            [
                CheckResult(
                    run_id=context.run.run_id,
                    stage="landing",
                    asset_key=PROGRESS_KEYS["file_manifest"].to_user_string(),
                    check_name="progress_rows_all_accounted_for",
                    check_kind="invariant",
                    success=not bad,
                    severity="error",
                    observed_value={"files": files, "files_unaccounted": len(bad)},
                    failing_sample=bad[:20],
                    message=message,
                )
            ],
        )
    return dg.AssetCheckResult(
        passed=not bad,
        metadata={"files_unaccounted": len(bad), "sample": dg.MetadataValue.json(bad[:20])},
        description=message,
    )
