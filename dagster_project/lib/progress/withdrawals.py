"""Withdrawn progress files: `raw/withdrawals.csv`, the plan office's ledger of files sent in error.

A report is superseded by a later report of the same geography × indicator × period, so a wrong
value is corrected by sending the right one. A report that should not exist at all — a file sent
for the wrong city, or twice under two names, or a test file — has nothing to be superseded by.
Such a file is withdrawn by a row of this ledger: its rows stay in `raw.progress_rows` (nothing
landed is lost, and the ledger says why), but from the run that reads the row on they count
nowhere — not as actuals, not as revisions, not as received reports. Deleting the file from
raw/progress does not withdraw it (moving old files out of the inbox must not unmake years of
reports); the run's summary names such files instead.

    source_file,file_sha256,reason,withdrawn_on
    progress/public/xiaogan_2026-10.csv,,sent for 孝感 but holds 黄石's figures,2026-11-26

`source_file` is the path as `raw.file_manifest` records it; `file_sha256` (blank: every version
of that path, including any sent later under the same name) names one version by its SHA-256 or
its first 8 or more hex digits; `reason` is required; `withdrawn_on` is optional. Chinese headers
文件, 版本, 原因, 撤回日期 are accepted, and semicolons or tabs between columns. A row naming no
loaded file, or a version that is not one, stops the run before anything is built (the file is
then not withdrawn as intended, and the data would be published wrong), naming the row. Changing
the ledger makes that run's dbt build a full refresh (lib/dbt_state.py fingerprints it with the
catalog).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.lib.progress.files import EncodingError, detect_encoding, discover
from dagster_project.lib.progress.ingest import delimiter_of

WITHDRAWALS_FILE = "withdrawals.csv"

# One row per file version withdrawn: a ledger row naming every version of a path is one row
# per version landed (`every_version`), made again at every run, so that a version landed since
# is withdrawn too. Every reader then matches the exact key (source_file, file_sha256).
WITHDRAWALS_DDL = """
create or replace table raw.withdrawals (
    source_file varchar not null,
    file_sha256 varchar not null,
    every_version boolean not null,
    reason varchar not null,
    withdrawn_on date,
    ledger_row integer not null,
    primary key (source_file, file_sha256)
)
"""

_HEADERS = {
    "source_file": ("source_file", "file", "文件", "文件名"),
    "file_sha256": ("file_sha256", "sha256", "version", "版本"),
    "reason": ("reason", "原因", "撤回原因"),
    "withdrawn_on": ("withdrawn_on", "撤回日期", "日期"),
}
_REQUIRED = ("source_file", "reason")
_HEX = re.compile(r"[0-9a-f]{8,64}")


class WithdrawalError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in {WITHDRAWALS_FILE}:\n" + "\n".join(problems)
        )
        self.problems = problems


@dataclass(frozen=True)
class Withdrawal:
    source_file: str
    file_sha256: str | None  # a prefix as written, or None; resolve() makes it a whole digest
    reason: str
    withdrawn_on: dt.date | None
    ledger_row: int
    every_version: bool = False  # resolved from a row naming no version


def parse_withdrawals(text: str) -> tuple[list[Withdrawal], list[str]]:
    """The ledger's good rows, each checked on its own, and a problem for each bad one; raises
    WithdrawalError if the header has not the columns needed."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter_of(text[:4096]))
    header = next(reader, None)
    if header is None:
        return [], []
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        for field, aliases in _HEADERS.items():
            if key in aliases and field not in columns:
                columns[field] = index
    missing = [field for field in _REQUIRED if field not in columns]
    if missing:
        raise WithdrawalError(
            [
                f"{WITHDRAWALS_FILE}, row 1: the header has no {' or '.join(missing)} column "
                f"(got {', '.join(repr(h) for h in header)}); expected "
                "source_file,file_sha256,reason,withdrawn_on"
            ]
        )
    rows: list[Withdrawal] = []
    problems: list[str] = []
    for row_no, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue

        def cell(field: str, cells: list[str] = cells) -> str:
            index = columns.get(field)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        where = f"{WITHDRAWALS_FILE}, row {row_no}"
        source_file = cell("source_file").replace("\\", "/").removeprefix("./")
        sha = cell("file_sha256").lower() or None
        reason = cell("reason")
        on_text = cell("withdrawn_on")
        row_problems = []
        if not source_file:
            row_problems.append(f"{where}: no source_file (the path raw.file_manifest records)")
        if not reason:
            row_problems.append(f"{where}: no reason given for withdrawing {source_file}")
        if sha is not None and not _HEX.fullmatch(sha):
            row_problems.append(
                f"{where}: file_sha256 {sha!r} is not a SHA-256 or its first 8 or more hex digits"
            )
        withdrawn_on = None
        if on_text:
            try:
                withdrawn_on = dt.date.fromisoformat(on_text)
            except ValueError:
                row_problems.append(
                    f"{where}: withdrawn_on {on_text!r} is not a date such as 2026-11-26"
                )
        problems += row_problems
        if not row_problems:
            rows.append(Withdrawal(source_file, sha, reason, withdrawn_on, row_no))
    return rows, problems


def read_withdrawals(raw_dir: Path) -> tuple[list[Withdrawal], list[str]]:
    """`raw/withdrawals.csv` parsed (UTF-8 with or without BOM, or GBK as Excel saves it): its
    good rows and the problems of the others; no file, no withdrawals."""
    path = raw_dir / WITHDRAWALS_FILE
    if not path.is_file():
        return [], []
    try:
        encoding = detect_encoding(path)
    except EncodingError as exc:
        raise WithdrawalError([f"{WITHDRAWALS_FILE}: {exc}"]) from exc
    return parse_withdrawals(path.read_text(encoding=encoding))


def resolve(
    con: duckdb.DuckDBPyConnection, withdrawals: list[Withdrawal], problems: list[str]
) -> list[Withdrawal]:
    """Each withdrawal against the files landed (raw.file_manifest): the path must be one, and a
    version prefix must name exactly one of its versions, which it then names whole; a row naming
    no version withdraws each version landed. One withdrawal per version (the first row naming
    it). Raises WithdrawalError naming every bad row: those found here and the `problems` of
    parsing."""
    versions: dict[str, list[str]] = {}
    for source_file, sha in con.execute(
        "select source_file, file_sha256 from raw.file_manifest order by loaded_at"
    ).fetchall():
        versions.setdefault(source_file, []).append(sha)
    resolved, problems = [], list(problems)
    for w in withdrawals:
        where = f"{WITHDRAWALS_FILE}, row {w.ledger_row}"
        known = versions.get(w.source_file)
        if known is None:
            near = difflib.get_close_matches(w.source_file, versions, n=1)
            problems.append(
                f"{where}: {w.source_file} is not a file the warehouse has loaded; give the path "
                "as raw.file_manifest records it"
                + (f" (did you mean {near[0]}?)" if near else ", such as progress/x.csv")
                + "; a file this warehouse never landed has nothing to withdraw: remove the row"
            )
            continue
        if w.file_sha256 is None:
            resolved += [
                Withdrawal(w.source_file, sha, w.reason, w.withdrawn_on, w.ledger_row, True)
                for sha in known
            ]
            continue
        matching = [sha for sha in known if sha.startswith(w.file_sha256)]
        if len(matching) != 1:
            problems.append(
                f"{where}: {w.file_sha256} names {'none' if not matching else 'several'} of the "
                f"{len(known)} version(s) of {w.source_file} loaded "
                f"({', '.join(sha[:12] for sha in known)})"
            )
            continue
        resolved.append(
            Withdrawal(w.source_file, matching[0], w.reason, w.withdrawn_on, w.ledger_row)
        )
    if problems:
        raise WithdrawalError(sorted(problems, key=_row_of))
    first: dict[tuple[str, str | None], Withdrawal] = {}
    for w in resolved:
        first.setdefault((w.source_file, w.file_sha256), w)
    return list(first.values())


def _row_of(problem: str) -> int:
    found = re.search(r", row (\d+):", problem)
    return int(found.group(1)) if found else 0


def record_withdrawals(con: duckdb.DuckDBPyConnection, withdrawals: list[Withdrawal]) -> None:
    """Replace raw.withdrawals with the resolved ledger (in the caller's transaction)."""
    con.execute(WITHDRAWALS_DDL)
    if withdrawals:
        con.executemany(
            "insert into raw.withdrawals values (?, ?, ?, ?, ?, ?)",
            [
                (
                    w.source_file,
                    w.file_sha256,
                    w.every_version,
                    w.reason,
                    w.withdrawn_on,
                    w.ledger_row,
                )
                for w in withdrawals
            ],
        )


# The file versions of raw.file_manifest the ledger withdraws (dbt's stg_progress__rows leaves
# out their rows by the same key).
WITHDRAWN_VERSIONS_SQL = """
create or replace temporary view withdrawn_versions as
select * from raw.file_manifest semi join raw.withdrawals using (source_file, file_sha256)
"""


def withdrawn_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """How many file versions, and how many of their landed rows, are withdrawn (read-only)."""
    con.execute(WITHDRAWN_VERSIONS_SQL)
    [(files, rows)] = con.execute(
        "select count(*), coalesce(sum(rows_loaded), 0) from withdrawn_versions"
    ).fetchall()
    return int(files), int(rows)


def vanished_files(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[str]:
    """Files whose landed rows still count but that are no longer under raw/progress (the
    paths raw/progress now holds: `present`; read-only)."""
    con.execute(WITHDRAWN_VERSIONS_SQL)
    counted = con.execute(
        "select distinct source_file from (select * from raw.file_manifest where rows_loaded > 0 "
        "except all select * from withdrawn_versions) order by 1"
    ).fetchall()
    return [source_file for (source_file,) in counted if source_file not in present]


def reverted_files(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """Files that hold again an earlier landed version of themselves while a later version
    still counts (read-only): what each path held when the last run hashed it is in
    dq.file_hashes, and a version once landed is not read again, so the later version's rows
    stand until it is withdrawn. Each: the path, the version it holds, the later version (the
    first 12 hex digits of each SHA-256, as the ledger takes them)."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'dq' and table_name = 'file_hashes'"
    ).fetchall():
        return []
    con.execute(WITHDRAWN_VERSIONS_SQL)
    rows = con.execute(
        """
        with counted as (
            select * from raw.file_manifest where rows_loaded > 0
            except all
            select * from withdrawn_versions
        )
        select
            held.source_file,
            left(held.file_sha256, 12),
            left(arg_max(later.file_sha256, later.loaded_at), 12)
        from dq.file_hashes as held
        inner join raw.file_manifest as earlier
            on held.source_file = earlier.source_file and held.file_sha256 = earlier.file_sha256
        inner join counted as later
            on held.source_file = later.source_file and later.loaded_at > earlier.loaded_at
        group by all
        order by 1
        """
    ).fetchall()
    return [(str(path), str(held), str(later)) for path, held, later in rows]


@dataclass(frozen=True)
class LedgerOutcome:
    withdrawals: list[Withdrawal]
    withdrawn_files: int  # file versions withdrawn
    withdrawn_rows: int  # their landed rows, counted nowhere
    vanished: list[str]  # landed files no longer under raw/progress whose rows still count


def apply_ledger(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> LedgerOutcome:
    """Read raw/withdrawals.csv, check it against the files landed and make raw.withdrawals what
    it says (one transaction); raises WithdrawalError naming every bad row, the table untouched."""
    withdrawals = resolve(con, *read_withdrawals(raw_dir))
    con.begin()
    record_withdrawals(con, withdrawals)
    con.commit()
    files, rows = withdrawn_counts(con)
    present = {f.relative for f in discover(raw_dir)}
    return LedgerOutcome(withdrawals, files, rows, vanished_files(con, present))
