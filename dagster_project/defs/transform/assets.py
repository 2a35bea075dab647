"""The dbt project as Dagster assets: staging, intermediate and marts models keyed
[schema, model], sources keyed ["raw", table] (the ingest assets), dbt tests as asset checks."""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import get_updated_cli_invocation_params_for_context
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PipelineLock, PlanTrackerSettings
from dagster_project.defs.transform.project import DBT_DIR, dbt_project
from dagster_project.lib.dbt_inprocess import DbtRun, stream_dbt
from dagster_project.lib.dbt_state import fingerprint, plan_build, record_build
from dagster_project.lib.quality.dbt_results import dbt_check_results, read_artifact
from dagster_project.lib.quality.results import record
from dagster_project.lib.warehouse import connect


class PlanTrackerTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        schema = dbt_resource_props["config"].get("schema") or dbt_resource_props["schema"]
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "marts" if dbt_resource_props["fqn"][1:2] == ["marts"] else "transform"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PlanTrackerTranslator(),
    pool=DUCKDB_POOL,
)
def plan_tracker_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    settings: PlanTrackerSettings,
    pipeline_lock: PipelineLock,
) -> Iterator[Any]:
    # dbt reads its connection from profiles.yml, which takes the working file's path from the
    # environment; the settings resource is the one place that path is decided.
    os.environ["PLAN_TRACKER_WORK_DB"] = str(settings.paths.work_db)
    # The selection (a subset picked in the UI, or a single check) is dagster-dbt's; only the
    # process dbt runs in is ours (lib/dbt_inprocess.py says why).
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        manifest=dbt_project.manifest_path,
        dagster_dbt_translator=PlanTrackerTranslator(),
    )
    project_dir = params.dbt_project.project_dir if params.dbt_project else dbt.project_dir
    # dbt's artifacts and logs go under the warehouse folder (one fixed folder, replaced each run),
    # like everything else the pipeline writes; the prepared manifest stays in dbt/target.
    target_path = settings.paths.work_dir / "dbt_target"
    # A complete build (the whole project selected) may be incremental; a subset picked in the UI
    # always reads from the last complete build's load time and records nothing.
    complete = list(params.selection_args) in ([], ["--select", "fqn:*"])
    with connect(settings.paths.work_db) as con:
        plan = plan_build(con, fingerprint(settings.paths.raw_dir, DBT_DIR))
    context.log.info(
        f"dbt build: {'full refresh' if plan.full_refresh else 'incremental'} ({plan.reason})"
    )
    args = [
        "build",
        # Unit tests check the models' logic on fixed inputs, not the data: like dbt's docs advise,
        # they run in development and CI (`make test`, tests/test_dbt_unit.py), not in every run.
        "--exclude-resource-type",
        "unit_test",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(dbt.profiles_dir or project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
        # dbt.log keeps what a failure needs (errors, warnings, node results), not every
        # statement: at debug level the file handler costs ~1 s per run.
        "--log-level-file",
        "info",
        *params.selection_args,
        *plan.dbt_args(),
        *(["--indirect-selection", params.indirect_selection] if params.indirect_selection else []),
    ]
    # A stale run_results.json must never be read as this run's.
    (target_path / "run_results.json").unlink(missing_ok=True)
    run = DbtRun(args)
    context.log.info(f"running {run.command}")
    for raw_event in stream_dbt(args, run):
        yield from DbtCoreCliEventMessage(
            raw_event=raw_event, event_history_metadata={}
        ).to_default_asset_events(
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            context=context,
            target_path=target_path,
            project=dbt_project,
        )
    if run.exception is not None and not (target_path / "run_results.json").exists():
        raise dg.Failure(f"{run.command} could not run: {run.exception}")
    # Every dbt test's outcome is also data (dq.check_results), whether the build passed or not.
    results = dbt_check_results(
        read_artifact(target_path / "run_results.json"),
        read_artifact(target_path / "manifest.json"),
        context.run.run_id,
    )
    with connect(settings.paths.work_db) as con:
        record(con, results)
        if run.success and complete:
            record_build(con, plan, context.run.run_id)
    if not run.success:
        details = "\n".join(run.failures) or str(run.exception or "see dbt.log")
        raise dg.Failure(description=f"{run.command} failed:\n{details}")
