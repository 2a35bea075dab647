"""The dbt project as Dagster assets: staging, intermediate and marts models keyed
[schema, model], sources keyed ["raw", table] (the ingest assets), dbt tests as asset checks."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from dagster_project.defs.ingest.catalog_assets import DUCKDB_POOL
from dagster_project.defs.resources import PipelineLock, PlanTrackerSettings
from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib.quality.dbt_results import dbt_check_results
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
):
    # dbt reads its connection from profiles.yml, which takes the working file's path from the
    # environment; the settings resource is the one place that path is decided.
    os.environ["PLAN_TRACKER_WORK_DB"] = str(settings.paths.work_db)
    # dbt's artifacts and logs go under the warehouse folder (one fixed folder, replaced each run),
    # like everything else the pipeline writes; the prepared manifest stays in dbt/target.
    invocation = dbt.cli(
        ["build"],
        context=context,
        raise_on_error=False,
        target_path=settings.paths.work_dir / "dbt_target",
    )
    yield from invocation.stream()
    # Every dbt test's outcome is also data (dq.check_results), whether the build passed or not.
    results = dbt_check_results(
        invocation.get_artifact("run_results.json"),
        invocation.get_artifact("manifest.json"),
        context.run_id,
    )
    with connect(settings.paths.work_db) as con:
        record(con, results)
    if not invocation.is_successful():
        raise invocation.get_error() or dg.Failure("dbt build failed")
