"""The ledger of withdrawn files (lib/progress/withdrawals.py): parsing, resolution against the
files landed, and what the summary counts. The pipeline's use of it: tests/test_pipeline.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.progress.ingest import FILE_HASHES_DDL, ensure_tables
from dagster_project.lib.progress.withdrawals import (
    LedgerOutcome,
    WithdrawalError,
    apply_ledger,
    parse_withdrawals,
    read_withdrawals,
    record_withdrawals,
    resolve,
    reverted_files,
    vanished_files,
    withdrawn_counts,
)
from dagster_project.lib.warehouse import connect

A1 = "a1" * 32
A2 = "a2" * 32
B1 = "b1" * 32


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Three landed file versions: progress/a.csv twice (3 rows, then 2), progress/b.csv."""
    with connect(tmp_path / "w.duckdb") as con:
        ensure_tables(con)
        for number, (source_file, sha, loaded) in enumerate(
            [("progress/a.csv", A1, 3), ("progress/a.csv", A2, 2), ("progress/b.csv", B1, 4)]
        ):
            con.execute(
                "insert into raw.file_manifest (source_file, file_sha256, status, rows_in, "
                "rows_loaded, rows_quarantined, loaded_at) values (?, ?, 'loaded', ?, ?, 0, ?)",
                [
                    source_file,
                    sha,
                    loaded,
                    loaded,
                    dt.datetime(2026, 11, 1 + number, tzinfo=dt.UTC),
                ],
            )
        yield con


def test_a_ledger_in_english_or_chinese_headers_is_read_row_by_row() -> None:
    rows, problems = parse_withdrawals(
        "\ufeff原因,文件,版本\n"
        "sent twice,progress\\a.csv,A2A2A2A2\n"
        "\n"
        "wrong city,./progress/b.csv,\n"
    )
    assert problems == []
    assert [(w.source_file, w.file_sha256, w.reason, w.ledger_row) for w in rows] == [
        ("progress/a.csv", "a2a2a2a2", "sent twice", 2),
        ("progress/b.csv", None, "wrong city", 4),
    ]
    rows, _ = parse_withdrawals("source_file,reason,withdrawn_on\nprogress/a.csv,x,2026-11-26\n")
    assert rows[0].withdrawn_on == dt.date(2026, 11, 26)
    assert parse_withdrawals("") == ([], [])


def test_every_bad_row_is_named_with_its_reason() -> None:
    rows, problems = parse_withdrawals(
        "source_file,file_sha256,reason,withdrawn_on\n"
        "progress/a.csv,,fine,\n"
        ",,no file,\n"
        "progress/a.csv,abc,,26/11/2026\n"
    )
    assert [w.ledger_row for w in rows] == [2]
    assert problems == [
        "withdrawals.csv, row 3: no source_file (the path raw.file_manifest records)",
        "withdrawals.csv, row 4: no reason given for withdrawing progress/a.csv",
        "withdrawals.csv, row 4: file_sha256 'abc' is not a SHA-256 or its first 8 or more hex "
        "digits",
        "withdrawals.csv, row 4: withdrawn_on '26/11/2026' is not a date such as 2026-11-26",
    ]
    with pytest.raises(WithdrawalError, match=r"row 1: the header has no reason column"):
        parse_withdrawals("source_file,why\nprogress/a.csv,x\n")


def test_a_gbk_ledger_is_read(tmp_path: Path) -> None:
    (tmp_path / "withdrawals.csv").write_bytes("文件,原因\nprogress/a.csv,报错城市\n".encode("gbk"))
    rows, problems = read_withdrawals(tmp_path)
    assert problems == [] and rows[0].reason == "报错城市"
    assert read_withdrawals(tmp_path / "nothing") == ([], [])


def test_resolution_names_a_version_whole_and_refuses_what_was_not_landed(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows, problems = parse_withdrawals(
        "source_file,file_sha256,reason\n"
        "progress/a.csv,A2A2A2A2,sent twice\n"
        "progress/b.csv,,wrong city\n"
    )
    resolved = resolve(con, rows, problems)
    assert [(w.source_file, w.file_sha256, w.every_version) for w in resolved] == [
        ("progress/a.csv", A2, False),
        ("progress/b.csv", B1, True),
    ]
    # No version: every version landed, one withdrawal each (the first row naming it wins).
    rows, problems = parse_withdrawals(
        "source_file,file_sha256,reason\nprogress/a.csv,A2A2A2A2,second\nprogress/a.csv,,all\n"
    )
    assert [(w.file_sha256, w.reason, w.ledger_row) for w in resolve(con, rows, problems)] == [
        (A2, "second", 2),
        (A1, "all", 3),
    ]
    rows, problems = parse_withdrawals(
        "source_file,file_sha256,reason\n"
        "progress/bb.csv,,never landed\n"
        "progress/a.csv,ffffffff,no such version\n"
        "progress/b.csv,,fine\n"
        ",,a row that does not parse\n"
        "progress/a.csv,a,too short\n"
    )
    with pytest.raises(WithdrawalError) as refused:
        resolve(con, rows, problems)
    assert refused.value.problems == [
        "withdrawals.csv, row 2: progress/bb.csv is not a file the warehouse has loaded; give the "
        "path as raw.file_manifest records it (did you mean progress/b.csv?); a file this "
        "warehouse never landed has nothing to withdraw: remove the row",
        "withdrawals.csv, row 3: ffffffff names none of the 2 version(s) of progress/a.csv loaded "
        f"({A1[:12]}, {A2[:12]})",
        "withdrawals.csv, row 5: no source_file (the path raw.file_manifest records)",
        "withdrawals.csv, row 6: file_sha256 'a' is not a SHA-256 or its first 8 or more hex "
        "digits",
    ]
    assert str(refused.value).startswith("4 problem(s) in withdrawals.csv:\n")


def test_counts_and_files_no_longer_in_the_folder(con: duckdb.DuckDBPyConnection) -> None:
    record_withdrawals(con, [])
    assert withdrawn_counts(con) == (0, 0)
    assert vanished_files(con, {"progress/a.csv"}) == ["progress/b.csv"]
    rows, problems = parse_withdrawals(
        "source_file,file_sha256,reason\nprogress/a.csv,a1a1a1a1,old\nprogress/b.csv,,wrong\n"
    )
    record_withdrawals(con, resolve(con, rows, problems))
    assert withdrawn_counts(con) == (2, 7)  # a.csv's first version (3 rows), b.csv (4)
    # b.csv withdrawn whole counts nowhere, gone or not; a.csv's second version still counts.
    assert vanished_files(con, set()) == ["progress/a.csv"]
    record_withdrawals(con, [])  # the ledger emptied: everything counts again
    assert withdrawn_counts(con) == (0, 0)


def test_a_file_that_holds_again_an_earlier_landed_version_is_named(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """a.csv edited (A2), then put back as it was (A1): A1 is not read again and A2's rows
    stand — named, with the version to withdraw — until A2 is withdrawn."""
    record_withdrawals(con, [])
    assert reverted_files(con) == []  # no hashes recorded: a warehouse from before them
    con.execute(FILE_HASHES_DDL)
    con.execute(
        "insert into dq.file_hashes values "
        "('progress/a.csv', 1, now(), ?, now()), ('progress/b.csv', 1, now(), ?, now())",
        [A2, B1],
    )
    assert reverted_files(con) == []  # each file holds its latest version
    con.execute(
        "update dq.file_hashes set file_sha256 = ? where source_file = 'progress/a.csv'", [A1]
    )
    assert reverted_files(con) == [("progress/a.csv", A1[:12], A2[:12])]
    rows, problems = parse_withdrawals(
        "source_file,file_sha256,reason\nprogress/a.csv,a2a2a2a2,x\n"
    )
    record_withdrawals(con, resolve(con, rows, problems))
    assert reverted_files(con) == []  # A2 withdrawn: A1's rows count again


def test_apply_ledger_records_what_it_says_or_leaves_the_table_as_it_was(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    (raw / "progress").mkdir(parents=True)
    (raw / "progress" / "a.csv").write_text("x", encoding="utf-8")
    (raw / "withdrawals.csv").write_text("文件,原因\nprogress/b.csv,wrong city\n", encoding="utf-8")
    outcome = apply_ledger(con, raw)
    assert [w.source_file for w in outcome.withdrawals] == ["progress/b.csv"]
    assert (outcome.withdrawn_files, outcome.withdrawn_rows, outcome.vanished) == (1, 4, [])
    (raw / "progress" / "a.csv").unlink()
    (raw / "withdrawals.csv").write_text(
        "文件,原因\nprogress/b.csv,wrong city\nprogress/c.csv,typo\n", encoding="utf-8"
    )
    with pytest.raises(WithdrawalError, match=r"row 3: progress/c\.csv is not a file"):
        apply_ledger(con, raw)
    assert con.execute("select source_file from raw.withdrawals").fetchall() == [
        ("progress/b.csv",)
    ]
    (raw / "withdrawals.csv").unlink()
    assert apply_ledger(con, raw) == LedgerOutcome([], 0, 0, ["progress/a.csv", "progress/b.csv"])


def test_a_ledger_saved_with_semicolons_or_tabs_is_read_too() -> None:
    for separator in (";", "\t"):
        rows, problems = parse_withdrawals(
            separator.join(["source_file", "reason"])
            + "\n"
            + separator.join(["progress/a.csv", "wrong city, sent twice"])
            + "\n"
        )
        assert problems == []
        assert [(w.source_file, w.reason) for w in rows] == [
            ("progress/a.csv", "wrong city, sent twice")
        ]
    rows, _ = parse_withdrawals(
        "source_file,file_sha256,reason\nprogress/a.csv,,wrong city; sent twice\n"
    )
    assert rows[0].reason == "wrong city; sent twice"


def test_a_version_landed_after_a_path_was_withdrawn_is_withdrawn_by_the_next_run(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    (raw / "progress").mkdir(parents=True)
    (raw / "withdrawals.csv").write_text("文件,原因\nprogress/b.csv,wrong city\n", encoding="utf-8")
    assert apply_ledger(con, raw).withdrawn_files == 1
    con.execute(
        "insert into raw.file_manifest (source_file, file_sha256, status, rows_in, rows_loaded, "
        "rows_quarantined, loaded_at) values ('progress/b.csv', ?, 'loaded', 5, 5, 0, now())",
        ["b2" * 32],
    )
    outcome = apply_ledger(con, raw)
    assert (outcome.withdrawn_files, outcome.withdrawn_rows) == (2, 9)
    assert con.execute(
        "select file_sha256, every_version from raw.withdrawals order by file_sha256"
    ).fetchall() == [(B1, True), ("b2" * 32, True)]
