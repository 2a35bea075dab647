"""Shared fixtures: a private copy of the bundled raw folder, and a way to run the pipeline as a
user does (the `plan-tracker` command, in a process of its own, with the PLAN_TRACKER_*
variables; forked from tests/launcher.py, its libraries imported once per test process)."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import duckdb
import pytest

from tests.launcher import Launcher

REPO = Path(__file__).resolve().parents[1]
RAW = REPO / "raw"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLAN_TRACKER = Path(sys.executable).with_name("plan-tracker")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end runs (marked slow: 10-200 s each) first, the quick tests after them, so
    that the quick ones fill in while the other worker finishes its last long run (with
    `--maxschedchunk 1`, Makefile: each worker is handed its next test as it finishes one). The
    sort is stable: file order is kept within each group."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled raw folder."""
    target = tmp_path / "raw"
    shutil.copytree(RAW, target)
    return target


def pipeline_env(raw_dir: Path, warehouse_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAN_TRACKER_", "DAGSTER_"))}
    env["PLAN_TRACKER_RAW_DIR"] = str(raw_dir)
    env["PLAN_TRACKER_WAREHOUSE_DIR"] = str(warehouse_dir)
    return env


_launcher: Launcher | None = None
_launcher_lock = threading.Lock()


def _launch(
    argv: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`plan-tracker *argv`, forked from this test process's launcher (tests/launcher.py)."""
    global _launcher
    with _launcher_lock:
        if _launcher is None:
            _launcher = Launcher(Path(tempfile.mkdtemp(prefix="plan-tracker-launcher-")))
            atexit.register(_launcher.close)
    return _launcher.run(argv, env, REPO, timeout)


def run_pipeline(
    raw_dir: Path,
    warehouse_dir: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    fresh: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `plan-tracker run` as `make run` does (with `env` added to the environment), and
    return what it printed: in a process forked from the test launcher, its libraries imported
    already (tests/launcher.py), or with `fresh` as a new process, as from the command line."""
    argv = ["run", "--log-level", "WARNING", *args]
    run_env = {**pipeline_env(raw_dir, warehouse_dir), **(env or {})}
    if fresh:
        result = subprocess.run(
            [str(PLAN_TRACKER), *argv],
            env=run_env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
        )
    else:
        result = _launch(argv, run_env, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"pipeline failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture(scope="session")
def bundled_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline run once on the bundled data; returns the warehouse folder."""
    base = tmp_path_factory.mktemp("bundled")
    raw = base / "raw"
    shutil.copytree(RAW, raw)
    warehouse = base / "warehouse"
    # As from the command line: a new process that imports everything itself.
    run_pipeline(raw, warehouse, fresh=True)
    return warehouse


@pytest.fixture
def later_copy(bundled_warehouse: Path, tmp_path: Path) -> Path:
    """A writable copy of the bundled published warehouse, for a test to change into one judged
    later or otherwise (data reaching a deadline cannot land before it has passed)."""
    copy = tmp_path / "later" / "plan_tracker.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(bundled_warehouse / "plan_tracker.duckdb", copy)
    return copy


@pytest.fixture
def copies(bundled_warehouse: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private raw folder and a copy of the bundled published warehouse, to run on again."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    warehouse = tmp_path / "warehouse"
    shutil.copytree(bundled_warehouse, warehouse)
    return raw, warehouse


def name_values_to_check(
    warehouse_file: Path, factors: list[float], geo_id: str | None = None, times: int = 1
) -> list[tuple]:
    """Name the first reports of marts.fct_actual (of `geo_id`, if given) as values to check in
    dq.value_checks, one factor each, `times` times each (by later checks; message "slip at row
    N"), and one more whose report no longer counts (corrected since). Returns the reports named:
    (source_file, file_sha256, sheet, source_row, …)."""
    with duckdb.connect(str(warehouse_file)) as con:
        rows = con.execute(
            "select source_file, file_sha256, sheet, source_row, geo_id, indicator_id, "
            "period_start, period_end, value, unit from marts.fct_actual "
            "where geo_id = coalesce(?, geo_id) order by source_file, source_row limit ?",
            [geo_id, len(factors)],
        ).fetchall()
        for row, factor in zip(rows, factors, strict=True):
            for day in range(1, times + 1):
                con.execute(
                    "insert into dq.value_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    "'2026-01-01', '2026-01-31', 1, 'progress/before.csv', null, 2, ?, "
                    "'value_jump', 'slip at row ' || ?, make_timestamp(2026, 11, ?, 0, 0, 0), "
                    "'r', null, null)",
                    [*row, factor, row[3], day],
                )
        con.execute(
            "insert into dq.value_checks select * replace ('progress/gone.csv' as source_file) "
            "from dq.value_checks limit 1"
        )
    return rows
