"""The dbt project as Dagster assets: staging, intermediate and marts models keyed
[schema, model], sources keyed ["raw", table] (the ingest assets), dbt tests as asset checks."""

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import get_updated_cli_invocation_params_for_context
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dagster_dbt.dbt_manifest import validate_manifest

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PipelineLock, PlanTrackerSettings
from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib import warm
from dagster_project.lib.dbt_inprocess import DbtRun
from dagster_project.lib.dbt_state import (
    build_env,
    fingerprint,
    incremental_selection,
    plan_build,
    record_build,
    unchanged_models,
)
from dagster_project.lib.paths import DBT_DIR
from dagster_project.lib.quality.dbt_results import dbt_check_results, read_artifact
from dagster_project.lib.quality.results import last_outcomes, record
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
    # The selection (a subset picked in the UI, or a single check) is dagster-dbt's; only the
    # process dbt runs in is ours (lib/dbt_inprocess.py and lib/warm.py say why).
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        # The parsed manifest the decorator read (cached by path): no second read of the file.
        manifest=validate_manifest(dbt_project.manifest_path),
        dagster_dbt_translator=PlanTrackerTranslator(),
    )
    project_dir = Path(params.dbt_project.project_dir if params.dbt_project else dbt.project_dir)
    paths = settings.paths
    # dbt's artifacts and logs go under the warehouse folder (one fixed folder, replaced each run),
    # like everything else the pipeline writes; the prepared manifest stays in dbt/target.
    target_path = warm.dbt_target_path(paths)
    # A complete build (the whole project selected) may be incremental; a subset picked in the UI
    # always reads from the last complete build's load time and records nothing.
    complete = list(params.selection_args) in ([], ["--select", "fqn:*"])
    with connect(paths.work_db) as con:
        plan = plan_build(con, fingerprint(paths.raw_dir, DBT_DIR))
    context.log.info(
        f"dbt build: {'full refresh' if plan.full_refresh else 'incremental'} ({plan.reason})"
    )
    selection = list(params.selection_args)
    if complete and not plan.full_refresh:
        # Only what the new reports can move (lib/dbt_state.py: INCREMENTAL_SELECTION): 42 of 90
        # models and tests on the bundled project, 1.2 s less dbt overhead a run.
        selection = ["--select", incremental_selection(plan)]
        # The models left out are as the last complete build made them, and current: said so
        # (first: a multi-asset yields parents before children), rather than left without an
        # event, which would skip every step after this one.
        for unique_id in unchanged_models(params.manifest, plan):
            key = params.dagster_dbt_translator.get_asset_key(params.manifest["nodes"][unique_id])
            if key in context.selected_asset_keys:
                yield dg.MaterializeResult(
                    asset_key=key,
                    metadata={"dbt": "unchanged: reads only the catalog and the dbt project"},
                )
    command = [
        "build",
        # Unit tests check the models' logic on fixed inputs, not the data: like dbt's docs advise,
        # they run in development and CI (`make test`, tests/test_dbt_unit.py), not in every run.
        "--exclude-resource-type",
        "unit_test",
        *selection,
        *plan.dbt_args(),
        *(["--indirect-selection", params.indirect_selection] if params.indirect_selection else []),
    ]
    # A stale run_results.json must never be read as this run's.
    (target_path / "run_results.json").unlink(missing_ok=True)
    run = DbtRun(command)
    context.log.info(f"running {run.command}")
    evaluated: set[dg.AssetCheckKey] = set()
    for raw_event in warm.stream_dbt(command, paths, run, dbt_dir=project_dir, env=build_env(plan)):
        for event in DbtCoreCliEventMessage(
            raw_event=raw_event, event_history_metadata={}
        ).to_default_asset_events(
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            context=context,
            target_path=target_path,
            project=dbt_project,
        ):
            if isinstance(event, dg.AssetCheckResult):
                evaluated.add(dg.AssetCheckKey(event.asset_key, event.check_name))  # type: ignore[arg-type]
            yield event
    if run.exception is not None and not (target_path / "run_results.json").exists():
        raise dg.Failure(f"{run.command} could not run: {run.exception}")
    # The build writes no manifest.json (lib/dbt_inprocess.py `build`): the run's dbt artifacts
    # get the one its assets were defined from, the same project.
    shutil.copyfile(dbt_project.manifest_path, target_path / "manifest.json")
    # Every dbt test's outcome is also data (dq.check_results), whether the build passed or not;
    # the tests are described by the manifest already in memory, not read again from disk.
    results = dbt_check_results(
        read_artifact(target_path / "run_results.json"), params.manifest, context.run.run_id
    )
    with connect(paths.work_db) as con:
        record(con, results)
        if run.success and complete:
            record_build(con, plan, context.run.run_id)
        carried = last_outcomes(con, context.selected_asset_check_keys - evaluated)
    if not run.success:
        details = "\n".join(run.failures) or str(run.exception or "see dbt.log")
        raise dg.Failure(description=f"{run.command} failed:\n{details}")
    # The tests an incremental build left out judge models unchanged since they last ran: their
    # last outcome stands (dq.check_results), rather than a blocking check left without a result.
    for key, (passed, severity, run_id) in carried.items():
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=passed,
            severity=dg.AssetCheckSeverity.WARN
            if severity == "warn"
            else dg.AssetCheckSeverity.ERROR,
            metadata={"outcome_of_run": run_id, "not_run_again": "its inputs are unchanged"},
        )
