"""Quality gates as Dagster asset checks: each stage's Great Expectations suite runs on its asset,
blocks everything downstream (and publication) when a blocking expectation fails, and leaves a row
in dq.check_results either way."""

from collections.abc import Callable
from typing import Any

import dagster as dg
import duckdb
import pandas as pd

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PlanTrackerSettings
from dagster_project.lib.quality import frames
from dagster_project.lib.quality.gate import run_gate
from dagster_project.lib.quality.results import CheckResult, record
from dagster_project.lib.warehouse import connect

FrameBuilder = Callable[..., tuple[pd.DataFrame, dict[str, Any]]]


def _run_stage(
    context: dg.AssetCheckExecutionContext,
    settings: PlanTrackerSettings,
    stage: str,
    asset_key: dg.AssetKey,
    check_name: str,
    build: Callable[[duckdb.DuckDBPyConnection], tuple[pd.DataFrame, dict[str, Any]]],
) -> dg.AssetCheckResult:
    paths = settings.paths
    with connect(paths.work_db) as con:
        frame, parameters = build(con)
    outcome = run_gate(stage, frame, parameters, paths.warehouse_dir / "quality")
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


TARGETS = dg.AssetKey(["raw", "targets"])
PROGRESS_ROWS = dg.AssetKey(["raw", "progress_rows"])
FCT_ACTUAL = dg.AssetKey(["marts", "fct_actual"])
FCT_STATUS = dg.AssetKey(["marts", "fct_target_vs_actual"])


@dg.asset_check(
    asset=TARGETS,
    blocking=True,
    pool=DUCKDB_POOL,
    description="catalog suite: ids unique, references known, vocabularies, due dates in horizon.",
)
def catalog_targets_pass_catalog_suite(
    context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
) -> dg.AssetCheckResult:
    return _run_stage(
        context,
        settings,
        "catalog",
        TARGETS,
        "catalog_targets_pass_catalog_suite",
        frames.catalog_frame,
    )


@dg.asset_check(
    asset=PROGRESS_ROWS,
    blocking=True,
    pool=DUCKDB_POOL,
    description=(
        "landing suite on this run's new rows: columns, known geographies and indicators, finite "
        "values within the plausible range, periods inside the plans' window."
    ),
)
def landed_rows_pass_landing_suite(
    context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
) -> dg.AssetCheckResult:
    return _run_stage(
        context,
        settings,
        "landing",
        PROGRESS_ROWS,
        "landed_rows_pass_landing_suite",
        lambda con: frames.landing_frame(con, context.run.run_id),
    )


@dg.asset_check(
    asset=FCT_ACTUAL,
    blocking=True,
    pool=DUCKDB_POOL,
    description=(
        "staging suite: one latest value per key, canonical units, ratios in bounds, "
        "year-to-date values not decreasing within a year (warn)."
    ),
)
def actuals_pass_staging_suite(
    context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
) -> dg.AssetCheckResult:
    return _run_stage(
        context,
        settings,
        "staging",
        FCT_ACTUAL,
        "actuals_pass_staging_suite",
        frames.staging_frame,
    )


@dg.asset_check(
    asset=FCT_STATUS,
    blocking=True,
    pool=DUCKDB_POOL,
    description=(
        "marts suite: status vocabulary, attainment whenever an actual exists, every catalog "
        "target present, additive areas equal the sum of their reporting members."
    ),
)
def status_passes_marts_suite(
    context: dg.AssetCheckExecutionContext, settings: PlanTrackerSettings
) -> dg.AssetCheckResult:
    return _run_stage(
        context, settings, "marts", FCT_STATUS, "status_passes_marts_suite", frames.marts_frame
    )
