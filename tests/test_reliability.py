"""Crashes and concurrent runs: the published warehouse is always whole, and the next run loses
and duplicates nothing."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PLAN_TRACKER, REPO, pipeline_env, run_pipeline

pytestmark = pytest.mark.slow


def _start(raw: Path, warehouse: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(PLAN_TRACKER), "run", "--log-level", "DEBUG"],
        env=pipeline_env(raw, warehouse),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _kill_at_step(proc: subprocess.Popen[str], step: str, timeout: float = 240) -> bool:
    """SIGKILL the run (and its dbt child) as soon as `step` starts; False if it never did."""
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        if f'Started execution of step "{step}"' in line:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        if time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return False


def _drop_report(raw: Path, name: str, month: int) -> None:
    inbox = raw / "progress" / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / name).write_text(
        f"报告期,城市,指标,数值,单位\n2026-{month:02d},仙桃,校地产学研合作项目,1,项\n",
        encoding="utf-8",
    )


def test_killed_runs_leave_the_published_warehouse_whole_and_lose_nothing(copies) -> None:
    raw, warehouse = copies
    published = warehouse / "plan_tracker.duckdb"
    before = published.read_bytes()
    for n, step in enumerate(["progress_reports", "plan_tracker_dbt", "warehouse__published"]):
        _drop_report(raw, f"killed_{n}.csv", 4 + n)
        assert _kill_at_step(_start(raw, warehouse), step), step
        assert published.read_bytes() == before, f"published file changed by a run killed at {step}"
        with duckdb.connect(str(published), read_only=True) as con:
            assert con.execute("select count(*) from marts.fct_target").fetchone() == (24,)

    run_pipeline(raw, warehouse)
    with duckdb.connect(str(published), read_only=True) as con:
        dup_rows = con.execute(
            "select count(*) - count(distinct (source_file, file_sha256, sheet, source_row)) "
            "from raw.progress_rows"
        ).fetchall()[0][0]
        dup_files = con.execute(
            "select count(*) - count(distinct (source_file, file_sha256)) from raw.file_manifest"
        ).fetchall()[0][0]
        loaded = con.execute(
            "select count(*) from raw.file_manifest "
            "where source_file like 'progress/inbox/killed_%' and status = 'loaded'"
        ).fetchall()[0][0]
        unbalanced = con.execute(
            "select count(*) from raw.file_manifest where rows_in <> rows_loaded + rows_quarantined"
        ).fetchall()[0][0]
    assert (dup_rows, dup_files, loaded, unbalanced) == (0, 0, 3, 0)
    assert not list(warehouse.glob(".*.tmp"))


def test_two_runs_started_together_are_serialised(copies) -> None:
    raw, warehouse = copies
    first = _start(raw, warehouse)
    time.sleep(1)
    second = _start(raw, warehouse)
    # Both outputs are read at once: whichever run takes the lock first, the other must not be
    # left blocked on a full pipe while this test waits for the first.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outputs = [pool.submit(p.communicate, timeout=600) for p in (first, second)]
        (out_first, _), (out_second, _) = (o.result() for o in outputs)
    assert first.returncode == 0 and second.returncode == 0, out_first[-2000:] + out_second[-2000:]
    assert "waiting for it to end" in out_first + out_second
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        runs = con.execute(
            "select run_id, published_at from marts.publish_log order by published_at"
        ).fetchall()[-2:]
        (earlier_run, earlier_published), (later_run, _) = runs
        later_started = con.execute(
            "select min(checked_at) from dq.check_results where run_id = ?", [later_run]
        ).fetchall()[0][0]
    assert earlier_run != later_run
    assert later_started > earlier_published, "the second run worked before the first had finished"
