"""The DuckDB files: the private working file every run builds into, and the published copy that
readers open.

Why publish by copy and rename: DuckDB allows one writing process or many reading ones, never both.
BI tools hold the published file open read-only all day; the pipeline never opens that file for
writing. It builds into `work/plan_tracker.duckdb`, and after every gate passes copies that file to
a name beside the published one, stamps it (`marts.publish_log`; the targets whose status changed
in `marts.target_status_log`, lib/status_log.py), exports the marts, and renames it over the
published file. `rename(2)` is atomic: a reader opens either the old file or the new one,
and a reader that already has the old one open keeps reading it undisturbed.

The copy is made into the publication before last when it can: the file a publication replaces is
kept as `.plan_tracker.duckdb.spare`, and the next one, if no DuckDB connection has that file open,
rewrites only the parts of it that differ from the working file. A run changes a few megabytes
of a file that holds the whole history (an incremental run at 9M reports: 17 of 707 MB), and
writing all of it to disk at each publication made the copy the part of an incremental run that
grew with the history (0.2–2 s at 9M reports, depending on how fast the disk took it). Whether a
file is open is known from DuckDB's own locks: it holds a shared lock on a file as long as it
reads it, so a spare a reader still has open (one it opened while that file was the published
one) refuses an exclusive lock and is left alone, and the copy goes to a new file as before. A
program reading the file without DuckDB (a backup copying it) takes no lock: it must be done with
the file before the second publication after it opened it. Keeping the spare costs disk space:
two copies of the warehouse beside the working file.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from dagster_project.lib import status_log
from dagster_project.lib.exports import (
    clear_state,
    plan_exports,
    remove_stale_exports,
    save_state,
    write_exports,
)
from dagster_project.lib.paths import Paths
from dagster_project.lib.sql import quote_ident, quote_literal
from dagster_project.lib.text import HALFWIDTH_SQL_MACRO, LOOKUP_KEY_SQL_MACRO

log = logging.getLogger(__name__)

SCHEMAS: tuple[str, ...] = ("raw", "staging", "intermediate", "marts", "dq")


DEFAULT_MEMORY_LIMIT = "768MB"


def memory_limit() -> str:
    """DuckDB's memory limit for the pipeline's connections and dbt's (profiles.yml reads the same
    variable). DuckDB's default, 80% of the machine, would let one big sort or window take
    gigabytes; under the limit DuckDB spills to `<file>.tmp` instead (docs/performance.md)."""
    value = os.environ.get("PLAN_TRACKER_DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value, flags=re.IGNORECASE):
        raise ValueError(
            f"PLAN_TRACKER_DUCKDB_MEMORY_LIMIT={value!r} is not a size such as 1GB or 512MiB"
        )
    return value


@contextlib.contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the project's schemas and macros; closed (and checkpointed) on exit."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute(f"set memory_limit = {quote_literal(memory_limit())}")
        if not read_only:
            for schema in SCHEMAS:
                con.execute(f"create schema if not exists {quote_ident(schema)}")
            con.execute(HALFWIDTH_SQL_MACRO)
            con.execute(LOOKUP_KEY_SQL_MACRO)
        yield con
    finally:
        con.close()


def replace_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, data: pa.Table) -> int:
    """Replace `schema.table` with the rows of an Arrow table, in one transaction."""
    name = f"{quote_ident(schema)}.{quote_ident(table)}"
    con.register("_incoming", data)
    try:
        con.execute("begin")
        # `name` is built from code-chosen identifiers, quoted; no value from a file is in it.
        con.execute(f"create or replace table {name} as select * from _incoming")  # noqa: S608
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_incoming")
    return data.num_rows


def list_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "order by table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True)
class PublishResult:
    run_id: str
    published_at: dt.datetime
    path: Path
    row_counts: dict[str, int]
    exports: list[Path]
    exports_note: str = ""
    status_logged: status_log.Logged = field(default_factory=lambda: status_log.Logged([]))


PUBLISH_LOG_DDL = """
create table if not exists marts.publish_log (
    run_id varchar not null,
    published_at timestamp with time zone not null,
    code_version varchar,
    row_counts json,
    tables integer
)
"""


SYNC_CHUNK = 1024 * 1024


def spare_path(paths: Paths) -> Path:
    """The publication before the current one, kept to be rewritten into the next (see above)."""
    return paths.warehouse_dir / f".{paths.published_db.name}.spare"


def is_unopened(path: Path) -> bool:
    """Whether no DuckDB connection has `path` open. Another process's: DuckDB holds a POSIX lock
    on every file it opens (shared to read, exclusive to write) until it closes it, and an
    exclusive lock is refused while any is held. This process's: POSIX locks never conflict
    within one process, so its open files are looked at instead. Nothing is held after the
    check: only the pipeline opens the spare by its name, so no reader can come to it later."""
    try:
        stat = path.stat()
        if (stat.st_dev, stat.st_ino) in _open_files():
            return False
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        # Closing the descriptor gives the lock back (and, POSIX locks being per process, any
        # other lock this process held on the file: none, as it has the file open nowhere else).
        os.close(fd)
    return True


def _open_files() -> set[tuple[int, int]]:
    """(device, inode) of every file this process has open (/dev/fd: Linux and macOS)."""
    found = set()
    for descriptor in Path("/dev/fd").iterdir():
        with contextlib.suppress(OSError):
            stat = descriptor.stat()
            found.add((stat.st_dev, stat.st_ino))
    return found


def sync_file(source: Path, target: Path) -> int:
    """Make `target` a byte-for-byte copy of `source`, writing only the chunks that differ; the
    number of bytes written. Comparing is reading two files the page cache mostly holds (0.07 s
    for 707 MB); writing all of them is what took the time."""
    written = 0
    with source.open("rb", buffering=0) as src, target.open("r+b", buffering=0) as dst:
        size = os.fstat(src.fileno()).st_size
        offset = 0
        while offset < size:
            chunk = os.pread(src.fileno(), SYNC_CHUNK, offset)
            if not chunk:
                break
            if os.pread(dst.fileno(), len(chunk), offset) != chunk:
                os.pwrite(dst.fileno(), chunk, offset)
                written += len(chunk)
            offset += len(chunk)
        os.ftruncate(dst.fileno(), offset)
    return written


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(
    paths: Paths,
    run_id: str,
    code_version: str,
    export_schemas: Sequence[str] = ("marts",),
) -> PublishResult:
    """Copy the working file to the published path atomically, with a publish_log row and Parquet
    exports of every table in `export_schemas` (lib/exports.py). The published file is untouched if
    anything fails.
    """
    work = paths.work_db
    if not work.exists():
        raise FileNotFoundError(f"no working warehouse at {work}: run the pipeline first")
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # Make sure the working file holds everything (no pending WAL) before copying it.
    with connect(work) as con:
        con.execute(PUBLISH_LOG_DDL)
        con.execute("checkpoint")
        last = con.execute(
            "select run_id from marts.publish_log order by published_at desc limit 1"
        ).fetchall()
    last_run_id = last[0][0] if last else None
    # A run killed while publishing leaves its copy (or an old file being removed) behind; runs
    # are serialised by the pipeline lock, so any found now is such a leftover.
    for leftover in paths.warehouse_dir.glob(f".{paths.published_db.name}.*.tmp"):
        leftover.unlink(missing_ok=True)
    spare = spare_path(paths)
    retired: Path | None = None
    if spare.exists() and is_unopened(spare):
        # A DuckDB log left by a publication killed while it had the spare open belongs to what
        # the spare was then: replayed into the new copy, it would corrupt it.
        Path(f"{spare}.wal").unlink(missing_ok=True)
        tmp = spare
    else:
        if spare.exists():
            # A reader still has it open: it keeps reading it, the name goes (freed in the
            # background once the reader is done: renaming over it would wait for that).
            dropped = paths.warehouse_dir / f".{paths.published_db.name}.{uuid.uuid4().hex}.tmp"
            spare.replace(dropped)
            _remove_in_background(dropped)
        tmp = paths.warehouse_dir / f".{paths.published_db.name}.{uuid.uuid4().hex}.tmp"
    try:
        if tmp == spare:
            written = sync_file(work, tmp)
            log.info(
                "publish: %d of %d MB of the spare rewritten",
                written >> 20,
                work.stat().st_size >> 20,
            )
        else:
            shutil.copyfile(work, tmp)
        published_at = dt.datetime.now(dt.UTC)
        with connect(tmp) as con:
            # The copy's pages go to disk while the history marts are exported (CPU), instead of
            # in the fsync before the rename (0.3 s at 9M reports). Started once the file is open:
            # DuckDB's open and writes wait for a flush in progress.
            flush = threading.Thread(target=_fsync, args=(tmp,), daemon=True)
            flush.start()
            logged = status_log.record(con, run_id, published_at)
            counts = {
                f"{schema}.{table}": con.execute(
                    f"select count(*) from {quote_ident(schema)}.{quote_ident(table)}"  # noqa: S608
                ).fetchone()[0]  # type: ignore[index]
                for schema in ("marts", "dq", "raw")
                for table in list_tables(con, schema)
                if table != "publish_log"
            }
            tables = [(schema, t) for schema in export_schemas for t in list_tables(con, schema)]
            plan = plan_exports(con, paths.exports_dir, last_run_id)
            # From here the exports change: until this publication completes they reflect none.
            clear_state(paths.exports_dir)
            exports = write_exports(con, paths.exports_dir, tables, plan, history=True)
            row = [run_id, published_at, code_version, json.dumps(counts), len(counts)]
            con.execute("insert into marts.publish_log values (?, ?, ?, ?, ?)", row)
            exports += write_exports(con, paths.exports_dir, tables, plan, history=False)
            remove_stale_exports(paths.exports_dir, exports)
            con.execute("checkpoint")
        flush.join()
        _fsync(tmp)
        # The old file stays linked under a second name, to become the spare: the next
        # publication's copy.
        if paths.published_db.exists():
            retired = paths.warehouse_dir / f".{paths.published_db.name}.{uuid.uuid4().hex}.tmp"
            os.link(paths.published_db, retired)
        tmp.replace(paths.published_db)
        if retired is not None:
            retired.replace(spare)
        _fsync(paths.warehouse_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if retired is not None and paths.published_db.exists():
            retired.unlink(missing_ok=True)  # a second name of the file still published
        raise
    # The working file keeps the history of publications too, so the next copy carries it.
    with connect(work) as con:
        con.execute("insert into marts.publish_log values (?, ?, ?, ?, ?)", row)
        status_log.append(con, logged.rows)
    save_state(paths.exports_dir, run_id, plan, [t for _, t in tables])
    log.info("published %s (run %s, %d tables)", paths.published_db, run_id, len(counts))
    log.info("exports: %s", plan.describe())
    log.info("status log: %s", logged.describe())
    return PublishResult(
        run_id, published_at, paths.published_db, counts, exports, plan.describe(), logged
    )


_removals: list[threading.Thread] = []


def _remove_in_background(path: Path) -> None:
    """Unlink `path` in a thread; the process waits for it at exit (atexit), and a removal cut
    short by a kill leaves a leftover the next publication removes."""
    if not _removals:
        atexit.register(wait_for_removals)
    thread = threading.Thread(target=path.unlink, kwargs={"missing_ok": True}, daemon=True)
    thread.start()
    _removals.append(thread)


def wait_for_removals() -> None:
    while _removals:
        _removals.pop().join()


def read_publish_log(path: Path) -> list[dict[str, Any]]:
    with connect(path, read_only=True) as con:
        cur = con.execute("select * from marts.publish_log order by published_at")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
