"""marts.target_status_log (lib/status_log.py): each target's status as the publications showed
it, a row each time it changed — and what the summary, `explain` and the page make of it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import yaml
from openpyxl import load_workbook

from dagster_project.lib import status_log
from dagster_project.lib.explain import explain
from dagster_project.lib.paths import Paths
from dagster_project.lib.report import render
from dagster_project.lib.summary import summary
from dagster_project.lib.warehouse import PUBLISH_LOG_DDL, connect, publish
from dagster_project.lib.workbook import write_workbook

LATEST = """
create or replace table marts.fct_target_vs_actual as
select * from (values
    ('a', date '2026-11-27', 'on_track', 'on_track', 1.0, 5.0, 5.0, date '2026-10-31', true),
    ('a', date '2026-11-27', 'at_risk', 'at_risk', 0.9, 4.0, 4.4, date '2026-09-30', false),
    ('b', date '2026-11-27', 'at_risk', 'off_track', 0.85, 3.0, 3.5, date '2026-10-31', true)
) as t(
    target_id, as_of_date, status, projected_status, pace_ratio, actual_value, expected_value,
    data_through_date, is_latest
)
"""


def _at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, 27, hour, tzinfo=dt.UTC)


def _log(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select target_id, run_id, status, projected_status, previous_status, "
        "previous_projected_status, previous_as_of_date from marts.target_status_log "
        "order by published_at, target_id"
    ).fetchall()


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(LATEST)
    return con


def test_the_first_publication_logs_every_target_and_an_unchanged_one_nothing(
    con: duckdb.DuckDBPyConnection,
) -> None:
    first = status_log.record(con, "r1", _at(1))
    assert [row[0] for row in first.rows] == ["a", "b"]  # the latest rows only
    assert (first.changed, first.describe()) == (0, "0 target(s) changed, 2 first published")
    assert status_log.record(con, "r2", _at(2)).rows == []
    # The as-of date moving on with the same statuses is no change either.
    con.execute("update marts.fct_target_vs_actual set as_of_date = '2026-11-28'")
    assert status_log.record(con, "r3", _at(3)).rows == []
    assert _log(con) == [
        ("a", "r1", "on_track", "on_track", None, None, None),
        ("b", "r1", "at_risk", "off_track", None, None, None),
    ]


def test_a_change_of_status_or_projection_is_logged_with_what_it_was(
    con: duckdb.DuckDBPyConnection,
) -> None:
    status_log.record(con, "r1", _at(1))
    con.execute(
        "update marts.fct_target_vs_actual set status = 'on_track', as_of_date = '2026-11-28' "
        "where target_id = 'b' and is_latest"
    )
    con.execute(
        "update marts.fct_target_vs_actual set projected_status = 'at_risk' "
        "where target_id = 'a' and is_latest"
    )
    changed = status_log.record(con, "r2", _at(2))
    assert [row[0] for row in changed.rows] == ["a", "b"]
    assert _log(con)[2:] == [
        ("a", "r2", "on_track", "at_risk", "on_track", "on_track", dt.date(2026, 11, 27)),
        ("b", "r2", "on_track", "off_track", "at_risk", "off_track", dt.date(2026, 11, 27)),
    ]


def test_a_look_back_logs_nothing_and_the_history_goes_on_from_where_it_was(
    con: duckdb.DuckDBPyConnection,
) -> None:
    status_log.record(con, "r1", _at(1))
    con.execute(
        "update marts.fct_target_vs_actual set status = 'no_data', as_of_date = '2026-06-30'"
    )
    back = status_log.record(con, "r2", _at(2))
    assert back.rows == [] and back.looked_back_from == dt.date(2026, 11, 27)
    # Back to today with the statuses of before: nothing moved since the last logged row.
    con.execute("drop table marts.fct_target_vs_actual")
    con.execute(LATEST)
    assert status_log.record(con, "r3", _at(3)) == status_log.Logged([])
    assert len(_log(con)) == 2


def test_a_target_new_to_the_catalog_is_logged_as_first_published(
    con: duckdb.DuckDBPyConnection,
) -> None:
    status_log.record(con, "r1", _at(1))
    con.execute(
        "insert into marts.fct_target_vs_actual values "
        "('c', date '2026-11-27', 'no_data', null, null, null, null, null, true)"
    )
    assert [(row[0], row[10]) for row in status_log.record(con, "r2", _at(2)).rows] == [("c", None)]


def test_a_warehouse_without_target_evaluation_logs_nothing() -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    assert status_log.record(con, "r1", _at(1)) == status_log.Logged([])
    assert not con.execute(
        "select count(*) from information_schema.tables where table_name = 'target_status_log'"
    ).fetchone()[0]  # type: ignore[index]


def test_the_log_s_columns_are_described_in_english_and_chinese(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Every column, described once for dbt docs (the `published` source), carries its
    description as a comment."""
    status_log.record(con, "r1", _at(1))
    comments = dict(
        con.execute(
            "select column_name, comment from duckdb_columns() "
            "where table_name = 'target_status_log'"
        ).fetchall()
    )
    assert list(comments) == [
        d[0] for d in con.execute("describe marts.target_status_log").fetchall()
    ]
    assert comments == {c: d for c, d in status_log.descriptions().items() if c}
    for column, text in comments.items():
        assert text and " / " in text and any("\u4e00" <= c <= "\u9fff" for c in text), column


@pytest.mark.slow
def test_a_publication_that_moves_a_status_is_told_by_the_summary_explain_and_the_page(
    copies: tuple[Path, Path],
) -> None:
    """Through the publication itself, on the bundled warehouse: its first publication logged
    every target; a build that moves one target's status logs it in the published file and the
    working file, and the summary, `explain` and the page say what it was."""
    raw, warehouse = copies
    paths = Paths.from_dirs(raw, warehouse)
    with connect(paths.published_db, read_only=True) as con:
        [(target_id, status, logged)] = con.execute(
            "select v.target_id, v.status, (select count(*) from marts.target_status_log) "
            "from marts.fct_target_vs_actual as v "
            "where v.is_latest and v.status = 'at_risk' order by v.target_id limit 1"
        ).fetchall()
        targets = con.execute(
            "select count(*) from marts.fct_target_vs_actual where is_latest"
        ).fetchone()[0]  # type: ignore[index]
    assert logged == targets
    assert "status changes since the last publication" not in summary(paths.published_db)

    # Nothing moved: the next publication says so.
    publish(paths, "run-same", "test")
    assert "status changes since the last publication: none" in summary(paths.published_db)

    # A build (here: an edit of the working file) moves one target on track, with a file
    # landed by the run (here: a row of an earlier file, as if sent again).
    with connect(paths.work_db) as con:
        con.execute(
            "update marts.fct_target_vs_actual set status = 'on_track' "
            "where target_id = ? and is_latest",
            [target_id],
        )
        con.execute(
            """
            insert into raw.progress_rows
            select rows.* replace ('run-moved' as run_id, 'progress/inbox/sent.csv' as source_file)
            from raw.progress_rows as rows
            inner join marts.fct_target as t
                on rows.indicator_id = t.indicator_id
                and (rows.geo_id = t.geo_id or rows.geo_id in (
                    select geo_id from marts.dim_geography where parent_geo_id = t.geo_id
                ))
            where t.target_id = ?
            limit 1
            """,
            [target_id],
        )
    moved = publish(paths, "run-moved", "test").status_logged
    assert (moved.changed, moved.describe()) == (1, "1 target(s) changed, 0 first published")
    for db in (paths.published_db, paths.work_db):
        with connect(db, read_only=True) as con:
            assert con.execute(
                "select run_id, status, previous_status from marts.target_status_log "
                "where target_id = ? order by published_at desc limit 1",
                [target_id],
            ).fetchall() == [("run-moved", "on_track", status)], db
    lines = summary(paths.published_db).splitlines()
    start = lines.index("status changes since the last publication: 1 (marts.target_status_log)")
    assert lines[start + 1].startswith(f"  {target_id} ")
    assert f": {status} → on_track (pace " in lines[start + 1]
    assert lines[start + 1].endswith("; landed this run: progress/inbox/sent.csv")

    told = explain(paths.published_db, target_id)
    assert "history as published (marts.target_status_log; 2 of 2" in told
    assert "    since " in told and "on_track, projection" in told
    assert "first published" in told

    with connect(paths.published_db, read_only=True) as con:
        page = render(con)
    assert "本次变化 changed from 有风险 at risk" in page
    assert "自 since " in page  # the targets that did not move

    # The data of the same target left too far behind (is_data_stale): the move to no_data
    # says why, not the pace those data had.
    with connect(paths.work_db) as con:
        con.execute(
            "update marts.fct_target_vs_actual set status = 'no_data', "
            "projected_status = 'no_data', is_data_stale = true, is_data_behind = false, "
            "is_at_path_start = false where target_id = ? and is_latest",
            [target_id],
        )
    publish(paths, "run-stale", "test")
    lines = summary(paths.published_db).splitlines()
    start = lines.index("status changes since the last publication: 1 (marts.target_status_log)")
    assert ": on_track → no_data (its data too far behind the reports due)" in lines[start + 1]

    # A look back publishes, logs nothing, and the summary says why.
    with connect(paths.work_db) as con:
        con.execute(
            "update marts.fct_target_vs_actual set as_of_date = as_of_date - interval 30 day"
        )
    back = publish(paths, "run-back", "test").status_logged
    assert back.describe().startswith("nothing logged: a look back, before ")
    assert "status log: not written by a look back (as of " in summary(paths.published_db)
    with connect(paths.published_db, read_only=True) as con:
        assert not con.execute(
            "select count(*) from marts.target_status_log where run_id = 'run-back'"
        ).fetchone()[0]  # type: ignore[index]


def test_the_publish_log_s_documented_columns_are_its_columns() -> None:
    """dbt docs describe marts.publish_log from the `published` source: the same columns."""
    sources = yaml.safe_load(status_log.DESCRIBED_IN.read_text(encoding="utf-8"))["sources"]
    [documented] = [t for s in sources for t in s["tables"] if t["name"] == "publish_log"]
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(PUBLISH_LOG_DDL)
    columns = [row[0] for row in con.execute("describe marts.publish_log").fetchall()]
    assert [c["name"] for c in documented["columns"]] == columns


@pytest.mark.slow
def test_a_warehouse_published_before_the_log_existed_reads_as_before(
    later_copy: Path, tmp_path: Path
) -> None:
    """A published file without marts.target_status_log (older code published it): the summary,
    explain, the page and the workbook leave the history out, and nothing fails."""
    with duckdb.connect(str(later_copy)) as con:
        con.execute("drop table marts.target_status_log")
        [(target_id,)] = con.execute("select target_id from marts.fct_target limit 1").fetchall()
    assert "status changes" not in summary(later_copy)
    assert "history as published" not in explain(later_copy, target_id)
    with connect(later_copy, read_only=True) as con:
        page = render(con)
    assert "自 since" not in page and "本次变化" not in page
    book = write_workbook(later_copy, tmp_path)
    assert "状态变化 Changes" not in load_workbook(book).sheetnames


@pytest.mark.slow
def test_a_publication_cut_short_before_the_working_file_s_copy_of_the_log_is_made_good(
    copies: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the rename, before the working file has the log's new rows: the next
    publication (from the working file) logs the change again, and its log ends with what it
    publishes (lib/status_log.py; `make stress` checks the same after random kills)."""
    raw, warehouse = copies
    paths = Paths.from_dirs(raw, warehouse)
    with connect(paths.work_db) as con:
        [(target_id,)] = con.execute(
            "select target_id from marts.fct_target_vs_actual "
            "where is_latest and status <> 'achieved' order by target_id limit 1"
        ).fetchall()
        con.execute(
            "update marts.fct_target_vs_actual set status = 'achieved' "
            "where target_id = ? and is_latest",
            [target_id],
        )

    def killed(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(status_log, "append", killed)
    with pytest.raises(KeyboardInterrupt):
        publish(paths, "run-cut", "test")
    monkeypatch.undo()
    with connect(paths.published_db, read_only=True) as con:  # published, with its log row
        assert status_log.disagreements(con) == 0
        assert con.execute(
            "select count(*) from marts.target_status_log where run_id = 'run-cut'"
        ).fetchall() == [(1,)]
    with connect(paths.work_db, read_only=True) as con:  # the working file lacks it
        assert status_log.disagreements(con) == 1

    publish(paths, "run-next", "test")
    with connect(paths.published_db, read_only=True) as con:
        assert status_log.disagreements(con) == 0
        assert con.execute(
            "select run_id, status from marts.target_status_log "
            "where target_id = ? order by published_at desc limit 1",
            [target_id],
        ).fetchall() == [("run-next", "achieved")]
