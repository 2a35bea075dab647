"""Ingest the plan catalog and the reference data into `raw.*`. A catalog that fails validation
stops the run here, before anything downstream is built or published."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg

from dagster_project.defs.resources import DUCKDB_POOL, PipelineLock, PlanTrackerSettings
from dagster_project.lib.catalog import CatalogError, load_catalog
from dagster_project.lib.catalog_tables import (
    CATALOG_TABLES,
    catalog_fingerprint,
    catalog_tables,
    record_catalog,
    unchanged_since,
)
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
) -> Iterator[dg.MaterializeResult]:
    """Validate `plans/*.yaml` and `reference/*.csv`, then replace the catalog tables — unless the
    files and the code reading them are those of the last load (lib/catalog_tables.py), then the
    tables stay. (Requiring `pipeline_lock` takes the run's lock before the first write.)"""
    paths = settings.paths
    fingerprint = catalog_fingerprint(paths.raw_dir)
    paths.ensure()
    with connect(paths.work_db) as con:
        loaded_at = unchanged_since(con, fingerprint)
        if loaded_at is not None:
            counts = {
                table: con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]  # noqa: S608
                for table in CATALOG_TABLES
            }
    if loaded_at is not None:
        context.log.info(
            f"catalog: unchanged since {loaded_at.isoformat()} (same files and code), kept"
        )
        for table in CATALOG_TABLES:
            yield dg.MaterializeResult(
                asset_key=["raw", table],
                metadata={
                    "dagster/row_count": counts[table],
                    "unchanged_since": loaded_at.isoformat(),
                },
            )
        return
    try:
        catalog = load_catalog(paths.raw_dir)
    except CatalogError as exc:
        raise dg.Failure(
            description=str(exc), metadata={"problems": dg.MetadataValue.json(exc.problems)}
        ) from exc
    now = dt.datetime.now(dt.UTC)
    tables = catalog_tables(catalog, now)
    with connect(paths.work_db) as con:
        for table, data in tables.items():
            replace_table(con, "raw", table, data)
        record_catalog(con, fingerprint, now)
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
