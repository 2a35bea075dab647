"""Publishing: atomic, stamped, exported, and harmless to readers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.exports import BUCKET_SQL
from dagster_project.lib.paths import Paths
from dagster_project.lib.warehouse import (
    SYNC_CHUNK,
    connect,
    publish,
    read_publish_log,
    spare_path,
    sync_file,
    wait_for_removals,
)


def _work(tmp_path: Path, value: int) -> Paths:
    paths = Paths.from_dirs(tmp_path / "raw", tmp_path / "warehouse")
    with connect(paths.work_db) as con:
        con.execute("create or replace table marts.fct_example as select ? as value", [value])
    return paths


def test_publish_copies_stamps_and_exports(tmp_path: Path) -> None:
    paths = _work(tmp_path, 1)
    result = publish(paths, "run-1", "test")
    assert result.path == paths.published_db
    log = read_publish_log(paths.published_db)
    assert [r["run_id"] for r in log] == ["run-1"]
    assert (paths.exports_dir / "fct_example.parquet").exists()
    value = duckdb.execute(
        f"select value from read_parquet('{paths.exports_dir / 'fct_example.parquet'}')"
    ).fetchone()
    assert value == (1,)


def test_publish_log_keeps_the_history_of_publications(tmp_path: Path) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    publish(paths, "run-2", "test")
    assert [r["run_id"] for r in read_publish_log(paths.published_db)] == ["run-1", "run-2"]
    # The first file, kept linked for the rename, is removed in the background.
    wait_for_removals()
    assert not list(paths.warehouse_dir.glob(".*.tmp"))


def test_a_reader_with_the_old_file_open_keeps_reading_it(tmp_path: Path) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    reader = duckdb.connect(str(paths.published_db), read_only=True)
    with connect(paths.work_db) as con:
        con.execute("create or replace table marts.fct_example as select 2 as value")
    publish(paths, "run-2", "test")
    assert reader.execute("select value from marts.fct_example").fetchone() == (1,)
    reader.close()
    with connect(paths.published_db, read_only=True) as fresh:
        assert fresh.execute("select value from marts.fct_example").fetchone() == (2,)


def _refuse_to_replace(
    monkeypatch: pytest.MonkeyPatch, target: Path, message: str = "disk full"
) -> None:
    """Make the rename over `target` (the published file) fail, as a full disk would."""

    def broken_replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
        if str(dst) == str(target):
            raise OSError(message)
        Path(src).rename(dst)

    monkeypatch.setattr("dagster_project.lib.warehouse.os.replace", broken_replace)


def test_failed_publish_leaves_the_published_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    before = paths.published_db.read_bytes()
    _refuse_to_replace(monkeypatch, paths.published_db)
    with pytest.raises(OSError, match="disk full"):
        publish(paths, "run-2", "test")
    assert paths.published_db.read_bytes() == before
    assert not list(paths.warehouse_dir.glob(".*.tmp"))


# --- History marts: folders of files by geography, rewritten where reports changed ---------------


def _bucket(geo_id: str) -> int:
    return int(
        duckdb.execute(f"select {BUCKET_SQL} from (select ? as geo_id)", [geo_id]).fetchall()[0][0]
    )


def _history_work(tmp_path: Path) -> Paths:
    """A working file with what publishing reads: a history mart, landed reports with their load
    time, geographies with their parent area, and the dbt build state."""
    paths = Paths.from_dirs(tmp_path / "raw", tmp_path / "warehouse")
    with connect(paths.work_db) as con:
        con.execute(
            """
            create table raw.geographies as
            select 'g' || lpad(i::varchar, 3, '0') as geo_id,
                case when i > 0 then 'g000' end as parent_geo_id
            from range(60) as t (i);
            create table raw.progress_rows as
            select geo_id, indicator_id, timestamptz '2026-01-01 00:00:00+00' as loaded_at,
                null::date as reported_on
            from raw.geographies, (values ('ind_a'), ('ind_b')) as i (indicator_id);
            create table marts.fct_actual as
            select geo_id, indicator_id, 1.0 as value from raw.progress_rows;
            -- Of each pair, a report received and one outstanding (days late moving).
            create table marts.fct_report_completeness as
            select geo_id, indicator_id, is_received, if(is_received, 0, 3) as days_late,
                date '2025-12-31' as period_end
            from raw.progress_rows, (values (true), (false)) as r (is_received);
            create table dq.dbt_build_state as
            select timestamptz '2026-01-01 00:01:00+00' as built_at, true as full_refresh,
                timestamptz '2026-01-01 00:00:00+00' as loaded_through,
                date '2026-01-01' as as_of_date;
            """
        )
    return paths


def _record_build(
    paths: Paths,
    minute: int,
    full_refresh: bool,
    new_geo: str | None,
    indicators: tuple[str, ...] = ("ind_a",),
    as_of_date: str = "2026-01-01",
) -> None:
    loaded = f"2026-01-01 00:{minute:02d}:00+00"
    with connect(paths.work_db) as con:
        if new_geo is not None:
            # New reports for some indicators: dbt rebuilds those pairs only.
            for indicator in indicators:
                con.execute(
                    "insert into raw.progress_rows values (?, ?, ?::timestamptz, null)",
                    [new_geo, indicator, loaded],
                )
                con.execute(
                    "update marts.fct_actual set value = value + 1 "
                    "where geo_id = ? and indicator_id = ?",
                    [new_geo, indicator],
                )
        con.execute(
            "insert into dq.dbt_build_state "
            "values (?::timestamptz + interval 1 second, ?, ?::timestamptz, ?::date)",
            [loaded, full_refresh, loaded, as_of_date],
        )


def _files(folder: Path, prefix: str = "part") -> dict[str, int]:
    """Each part file and its inode: a rewritten file is a new inode (renamed into place)."""
    return {p.name: p.stat().st_ino for p in folder.glob(f"{prefix}-*.parquet")}


def _export_equals_table(paths: Paths, mart: str) -> bool:
    with connect(paths.published_db, read_only=True) as con:
        files = f"read_parquet('{paths.exports_dir / mart}/*.parquet')"
        differences = con.execute(
            f"""
            select count(*) from (
                (select * from marts.{mart} except all select * from {files})
                union all
                (select * from {files} except all select * from marts.{mart})
            )
            """
        ).fetchall()[0][0]
    return differences == 0


def test_history_marts_are_folders_rewritten_only_where_reports_changed(tmp_path: Path) -> None:
    paths = _history_work(tmp_path)
    folder = paths.exports_dir / "fct_actual"
    first = publish(paths, "run-1", "test")
    assert first.exports_note.startswith("every file rewritten (no record of earlier exports)")
    assert not (paths.exports_dir / "fct_actual.parquet").exists()
    assert _export_equals_table(paths, "fct_actual")
    before = _files(folder)
    assert len(before) == len({_bucket(f"g{i:03d}") for i in range(60)})

    # A report for one city: its file and its parent area's are rewritten, no other.
    city = next(f"g{i:03d}" for i in range(1, 60) if _bucket(f"g{i:03d}") != _bucket("g000"))
    _record_build(paths, 5, full_refresh=False, new_geo=city)
    second = publish(paths, "run-2", "test")
    assert second.exports_note.startswith("2 of 32 files of each history mart rewritten")
    after = _files(folder)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {f"part-{_bucket(city):02d}.parquet", f"part-{_bucket('g000'):02d}.parquet"}
    assert _export_equals_table(paths, "fct_actual")

    # Nothing new: nothing rewritten.
    assert publish(paths, "run-3", "test").exports_note.startswith("0 of 32 files")
    assert _files(folder) == after

    # A full refresh since the last exports rewrites every file.
    _record_build(paths, 7, full_refresh=True, new_geo=None)
    assert publish(paths, "run-4", "test").exports_note.startswith("every file rewritten (dbt made")
    assert not set(_files(folder).items()) & set(after.items())


def test_a_later_day_rewrites_the_reports_not_received_and_a_new_month_every_file(
    tmp_path: Path,
) -> None:
    """A later day of the month restates every report not received (lib/dbt_state.py): every
    outstanding file of fct_report_completeness is rewritten, its received reports and the other
    history marts only where reports came; into another month, every file of it."""
    paths = _history_work(tmp_path)
    publish(paths, "run-1", "test")
    actual, completeness = (
        paths.exports_dir / "fct_actual",
        paths.exports_dir / "fct_report_completeness",
    )
    received, outstanding = _files(completeness), _files(completeness, "outstanding")
    assert len(received) == len(outstanding) == len(_files(actual))
    before = _files(actual)
    city = next(f"g{i:03d}" for i in range(1, 60) if _bucket(f"g{i:03d}") != _bucket("g000"))
    changed = {f"part-{_bucket(city):02d}.parquet", f"part-{_bucket('g000'):02d}.parquet"}
    _record_build(paths, 5, full_refresh=False, new_geo=city, as_of_date="2026-01-02")
    with connect(paths.work_db) as con:
        con.execute(
            "update marts.fct_report_completeness set days_late = days_late + 1 "
            "where not is_received"
        )
    note = publish(paths, "run-2", "test").exports_note
    assert note.startswith("2 of 32 files of each history mart rewritten")
    assert note.endswith(
        "; every outstanding-NN file of fct_report_completeness (the as-of date moved)"
    )
    assert {n for n, ino in _files(actual).items() if before[n] != ino} == changed
    assert {n for n, ino in _files(completeness).items() if received[n] != ino} == changed
    assert not set(_files(completeness, "outstanding").items()) & set(outstanding.items())
    assert set(_files(completeness, "outstanding")) == {
        n.replace("part", "outstanding") for n in received
    }
    assert not list(completeness.glob(".*"))  # the partitioned write's own folder is gone
    assert _export_equals_table(paths, "fct_actual")
    assert _export_equals_table(paths, "fct_report_completeness")
    # The same day again: as before, only where reports came.
    assert publish(paths, "run-3", "test").exports_note.startswith("0 of 32 files")

    # A report loaded earlier, dated after the last exports' as-of date: known now, its pair's
    # received reports change (dbt rebuilt it), and its file is rewritten.
    known = next(
        f"g{i:03d}"
        for i in range(1, 60)
        if _bucket(f"g{i:03d}") not in {_bucket(city), _bucket("g000")}
    )
    with connect(paths.work_db) as con:
        con.execute(
            "insert into raw.progress_rows "
            "values (?, 'ind_b', timestamptz '2026-01-01 00:00:00+00', date '2026-01-04')",
            [known],
        )
        con.execute(
            "update marts.fct_report_completeness set is_received = true, days_late = 0 "
            "where geo_id = ? and indicator_id = 'ind_b'",
            [known],
        )
    received = _files(completeness)
    _record_build(paths, 7, full_refresh=False, new_geo=None, as_of_date="2026-01-03")
    note = publish(paths, "run-4", "test").exports_note
    assert "0 of 32 files" in note  # dated the 4th: not known on the 3rd
    assert _files(completeness) == received
    _record_build(paths, 8, full_refresh=False, new_geo=None, as_of_date="2026-01-05")
    note = publish(paths, "run-5", "test").exports_note
    assert note.startswith("2 of 32 files of each history mart rewritten (reports loaded after")
    assert "or dated after 2026-01-03" in note
    assert {n for n, ino in _files(completeness).items() if received[n] != ino} == {
        f"part-{_bucket(known):02d}.parquet",
        f"part-{_bucket('g000'):02d}.parquet",
    }
    assert _export_equals_table(paths, "fct_report_completeness")

    # Into another month: the periods ended since are added for every pair, most not received
    # (every outstanding file), one received early (its pair's file, and its area's).
    received, outstanding = _files(completeness), _files(completeness, "outstanding")
    early = next(
        f"g{i:03d}"
        for i in range(1, 60)
        if _bucket(f"g{i:03d}") not in {_bucket(known), _bucket("g000")}
    )
    _record_build(paths, 9, full_refresh=False, new_geo=None, as_of_date="2026-02-01")
    with connect(paths.work_db) as con:
        con.execute(
            "insert into marts.fct_report_completeness "
            "select geo_id, indicator_id, geo_id = ?, if(geo_id = ?, 0, 1), date '2026-01-31' "
            "from raw.geographies, (values ('ind_a'), ('ind_b')) as i (indicator_id)",
            [early, early],
        )
    note = publish(paths, "run-6", "test").exports_note
    assert "or dated after 2026-01-05, or periods ended since" in note
    assert note.endswith(
        "; every outstanding-NN file of fct_report_completeness (the as-of date moved)"
    )
    assert {n for n, ino in _files(completeness).items() if received[n] != ino} == {
        f"part-{_bucket(early):02d}.parquet",
        f"part-{_bucket('g000'):02d}.parquet",
    }
    assert not set(_files(completeness, "outstanding").items()) & set(outstanding.items())
    assert _export_equals_table(paths, "fct_report_completeness")


def test_history_exports_that_do_not_match_the_last_publication_are_rewritten(
    tmp_path: Path,
) -> None:
    paths = _history_work(tmp_path)
    publish(paths, "run-1", "test")
    state = paths.exports_dir / "_state.json"
    state.write_text(state.read_text().replace("run-1", "run-from-elsewhere"))
    # Files of another bucket count, or a bucket split in two, do not survive a full rewrite.
    folder = paths.exports_dir / "fct_actual"
    some = next(folder.glob("part-*.parquet"))
    shutil.copy(some, folder / "part-40.parquet")
    shutil.copy(some, folder / some.name.replace(".parquet", "-1.parquet"))
    assert "not those of the last publication" in publish(paths, "run-2", "test").exports_note
    assert not (folder / "part-40.parquet").exists()
    assert not list(folder.glob("part-*-1.parquet"))
    assert _export_equals_table(paths, "fct_actual")
    state.unlink()
    assert "no record of earlier exports" in publish(paths, "run-3", "test").exports_note
    shutil.rmtree(paths.exports_dir / "fct_actual")
    assert "missing" in publish(paths, "run-4", "test").exports_note
    assert _export_equals_table(paths, "fct_actual")
    next((paths.exports_dir / "fct_actual").glob("part-*.parquet")).unlink()
    assert "missing" in publish(paths, "run-5", "test").exports_note
    assert _export_equals_table(paths, "fct_actual")


def test_a_geography_without_rows_any_more_loses_its_file(tmp_path: Path) -> None:
    paths = _history_work(tmp_path)
    publish(paths, "run-1", "test")
    lonely = next(
        f"g{i:03d}"
        for i in range(1, 60)
        if [_bucket(f"g{j:03d}") for j in range(60)].count(_bucket(f"g{i:03d}")) == 1
    )
    _record_build(paths, 5, full_refresh=False, new_geo=lonely, indicators=("ind_a", "ind_b"))
    with connect(paths.work_db) as con:
        con.execute("delete from marts.fct_actual where geo_id = ?", [lonely])
    publish(paths, "run-2", "test")
    assert not (paths.exports_dir / "fct_actual" / f"part-{_bucket(lonely):02d}.parquet").exists()
    assert _export_equals_table(paths, "fct_actual")


def test_a_history_mart_without_rows_is_one_empty_file_with_its_columns(tmp_path: Path) -> None:
    paths = _history_work(tmp_path)
    publish(paths, "run-1", "test")
    _record_build(paths, 5, full_refresh=True, new_geo=None)
    with connect(paths.work_db) as con:
        con.execute("delete from marts.fct_report_completeness")
    publish(paths, "run-2", "test")
    folder = paths.exports_dir / "fct_report_completeness"
    assert sorted(p.name for p in folder.iterdir()) == ["part-00.parquet"]
    assert _export_equals_table(paths, "fct_report_completeness")
    files = duckdb.execute(f"from read_parquet('{folder}/*.parquet')")
    assert [c[0] for c in files.description or []] == [
        "geo_id",
        "indicator_id",
        "is_received",
        "days_late",
        "period_end",
    ]
    assert not files.fetchall()
    # Rows again: the empty file is rewritten with them or left beside them, adding nothing.
    _record_build(paths, 7, full_refresh=False, new_geo="g007")
    with connect(paths.work_db) as con:
        con.execute(
            "insert into marts.fct_report_completeness "
            "values ('g007', 'ind_a', false, 1, date '2026-01-31')"
        )
    publish(paths, "run-3", "test")
    assert _export_equals_table(paths, "fct_report_completeness")


def test_a_publication_that_fails_while_exporting_leaves_exports_to_be_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _history_work(tmp_path)
    publish(paths, "run-1", "test")
    _refuse_to_replace(monkeypatch, paths.published_db)
    with pytest.raises(OSError, match="disk full"):
        publish(paths, "run-2", "test")
    monkeypatch.undo()
    # A run killed while writing a history file leaves it half-written beside the others.
    (paths.exports_dir / "fct_actual" / ".part-99.parquet.tmp").write_bytes(b"PAR1 half")
    assert "no record of earlier exports" in publish(paths, "run-3", "test").exports_note
    assert not list(paths.exports_dir.glob(".*.tmp"))
    assert not list(paths.exports_dir.glob("*/.*.tmp"))


def _inode(path: Path) -> int:
    return path.stat().st_ino


def _set_value(paths: Paths, value: int) -> None:
    with connect(paths.work_db) as con:
        con.execute("create or replace table marts.fct_example as select ? as value", [value])


def _published_value(paths: Paths) -> int:
    with connect(paths.published_db, read_only=True) as con:
        return con.execute("select value from marts.fct_example").fetchall()[0][0]


def test_a_publication_is_written_into_the_one_before_last(tmp_path: Path) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    first = _inode(paths.published_db)
    publish(paths, "run-2", "test")
    second = _inode(paths.published_db)
    assert _inode(spare_path(paths)) == first
    _set_value(paths, 3)
    publish(paths, "run-3", "test")
    assert _inode(paths.published_db) == first  # rewritten in place, then renamed
    assert _inode(spare_path(paths)) == second
    assert _published_value(paths) == 3
    assert [r["run_id"] for r in read_publish_log(paths.published_db)] == [
        "run-1",
        "run-2",
        "run-3",
    ]
    wait_for_removals()
    assert not list(paths.warehouse_dir.glob(".*.tmp"))


_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
def show():
    value = con.execute("select value from marts.fct_example").fetchall()[0][0]
    runs = [r[0] for r in con.execute("select run_id from marts.publish_log").fetchall()]
    print(value, ",".join(runs), flush=True)
show()
sys.stdin.readline()
show()
"""


def test_a_spare_another_process_still_reads_is_left_as_it_is(tmp_path: Path) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    first = _inode(paths.published_db)
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(paths.published_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdin is not None
    try:
        assert reader.stdout.readline().split() == ["1", "run-1"]
        _set_value(paths, 2)
        publish(paths, "run-2", "test")  # the file the reader has open becomes the spare
        _set_value(paths, 3)
        publish(paths, "run-3", "test")  # … and is not written into: a new copy is
        assert _inode(paths.published_db) != first
        assert _published_value(paths) == 3
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().split() == ["1", "run-1"]
    finally:
        reader.kill()
        reader.wait()
    _set_value(paths, 4)
    publish(paths, "run-4", "test")
    assert _published_value(paths) == 4


def test_a_spare_this_process_still_reads_is_left_as_it_is(tmp_path: Path) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    first = _inode(paths.published_db)
    reader = duckdb.connect(str(paths.published_db), read_only=True)
    try:
        publish(paths, "run-2", "test")
        _set_value(paths, 3)
        publish(paths, "run-3", "test")
        assert _inode(paths.published_db) != first  # a new copy, not the file being read
        assert reader.execute("select value from marts.fct_example").fetchall() == [(1,)]
    finally:
        reader.close()
    # (Read once the reader is closed: DuckDB gives a process's connections to one path the
    # database it already has open there.)
    assert _published_value(paths) == 3


def test_a_log_left_beside_the_spare_is_not_replayed_into_the_next_publication(
    tmp_path: Path,
) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    publish(paths, "run-2", "test")
    # What a publication killed while it had the spare open leaves: that file's own log.
    spare = spare_path(paths)
    with duckdb.connect(str(spare)) as con:
        con.execute("set checkpoint_threshold = '1TB'")
        con.execute("create table marts.stray as select 1 as x")
        shutil.copyfile(f"{spare}.wal", tmp_path / "stray.wal")
    shutil.copyfile(tmp_path / "stray.wal", f"{spare}.wal")
    _set_value(paths, 3)
    publish(paths, "run-3", "test")
    assert _published_value(paths) == 3
    with connect(paths.published_db, read_only=True) as con:
        tables = {row[0] for row in con.execute("show all tables").fetchall()}
    assert "stray" not in tables


def test_a_file_is_synced_by_writing_only_the_chunks_that_differ(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    data = bytearray(os.urandom(3 * SYNC_CHUNK + 100))
    target.write_bytes(bytes(data) + b"tail beyond the source's end")
    data[SYNC_CHUNK + 5] ^= 0xFF
    source.write_bytes(bytes(data))
    assert sync_file(source, target) == SYNC_CHUNK
    assert target.read_bytes() == source.read_bytes()
    assert sync_file(source, target) == 0
    source.write_bytes(bytes(data) + b"grown")
    assert sync_file(source, target) == 100 + len(b"grown")
    assert target.read_bytes() == source.read_bytes()
