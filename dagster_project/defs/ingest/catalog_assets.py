"""Ingest the plan catalog and the reference data into `raw.*`. A catalog that fails validation
stops the run here, before anything downstream is built or published."""

import datetime as dt

import dagster as dg

from dagster_project.defs.resources import DUCKDB_POOL, PipelineLock, PlanTrackerSettings
from dagster_project.lib.catalog import CatalogError, load_catalog
from dagster_project.lib.catalog_tables import CATALOG_TABLES, catalog_tables
from dagster_project.lib.warehouse import connect, replace_table

__all__ = ["DUCKDB_POOL", "plan_catalog"]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["raw", table], description=text, group_name="ingest", kinds={"duckdb"})
        for table, text in CATALOG_TABLES.items()
    ],
    pool=DUCKDB_POOL,
)
def plan_catalog(
    context: dg.AssetExecutionContext, settings: PlanTrackerSettings, pipeline_lock: PipelineLock
):
    """Validate `plans/*.yaml` and `reference/*.csv`, then replace the catalog tables.
    (Requiring `pipeline_lock` takes the run's lock before the first write.)"""
    paths = settings.paths
    try:
        catalog = load_catalog(paths.raw_dir)
    except CatalogError as exc:
        raise dg.Failure(
            description=str(exc), metadata={"problems": dg.MetadataValue.json(exc.problems)}
        ) from exc
    tables = catalog_tables(catalog, dt.datetime.now(dt.UTC))
    paths.ensure()
    with connect(paths.work_db) as con:
        for table, data in tables.items():
            replace_table(con, "raw", table, data)
    context.log.info(
        "catalog: %d plans, %d targets, %d baselines",
        len(catalog.plans),
        tables["targets"].num_rows,
        tables["baselines"].num_rows,
    )
    for table, data in tables.items():
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "dagster/row_count": data.num_rows,
                "source_files": sorted({*data.column("source_file").to_pylist()}),
            },
        )
