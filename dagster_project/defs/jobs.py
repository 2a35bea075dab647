"""Jobs: the full refresh (everything, then publish)."""

import dagster as dg

full_refresh_job = dg.define_asset_job(
    name="full_refresh_job",
    selection=dg.AssetSelection.all(),
    description="Ingest every input, build every model, run every check, publish the warehouse.",
)
