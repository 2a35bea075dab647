"""Nothing lost: the rows of every file version are all either loaded or quarantined."""

from __future__ import annotations

from typing import Any

import duckdb

UNACCOUNTED_SQL = """
with manifest as (
    select source_file, file_sha256, rows_in, rows_loaded, rows_quarantined
    from raw.file_manifest
),

loaded as (
    select source_file, file_sha256, count(*) as n from raw.progress_rows group by all
),

quarantined as (
    select source_file, file_sha256, count(*) as n from dq.quarantine group by all
),

compared as (
    select
        coalesce(manifest.source_file, loaded.source_file, quarantined.source_file) as source_file,
        coalesce(manifest.file_sha256, loaded.file_sha256, quarantined.file_sha256) as file_sha256,
        manifest.rows_in,
        manifest.rows_loaded,
        manifest.rows_quarantined,
        coalesce(loaded.n, 0) as rows_loaded_found,
        coalesce(quarantined.n, 0) as rows_quarantined_found
    from manifest
    full outer join loaded
        on manifest.source_file = loaded.source_file and manifest.file_sha256 = loaded.file_sha256
    full outer join quarantined
        on coalesce(manifest.source_file, loaded.source_file) = quarantined.source_file
        and coalesce(manifest.file_sha256, loaded.file_sha256) = quarantined.file_sha256
)

select *
from compared
where rows_in is null
    or rows_in <> rows_loaded + rows_quarantined
    or rows_loaded <> rows_loaded_found
    or rows_quarantined <> rows_quarantined_found
order by source_file
"""


def unaccounted_files(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """File versions whose rows do not add up (empty when everything is accounted for)."""
    tables = {
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    }
    if not {"raw.file_manifest", "raw.progress_rows", "dq.quarantine"} <= tables:
        return []
    cur = con.execute(UNACCOUNTED_SQL)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
