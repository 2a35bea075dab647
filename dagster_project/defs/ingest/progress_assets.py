"""Ingest progress reports (raw/progress/**) into raw.progress_rows, dq.quarantine and
raw.file_manifest. Only new or changed files are read; each lands in one transaction. The ledger
of withdrawn files (raw/withdrawals.csv) is checked against what landed into raw.withdrawals."""

from collections.abc import Iterator

import dagster as dg
import duckdb

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL, plan_catalog
from dagster_project.defs.resources import PipelineLock, PlanTrackerSettings
from dagster_project.lib.progress.ingest import ingest_progress
from dagster_project.lib.progress.withdrawals import WithdrawalError, apply_ledger
from dagster_project.lib.quality.results import CheckResult, record
from dagster_project.lib.warehouse import connect

PROGRESS_KEYS = {
    "progress_rows": dg.AssetKey(["raw", "progress_rows"]),
    "file_manifest": dg.AssetKey(["raw", "file_manifest"]),
    "quarantine": dg.AssetKey(["dq", "quarantine"]),
    "withdrawals": dg.AssetKey(["raw", "withdrawals"]),
}


VALUES_TO_CHECK = "progress_values_to_check"

PROGRESS_DESCRIPTIONS = {
    "progress_rows": "Every accepted progress-report row, normalised, with lineage.",
    "file_manifest": "One row per progress file version: status and row counts.",
    "quarantine": "Every rejected progress row, verbatim, with the reason.",
    "withdrawals": "The files withdrawn by raw/withdrawals.csv: their rows count nowhere.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PROGRESS_KEYS[name],
            description=text,
            group_name="ingest",
            kinds={"duckdb"},
            deps=[plan_catalog],
        )
        for name, text in PROGRESS_DESCRIPTIONS.items()
    ],
    # Yielded by the asset itself, which has the counts at hand: no step of its own.
    check_specs=[
        dg.AssetCheckSpec(
            VALUES_TO_CHECK,
            asset=PROGRESS_KEYS["progress_rows"],
            description=(
                "A warning, not a gate: the values this run landed ten times above or below the "
                "report before them (a thousand for an amount per period), a slip of the unit "
                "to ask the sender about (dq.value_checks)."
            ),
        )
    ],
    pool=DUCKDB_POOL,
)
def progress_reports(
    context: dg.AssetExecutionContext, settings: PlanTrackerSettings, pipeline_lock: PipelineLock
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Land every new or changed file under raw/progress/, at any depth."""
    paths = settings.paths
    with connect(paths.work_db) as con:
        outcomes = ingest_progress(
            con,
            paths.raw_dir,
            paths.work_dir / "scratch",
            context.run_id,
            max_xlsx_bytes=settings.max_xlsx_bytes,
        )
        [totals] = con.execute(
            "select (select count(*) from raw.progress_rows), (select count(*) from dq.quarantine),"
            " (select count(*) from raw.file_manifest)"
        ).fetchall()
        checked = _values_checked(con, context.run_id)
        # Checked after landing, so that a file can be withdrawn in the run that lands it.
        try:
            ledger = apply_ledger(con, paths.raw_dir)
        except WithdrawalError as exc:
            raise dg.Failure(
                description=str(exc), metadata={"problems": dg.MetadataValue.json(exc.problems)}
            ) from exc
    for o in outcomes:
        level = (
            context.log.info
            if o.status == "loaded" and not o.values_to_check
            else context.log.warning
        )
        level(
            f"{o.source_file}: {o.status} — {o.rows_in} in, {o.rows_loaded} loaded, "
            f"{o.rows_quarantined} quarantined"
            + (f" — {o.reason}" if o.reason else "")
            + (
                f" — {o.values_to_check} value(s) to check (dq.value_checks)"
                if o.values_to_check
                else ""
            )
        )
    if ledger.withdrawals:
        context.log.info(
            f"withdrawals.csv: {ledger.withdrawn_files} file version(s) withdrawn, "
            f"{ledger.withdrawn_rows} landed row(s) no longer counted"
        )
    for source_file in ledger.vanished:
        context.log.warning(
            f"{source_file}: no longer under raw/progress, but its reports still count "
            "(withdraw it in raw/withdrawals.csv to take them back)"
        )
    new_files = [
        {"file": o.source_file, "status": o.status, "rows_in": o.rows_in, "reason": o.reason}
        for o in outcomes
    ]
    rows, quarantined, files = totals
    yield dg.MaterializeResult(
        asset_key=PROGRESS_KEYS["progress_rows"],
        metadata={
            "dagster/row_count": rows,
            "new_rows": sum(o.rows_loaded for o in outcomes),
            # Landed values far from the report before them, named in dq.value_checks.
            "new_values_to_check": sum(o.values_to_check for o in outcomes),
        },
    )
    yield checked
    yield dg.MaterializeResult(
        asset_key=PROGRESS_KEYS["file_manifest"],
        metadata={
            "dagster/row_count": files,
            "new_files": len(outcomes),
            "files": dg.MetadataValue.json(new_files),
        },
    )
    yield dg.MaterializeResult(
        asset_key=PROGRESS_KEYS["withdrawals"],
        metadata={
            "dagster/row_count": len(ledger.withdrawals),
            "withdrawn_file_versions": ledger.withdrawn_files,
            "withdrawn_rows": ledger.withdrawn_rows,
            "vanished_files": dg.MetadataValue.json(ledger.vanished),
        },
    )
    yield dg.MaterializeResult(
        asset_key=PROGRESS_KEYS["quarantine"],
        metadata={
            "dagster/row_count": quarantined,
            "new_rows": sum(o.rows_quarantined for o in outcomes),
        },
    )


def _values_checked(con: duckdb.DuckDBPyConnection, run_id: str) -> dg.AssetCheckResult:
    """The run's values to check, as a warning in Dagster and a row of dq.check_results."""
    sample = [
        message
        for (message,) in con.execute(
            "select message from dq.value_checks where run_id = ? "
            "order by source_file, sheet nulls first, source_row limit 20",
            [run_id],
        ).fetchall()
    ]
    [(count,)] = con.execute(
        "select count(*) from dq.value_checks where run_id = ?", [run_id]
    ).fetchall()
    message = (
        f"landing: {count} value(s) landed far from the report before them (dq.value_checks)"
        if count
        else "landing: no value landed far from the report before it"
    )
    record(
        con,
        [
            CheckResult(
                run_id=run_id,
                stage="landing",
                asset_key=PROGRESS_KEYS["progress_rows"].to_user_string(),
                check_name=VALUES_TO_CHECK,
                check_kind="value_check",
                success=not count,
                severity="warn",
                observed_value={"values_to_check": count},
                failing_sample=sample,
                message=message,
            )
        ],
    )
    return dg.AssetCheckResult(
        asset_key=PROGRESS_KEYS["progress_rows"],
        check_name=VALUES_TO_CHECK,
        passed=not count,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"values_to_check": count, "sample": dg.MetadataValue.json(sample)},
        description=message,
    )
