"""Quality gates as Dagster asset checks: each stage's Great Expectations suite runs on its asset,
blocks everything downstream (and publication) when a blocking expectation fails, and leaves a row
in dq.check_results either way."""

from collections.abc import Callable
from typing import Any

import dagster as dg
import duckdb

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PlanTrackerSettings
from dagster_project.lib import warm
from dagster_project.lib.catalog_tables import catalog_loaded_at
from dagster_project.lib.quality import frames
from dagster_project.lib.quality.results import CheckResult, last_result_since, record
from dagster_project.lib.warehouse import connect


def _run_stage(
    context: dg.AssetCheckExecutionContext,
    settings: PlanTrackerSettings,
    stage: str,
    asset_key: dg.AssetKey,
    check_name: str,
    build: Callable[[duckdb.DuckDBPyConnection], tuple[frames.Frames, dict[str, Any]]],
) -> dg.AssetCheckResult:
    paths = settings.paths
    # The frames are read chunk by chunk while the suite runs (lib/quality/frames.py).
    with connect(paths.work_db) as con:
        chunks, parameters = build(con)
        outcome = warm.run_gate(stage, chunks, parameters, paths.warehouse_dir / "quality")
    # Every suite blocks; a run failing only "warn" expectations is recorded as a warning.
    severity = "warn" if outcome.success and outcome.warnings else "error"
    with connect(paths.work_db) as con:
        record(
            con,
            [
                CheckResult(
                    run_id=context.run.run_id,
                    stage=stage,
                    asset_key=asset_key.to_user_string(),
                    check_name=check_name,
                    check_kind="great_expectations",
                    success=outcome.success and not outcome.warnings,
                    severity=severity,
                    observed_value=outcome.observed(),
                    failing_sample=outcome.failing_sample(),
                    message=outcome.message(),
                )
            ],
        )
    if not outcome.success:
        context.log.error(outcome.message())
    elif outcome.warnings:
        context.log.warning(outcome.message())
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if not outcome.success else dg.AssetCheckSeverity.WARN,
        description=outcome.message()[:2000],
        metadata={
            "rows_checked": outcome.rows_checked,
            "expectations": len(outcome.outcomes),
            "failed": len([o for o in outcome.outcomes if not o.success]),
            "failing_sample": dg.MetadataValue.json(outcome.failing_sample()),
        },
    )


def _gate_check(
    name: str,
    stage: str,
    asset_key: dg.AssetKey,
    description: str,
    build: Callable[[duckdb.DuckDBPyConnection, str], tuple[frames.Frames, dict[str, Any]]],
) -> dg.AssetChecksDefinition:
    """A blocking asset check that runs `stage`'s suite on the frame `build(con, run_id)`."""

    @dg.asset_check(
        asset=asset_key, name=name, blocking=True, pool=DUCKDB_POOL, description=description
    )
    def _check(
        context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
    ) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        return _run_stage(context, settings, stage, asset_key, name, lambda con: build(con, run_id))

    return _check


CATALOG_TARGETS = dg.AssetKey(["raw", "targets"])


@dg.asset_check(
    asset=CATALOG_TARGETS,
    name="catalog_targets_pass_catalog_suite",
    blocking=True,
    pool=DUCKDB_POOL,
    description="catalog suite: ids unique, references known, vocabularies, due dates in horizon.",
)
def catalog_targets_pass_catalog_suite(
    context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
) -> dg.AssetCheckResult:
    name = "catalog_targets_pass_catalog_suite"
    # A catalog kept from an earlier run (defs/ingest/catalog_assets.py: same files, same code,
    # same suite) was judged by this suite after it was loaded: that outcome stands.
    with connect(settings.paths.work_db) as con:
        loaded_at = catalog_loaded_at(con)
        last = (
            None
            if loaded_at is None
            else last_result_since(con, CATALOG_TARGETS.to_user_string(), name, loaded_at)
        )
        if last is not None:
            success, severity, message, run_id = last
            message = f"{message} (the outcome of run {run_id}: the catalog is unchanged since)"
            record(
                con,
                [
                    CheckResult(
                        run_id=context.run.run_id,
                        stage="catalog",
                        asset_key=CATALOG_TARGETS.to_user_string(),
                        check_name=name,
                        check_kind="great_expectations",
                        success=success,
                        severity=severity,
                        observed_value={"outcome_of_run": run_id},
                        failing_sample=None,
                        message=message,
                    )
                ],
            )
    if last is None:
        return _run_stage(context, settings, "catalog", CATALOG_TARGETS, name, frames.catalog_frame)
    return dg.AssetCheckResult(
        passed=success or severity == "warn",
        severity=dg.AssetCheckSeverity.WARN if severity == "warn" else dg.AssetCheckSeverity.ERROR,
        description=message[:2000],
        metadata={"outcome_of_run": run_id},
    )


landed_rows_pass_landing_suite = _gate_check(
    "landed_rows_pass_landing_suite",
    "landing",
    dg.AssetKey(["raw", "progress_rows"]),
    "landing suite on this run's new rows: columns, known geographies and indicators, finite "
    "values within the plausible range, periods inside the plans' window.",
    frames.landing_frame,
)
actuals_pass_staging_suite = _gate_check(
    "actuals_pass_staging_suite",
    "staging",
    dg.AssetKey(["marts", "fct_actual"]),
    "staging suite on the geography × indicator pairs this run's dbt build recomputed: one "
    "latest value per key, canonical units, ratios in bounds, year-to-date values not decreasing "
    "within a year (warn).",
    frames.staging_frame,
)
status_passes_marts_suite = _gate_check(
    "status_passes_marts_suite",
    "marts",
    dg.AssetKey(["marts", "fct_target_vs_actual"]),
    "marts suite: status vocabulary, attainment whenever an actual exists, every catalog target "
    "present, additive areas equal the sum of their reporting members.",
    lambda con, _run_id: frames.marts_frame(con),
)
