"""The validated catalog as the flat tables that land in the `raw` schema, one row per record as
written in its file, each with lineage (`source_file`, `file_sha256`, `source_path`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dagster_project.lib.catalog import (
    Action,
    Baseline,
    Catalog,
    ExcludedFigure,
    Geography,
    Indicator,
    PlanGeography,
    PlanMeta,
    Target,
    Unit,
    geography_alias_rows,
    indicator_alias_rows,
    unit_alias_rows,
)
from dagster_project.lib.version import files_digest

# Each landed table and the one-line description shown in Dagster and the dbt sources.
CATALOG_TABLES: dict[str, str] = {
    "plans": "One row per plan file: names, issuer, horizon, source document.",
    "plan_geographies": "Which geographies each plan covers, and in what role.",
    "actions": "Each plan's actions (tasks), including its headline-goals group.",
    "indicators": "Indicator definitions as declared by each plan file.",
    "indicator_aliases": "Every spelling of an indicator (id, names, aliases) and its key.",
    "baselines": "Baseline figures quoted from the source document.",
    "targets": "Targets quoted from the source document.",
    "excluded_figures": "Numbers of the source deliberately not catalogued, with the reason.",
    "geographies": "Reference geographies: codes, names, level, roll-up parent.",
    "geography_aliases": "Every spelling that names a geography, with its lookup key.",
    "units": "Units with their dimension and conversion factor to the dimension's base unit.",
    "unit_aliases": "Every spelling of a unit, with its lookup key.",
}


# What the catalog tables were loaded from: a digest of the catalog files and of the code that
# reads them, and when. A run whose files and code are those of the last load keeps the tables
# instead of parsing and validating the same files again (0.6 s for 3,000 geographies).
CATALOG_STATE_DDL = """
create table if not exists dq.catalog_state (fingerprint varchar, loaded_at timestamptz)
"""
_CATALOG_CODE = Path(__file__).resolve().parent
_REPO = _CATALOG_CODE.parents[1]


def catalog_fingerprint(raw_dir: Path) -> str:
    """A digest of the catalog files (plans/, reference/), of the modules that read them and of
    the catalog gate's suite and code: while it holds, both the tables and the gate's outcome on
    them stand (defs/quality/checks.py)."""
    return files_digest(
        {
            raw_dir: ["plans", "reference"],
            _CATALOG_CODE: ["catalog.py", "catalog_tables.py", "text.py", "quality"],
            _REPO: ["expectations/gx/expectations/targets__suite.json"],
        }
    )


def catalog_loaded_at(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """When the catalog tables now in `raw` were loaded (dq.catalog_state), if recorded."""
    con.execute(CATALOG_STATE_DDL)
    rows = con.execute("select max(loaded_at) from dq.catalog_state").fetchall()
    return rows[0][0] if rows else None


def unchanged_since(con: duckdb.DuckDBPyConnection, fingerprint: str) -> dt.datetime | None:
    """When the catalog tables now in `raw` were loaded, if from files and code with this
    fingerprint and every table is there; else None (the catalog must be loaded)."""
    con.execute(CATALOG_STATE_DDL)
    rows = con.execute(
        "select loaded_at from dq.catalog_state where fingerprint = ?", [fingerprint]
    ).fetchall()
    present = {
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw'"
        ).fetchall()
    }
    if not rows or not set(CATALOG_TABLES) <= present:
        return None
    return rows[0][0]


def record_catalog(
    con: duckdb.DuckDBPyConnection, fingerprint: str, loaded_at: dt.datetime
) -> None:
    """Write down, after every catalog table is replaced, what they were loaded from."""
    con.execute(CATALOG_STATE_DDL)
    con.execute(
        "create or replace table dq.catalog_state as "
        "select cast(? as varchar) as fingerprint, cast(? as timestamptz) as loaded_at",
        [fingerprint, loaded_at],
    )


# Column order of each table, so that a table with no rows still has its full shape.
_COLUMNS: dict[str, list[str]] = {
    "plans": list(PlanMeta.model_fields),
    "plan_geographies": ["plan_id", *PlanGeography.model_fields],
    "actions": ["plan_id", *Action.model_fields],
    "indicators": ["plan_id", *Indicator.model_fields],
    "indicator_aliases": ["indicator_id", "alias", "alias_key"],
    "baselines": ["plan_id", *Baseline.model_fields],
    "targets": ["plan_id", *Target.model_fields],
    "excluded_figures": ["plan_id", *ExcludedFigure.model_fields],
    "geographies": list(Geography.model_fields),
    "geography_aliases": ["geo_id", "alias", "alias_key"],
    "units": list(Unit.model_fields),
    "unit_aliases": ["unit", "alias", "alias_key"],
}


def _table(rows: list[dict[str, Any]], columns: Iterable[str]) -> pa.Table:
    columns = list(columns)
    data = {c: [r.get(c) for r in rows] for c in columns}
    arrays = []
    for c in columns:
        arr = pa.array(data[c])
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        arrays.append(arr)
    return pa.table(arrays, names=columns)


def catalog_tables(catalog: Catalog, loaded_at: dt.datetime) -> dict[str, pa.Table]:
    lineage = ("source_file", "file_sha256", "source_path", "loaded_at")
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in CATALOG_TABLES}
    for source, plan in catalog.plans:
        base = {
            "source_file": source.relative,
            "file_sha256": source.sha256,
            "loaded_at": loaded_at,
        }
        pid = plan.plan.plan_id
        out["plans"].append({**plan.plan.model_dump(), **base, "source_path": "plan"})
        for n, member in enumerate(plan.geographies):
            out["plan_geographies"].append(
                {"plan_id": pid, **member.model_dump(), **base, "source_path": f"geographies[{n}]"}
            )
        for n, a in enumerate(plan.actions):
            out["actions"].append(
                {"plan_id": pid, **a.model_dump(), **base, "source_path": f"actions[{n}]"}
            )
        for n, i in enumerate(plan.indicators):
            row = i.model_dump()
            row["aliases"] = list(i.aliases)
            out["indicators"].append(
                {"plan_id": pid, **row, **base, "source_path": f"indicators[{n}]"}
            )
        for n, b in enumerate(plan.baselines):
            out["baselines"].append(
                {"plan_id": pid, **b.model_dump(), **base, "source_path": f"baselines[{n}]"}
            )
        for n, t in enumerate(plan.targets):
            row = t.model_dump()
            row["also_stated_zh"] = list(t.also_stated_zh)
            out["targets"].append({"plan_id": pid, **row, **base, "source_path": f"targets[{n}]"})
        for n, e in enumerate(plan.excluded_figures):
            out["excluded_figures"].append(
                {"plan_id": pid, **e.model_dump(), **base, "source_path": f"excluded_figures[{n}]"}
            )
    geo_src = catalog.reference_files["geographies.csv"]
    for n, g in enumerate(catalog.geographies):
        row = g.model_dump()
        row["aliases"] = list(g.aliases)
        out["geographies"].append(
            {
                **row,
                "source_file": geo_src.relative,
                "file_sha256": geo_src.sha256,
                "source_path": f"row {n + 2}",
                "loaded_at": loaded_at,
            }
        )
    unit_src = catalog.reference_files["units.csv"]
    for n, u in enumerate(catalog.units):
        row = u.model_dump()
        row["aliases"] = list(u.aliases)
        out["units"].append(
            {
                **row,
                "source_file": unit_src.relative,
                "file_sha256": unit_src.sha256,
                "source_path": f"row {n + 2}",
                "loaded_at": loaded_at,
            }
        )
    derived = {"source_path": "derived", "loaded_at": loaded_at}
    out["geography_aliases"] = [
        {**r, "source_file": geo_src.relative, "file_sha256": geo_src.sha256, **derived}
        for r in geography_alias_rows(catalog)
    ]
    out["unit_aliases"] = [
        {**r, "source_file": unit_src.relative, "file_sha256": unit_src.sha256, **derived}
        for r in unit_alias_rows(catalog)
    ]
    ind_src = {
        i.indicator_id: src for src, p in catalog.plans for i in p.indicators
    }  # the first plan file that declares each indicator
    out["indicator_aliases"] = [
        {
            **r,
            "source_file": ind_src[r["indicator_id"]].relative,
            "file_sha256": ind_src[r["indicator_id"]].sha256,
            **derived,
        }
        for r in indicator_alias_rows(catalog)
    ]

    tables: dict[str, pa.Table] = {}
    for name, rows in out.items():
        tables[name] = _table(rows, [*_COLUMNS[name], *lineage])
    return tables
