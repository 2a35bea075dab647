"""Publishing: atomic, stamped, exported, and harmless to readers."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.paths import Paths
from dagster_project.lib.warehouse import connect, publish, read_publish_log


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


def test_failed_publish_leaves_the_published_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _work(tmp_path, 1)
    publish(paths, "run-1", "test")
    before = paths.published_db.read_bytes()

    def broken_replace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
        if str(dst) == str(paths.published_db):
            raise OSError("disk full")
        Path(src).rename(dst)

    monkeypatch.setattr("dagster_project.lib.warehouse.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        publish(paths, "run-2", "test")
    assert paths.published_db.read_bytes() == before
    assert not list(paths.warehouse_dir.glob(".*.tmp"))
