"""Parquet exports of the marts, for tools that cannot open DuckDB (docs/bi.md).

Most marts are small and rewritten whole at each publication: one file, `exports/<mart>.parquet`.
The marts that keep every report of the history (HISTORY_MARTS: the ones dbt maintains incrementally
by geography × indicator) are folders, `exports/<mart>/part-NN.parquet`: their rows are spread over
BUCKETS files by geography, and a publication rewrites only the files whose geographies may have
changed since the exports were last written. Written whole, the three history marts took 4.7 s of
every run at 9M reports, however small the new data (docs/performance.md); nothing in the Parquet
format lets a writer replace part of a file, so the unit of rewriting has to be a file. Each file
is one DuckDB COPY of its bucket's rows, renamed into place; this module decides which buckets to
write and from what.

fct_report_completeness keeps two files a bucket (SLICES): `part-NN.parquet`, the reports received,
and `outstanding-NN.parquet`, those not received. A later as-of date restates only the second kind
(late by more days, or missing: dbt/macros/incremental.sql `restate_not_received`), 1.65M of the
mart's 10.65M rows at 9M reports: the scheduled daily run rewrote all 32 files of the mart,
5.6–6.2 s on a slow day, where the outstanding files take 0.6–0.8 s (docs/performance.md).

What may have changed comes from the state the incremental dbt build keeps (lib/dbt_state.py):
after a full refresh every file is rewritten; otherwise the geography × indicator pairs with a
report loaded after the exports' watermark or dated between the exports' as-of date and this one
(known now), and the same indicator in every area above them (their rolled-up rows move with them)
— the pairs dbt rebuilt, every other row is as it was —, and when the as-of date moved since,
every outstanding file of fct_report_completeness (its reports not received are late by more days
everywhere) and the pairs of its received reports for periods ended since (into another month, the
periods ended are added for every pair: most not received yet; no other received report changes
outside the pairs above). A file to
rewrite is then its old rows outside those pairs plus the table's rows of those pairs: selecting a
bucket's rows from the 9M-row table reads every row group (a geography's rows are spread through
it), 0.33 s a file; the old file and the pairs' rows take 0.08 s. The exports record what they
reflect in `exports/_state.json`, written only once the publication is complete; anything that
does not match (no state, the state of another publication, another bucket count, layout or DuckDB
version, a missing folder) rewrites every file from the tables.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib.sql import KNOWN_ON_SQL, quote_ident, quote_literal, table_exists

HISTORY_MARTS = frozenset({"fct_actual", "fct_actual_history", "fct_report_completeness"})
# 32 files per mart: at 9M reports one file is ~280k rows (~2 MB), and a new city's report
# rewrites two or three of them; the bundled data's 18 geographies fill at most 18.
BUCKETS = 32
STATE_FILE = "_state.json"  # pandas/pyarrow skip names starting with "_" when reading a folder
# The files' layout, recorded in the state: exports of another layout are rewritten whole.
LAYOUT = 2  # 2: fct_report_completeness's reports not received apart (SLICES)
# Stable within one DuckDB version, which the state records: another version rewrites all.
BUCKET_SQL = f"hash(geo_id) % {BUCKETS}"
# Written by plan_exports on the connection it is given, read by write_exports on the same one.
CHANGED_PAIRS = "export_changed_pairs"
_PART = re.compile(r"^(part|outstanding)-(\d+)(?:-\d+)?\.parquet$")


@dataclass(frozen=True)
class Slice:
    """The rows of a history mart one kind of file holds, `<prefix>-NN.parquet` in each bucket."""

    prefix: str
    where: str  # a condition on the mart's columns (constants only)
    moves_with_as_of_date: bool = False  # restated whenever the as-of date moves


# Every row in exactly one slice (`is true` / `is not true`: a null would be in the second).
SLICES: dict[str, tuple[Slice, ...]] = {
    "fct_report_completeness": (
        Slice("part", "is_received is true"),
        Slice("outstanding", "is_received is not true", moves_with_as_of_date=True),
    ),
}
WHOLE = (Slice("part", "true"),)
# The rows a mart gains when the as-of date moves, `{since}` the exports' as-of date: the periods
# ended since (int_expected_reports; a row's period had ended by the as-of date it was built at).
# Those of a slice that does not move with the date, a report received for such a period, are
# rewritten with their pairs.
ADDED_WITH_AS_OF_DATE = {"fct_report_completeness": "period_end >= date '{since}'"}


def slices(mart: str) -> tuple[Slice, ...]:
    return SLICES.get(mart, WHOLE)


def _part_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if _PART.match(p.name)] if folder.is_dir() else []


@dataclass(frozen=True)
class ExportPlan:
    buckets: frozenset[int] | None  # the buckets to rewrite; None: every file
    reason: str
    built_at: dt.datetime | None  # the last recorded dbt build the exports will reflect
    loaded_through: dt.datetime | None  # … and the newest report load time it read
    as_of_date: dt.date | None = None  # … and the date it judged at
    # History marts whose slices that move with the as-of date are rewritten whole all the same.
    restated: frozenset[str] = frozenset()

    def describe(self) -> str:
        if self.buckets is None:
            return f"every file rewritten ({self.reason})"
        text = (
            f"{len(self.buckets)} of {BUCKETS} files of each history mart rewritten ({self.reason})"
        )
        for mart in sorted(self.restated):
            kinds = ", ".join(f"{s.prefix}-NN" for s in slices(mart) if s.moves_with_as_of_date)
            text += f"; every {kinds} file of {mart} (the as-of date moved)"
        return text


def _read_state(exports_dir: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((exports_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _timestamp(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def plan_exports(
    con: duckdb.DuckDBPyConnection, exports_dir: Path, last_run_id: str | None
) -> ExportPlan:
    """Which files of the history marts this publication rewrites. `con` is the warehouse being
    published; `last_run_id` the run of its last publication, which the exports on disk must
    reflect for any file to be kept."""
    built_at: dt.datetime | None = None
    loaded_through: dt.datetime | None = None
    as_of_date: dt.date | None = None
    if table_exists(con, "dq", "dbt_build_state"):
        last = con.execute(
            "select built_at, loaded_through, as_of_date from dq.dbt_build_state "
            "order by built_at desc limit 1"
        ).fetchall()
        if last:
            built_at, loaded_through, as_of_date = last[0]

    def every(reason: str) -> ExportPlan:
        return ExportPlan(None, reason, built_at, loaded_through, as_of_date)

    state = _read_state(exports_dir)
    if state is None:
        return every("no record of earlier exports")
    if state.get("run_id") != last_run_id or last_run_id is None:
        return every("the exports on disk are not those of the last publication")
    if (
        state.get("buckets") != BUCKETS
        or state.get("layout") != LAYOUT
        or state.get("duckdb") != duckdb.__version__
    ):
        return every("written with another bucket count, layout or DuckDB version")
    files = state.get("files")
    if not isinstance(files, dict) or any(
        not (exports_dir / mart / name).is_file() for mart, names in files.items() for name in names
    ):
        return every("a history mart's folder or file is missing")
    since_built, since_loaded = (
        _timestamp(state.get("built_at")),
        _timestamp(state.get("loaded_through")),
    )
    since_as_of = state.get("as_of_date")
    if since_built is None or since_loaded is None or built_at is None:
        return every("no dbt build recorded with the last exports")
    if as_of_date is None or not isinstance(since_as_of, str):
        return every("no as-of date recorded with the last exports")
    exported_as_of = dt.date.fromisoformat(since_as_of)
    full_refreshes = con.execute(
        "select count(*) from dq.dbt_build_state where built_at > ? and full_refresh",
        [since_built],
    ).fetchall()[0][0]
    if full_refreshes:
        return every("dbt made a full refresh since the last exports")
    if as_of_date < exported_as_of:  # a full refresh, unless the build did not complete
        return every("the as-of date moved back")
    if not table_exists(con, "raw", "progress_rows") or not table_exists(con, "raw", "geographies"):
        return every("no landed reports or geographies to compare with")
    # The pairs with a report loaded since or dated after the exports' as-of date, on or before
    # this one (known now), and the same indicator in every area above them (`union` stops at a
    # cycle): what dbt rebuilt (dbt/macros/incremental.sql, lib/dbt_state.py), or more.
    moved = as_of_date > exported_as_of
    added: list[str] = []  # queries of more pairs: the rows a moved as-of date added
    for mart, condition in ADDED_WITH_AS_OF_DATE.items():
        if not moved or not table_exists(con, "marts", mart):
            continue
        rows_added = condition.format(since=exported_as_of.isoformat())
        for kind in slices(mart):
            if not kind.moves_with_as_of_date:  # (the others are rewritten whole)
                where = f"({kind.where}) and {rows_added}"
                query = f"select geo_id, indicator_id from marts.{quote_ident(mart)} where {where}"  # noqa: S608
                added.append(query)  # (constants and a date)
    con.execute(
        f"""
        create or replace temp table {CHANGED_PAIRS} as
        with recursive changed (geo_id, indicator_id) as (
            select distinct geo_id, indicator_id from (
                select geo_id, indicator_id from raw.progress_rows
                where
                    loaded_at > ?
                    or {KNOWN_ON_SQL} between cast(? as date) + 1 and cast(? as date)
                {"".join(f" union all {query}" for query in added)}
            )
            union
            select geographies.parent_geo_id, changed.indicator_id
            from raw.geographies as geographies
            inner join changed on geographies.geo_id = changed.geo_id
            where geographies.parent_geo_id is not null
        )
        select geo_id, indicator_id, {BUCKET_SQL} as bucket from changed
        """,  # noqa: S608 (constants only)
        [since_loaded, exported_as_of, as_of_date],
    )
    rows = con.execute(f"select distinct bucket from {CHANGED_PAIRS}").fetchall()  # noqa: S608
    # The slices that move with the as-of date alone.
    moving = frozenset(m for m in SLICES if any(s.moves_with_as_of_date for s in SLICES[m]))
    return ExportPlan(
        frozenset(int(r[0]) for r in rows),
        f"reports loaded after {since_loaded.isoformat()}"
        + (
            f" or dated after {exported_as_of.isoformat()}, or periods ended since" if moved else ""
        ),
        built_at,
        loaded_through,
        as_of_date,
        moving if moved else frozenset(),
    )


def _write_single(con: duckdb.DuckDBPyConnection, relation: str, final: Path) -> None:
    part = final.parent / f".{final.name}.tmp"
    con.execute(f"copy {relation} to {quote_literal(str(part))} (format parquet, compression zstd)")
    part.replace(final)


def _write_buckets(
    con: duckdb.DuckDBPyConnection, relation: str, folder: Path, kinds: Sequence[Slice]
) -> None:
    """Rewrite every file of the slices `kinds` of a history mart's folder from the table, one
    bucket at a time, each renamed over its old file (readers see the old or the new file); files
    of buckets left empty, of another bucket count, or of no slice of the mart, are removed.

    One COPY a bucket, each scanning the table for its bucket's rows, rather than one COPY with
    PARTITION_BY: at 9M rows the partitioned write took 16–18 s for the three marts and the 32
    scans 11 s (DuckDB 2.0; docs/performance.md), and for the received reports of the completeness
    mart 4–4.9 s against 6 s, but with a peak RSS of 855 MB against 309 MB. The slice a daily run
    restates, smaller, is the exception (_write_partitioned)."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        if kind.moves_with_as_of_date:
            _write_partitioned(con, relation, folder, kind)
            continue
        for bucket in range(BUCKETS):
            _rewrite_bucket(con, relation, folder, bucket, kind, whole=True)
    prefixes = {kind.prefix for kind in slices(folder.name)}
    for old in _part_files(folder):
        match = _PART.match(old.name)
        if match and (int(match.group(2)) >= BUCKETS or match.group(1) not in prefixes):
            old.unlink()


def _write_partitioned(
    con: duckdb.DuckDBPyConnection, relation: str, folder: Path, kind: Slice
) -> None:
    """Rewrite every file of a slice in one COPY partitioned by bucket, each file then renamed
    over its old one, and those of buckets left empty removed.

    For the slice a daily run rewrites whole, the reports not received: at 9M reports its 1.65M
    rows took 3.7 s in 32 COPYs, each scanning the 10.65M-row table, and 0.6–0.7 s in one
    (measured on a slow day). The slices of whole marts stay one COPY a bucket (above)."""
    staging = folder / f".{kind.prefix}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    # Names, paths and conditions built here only.
    con.execute(
        f"""
        copy (
            select *, {BUCKET_SQL} as export_bucket from {relation} where {kind.where}
        ) to {quote_literal(str(staging))}
        (format parquet, compression zstd, partition_by (export_bucket),
            write_partition_columns false)
        """  # noqa: S608
    )
    for bucket in range(BUCKETS):
        final = folder / f"{kind.prefix}-{bucket:02d}.parquet"
        old = {final, *folder.glob(f"{kind.prefix}-{bucket:02d}-*.parquet")}
        written = sorted((staging / f"export_bucket={bucket}").glob("*.parquet"))
        # One file a bucket, unless DuckDB split one: the others `-K` beside it (_PART).
        names = [
            final.with_name(f"{final.stem}-{k}.parquet") if k else final
            for k in range(len(written))
        ]
        for part, name in zip(written, names, strict=True):
            part.replace(name)
        for stale in old - set(names):
            stale.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    query = f"describe select * from {relation}"  # noqa: S608 (relation: built here)
    return [row[0] for row in con.execute(query).fetchall()]


def _rewrite_bucket(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    folder: Path,
    bucket: int,
    kind: Slice,
    whole: bool = False,
) -> None:
    """Rewrite one file of a history mart's folder: its old rows outside the changed pairs and the
    table's rows of the changed pairs of its bucket and slice — or all its rows from the table
    (`whole`, or when the old file is not one file with the table's columns)."""
    final = folder / f"{kind.prefix}-{bucket:02d}.parquet"
    extras = [
        p for p in folder.glob(f"{kind.prefix}-{bucket:02d}-*.parquet") if _PART.match(p.name)
    ]
    # Names, paths, numbers and conditions built here only.
    table_rows = f"""
        select mart.* from {relation} as mart
        semi join (select * from {CHANGED_PAIRS} where bucket = {bucket}) as changed
            on mart.geo_id = changed.geo_id and mart.indicator_id = changed.indicator_id
        where {kind.where}
    """  # noqa: S608
    old_rows = f"read_parquet({quote_literal(str(final))})"
    if (
        not whole
        and final.exists()
        and not extras
        and _columns(con, old_rows) == _columns(con, relation)
    ):
        rows = f"""
            select exported.* from {old_rows} as exported
            anti join {CHANGED_PAIRS} as changed
                on exported.geo_id = changed.geo_id and exported.indicator_id = changed.indicator_id
            union all {table_rows}
        """  # noqa: S608
    else:
        rows = f"select * from {relation} where {BUCKET_SQL} = {bucket} and {kind.where}"  # noqa: S608
    part = folder / f".{final.name}.tmp"
    count = con.execute(
        f"copy ({rows}) to {quote_literal(str(part))} (format parquet, compression zstd)"
    ).fetchall()[0][0]
    if count:
        part.replace(final)
    else:  # the bucket has no rows any more
        part.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
    for extra in extras:
        extra.unlink()


def write_exports(
    con: duckdb.DuckDBPyConnection,
    exports_dir: Path,
    tables: Sequence[tuple[str, str]],
    plan: ExportPlan,
    *,
    history: bool,
) -> list[Path]:
    """Export the history marts (`history`) or the other tables of `tables` ((schema, table)
    pairs) under `exports_dir` following `plan`. Returns every file or folder exported."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    if history:
        # A run killed while exporting leaves its temporary files behind (beside the single
        # files, or in a history mart's folder); runs are serialised by the pipeline lock, so any
        # found now is such a leftover.
        for leftover in [*exports_dir.glob(".*.tmp"), *exports_dir.glob("*/.*.tmp")]:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    # Row groups are written in parallel, in no particular order (a table has none): the three
    # 9M-row marts export in 4.7 s instead of 6.4–7.1 s (docs/performance.md).
    con.execute("set preserve_insertion_order = false")
    written: list[Path] = []
    for schema, table in tables:
        if (table in HISTORY_MARTS) != history:
            continue
        relation = f"{quote_ident(schema)}.{quote_ident(table)}"
        if history:
            folder = exports_dir / table
            if plan.buckets is None:
                _write_buckets(con, relation, folder, slices(table))
            else:
                folder.mkdir(parents=True, exist_ok=True)
                for kind in slices(table):
                    if table in plan.restated and kind.moves_with_as_of_date:
                        _write_partitioned(con, relation, folder, kind)
                        continue
                    for bucket in sorted(plan.buckets):
                        _rewrite_bucket(con, relation, folder, bucket, kind)
            if not _part_files(folder):
                # A mart without rows (a look back to before the plans begin) keeps one empty
                # file with its columns: `<folder>/*.parquet` would otherwise match nothing, an
                # error for DuckDB's read_parquet and pandas alike (docs/bi.md).
                _write_single(con, f"(from {relation} limit 0)", folder / "part-00.parquet")
            written.append(folder)
        else:
            final = exports_dir / f"{table}.parquet"
            _write_single(con, relation, final)
            written.append(final)
    return written


def remove_stale_exports(exports_dir: Path, written: Sequence[Path]) -> None:
    """Remove the single-file exports of tables not exported any more (a table dropped, or a
    history mart's single file of old)."""
    keep = {p.name for p in written}
    for stale in exports_dir.glob("*.parquet"):
        if stale.name not in keep:
            stale.unlink()


def save_state(exports_dir: Path, run_id: str, plan: ExportPlan, marts: Sequence[str]) -> None:
    """Record, once the publication is complete, which publication the exports reflect."""
    state = {
        "run_id": run_id,
        "buckets": BUCKETS,
        "layout": LAYOUT,
        "duckdb": duckdb.__version__,
        "built_at": plan.built_at.isoformat() if plan.built_at else None,
        "loaded_through": plan.loaded_through.isoformat() if plan.loaded_through else None,
        "as_of_date": plan.as_of_date.isoformat() if plan.as_of_date else None,
        "files": {
            mart: sorted(p.name for p in _part_files(exports_dir / mart))
            for mart in sorted(m for m in marts if m in HISTORY_MARTS)
        },
        "last_exports": plan.describe(),
    }
    part = exports_dir / f".{STATE_FILE}.tmp"
    part.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    part.replace(exports_dir / STATE_FILE)


def clear_state(exports_dir: Path) -> None:
    """Forget what the exports reflect (before they start to change): if the publication does not
    complete, the next one rewrites every file."""
    (exports_dir / STATE_FILE).unlink(missing_ok=True)
