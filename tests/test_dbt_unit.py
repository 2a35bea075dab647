"""dbt unit tests (the status rules, year-to-date chains, revisions, roll-ups on fixed inputs).

Pipeline runs leave them out (`--exclude-resource-type unit_test`, as dbt's docs advise for
production): their inputs are fixtures, so they say nothing about the day's data. They run here,
against a copy of a built working warehouse, on every `make test`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")


def _declared_unit_tests() -> set[str]:
    names = set()
    for path in (REPO / "dbt" / "models").rglob("*.yml"):
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", []):
            names.add(test["name"])
    return names


def test_every_dbt_unit_test_passes(bundled_warehouse: Path, tmp_path: Path) -> None:
    work = tmp_path / "work.duckdb"
    shutil.copyfile(bundled_warehouse / "work" / "plan_tracker.duckdb", work)
    target = tmp_path / "target"
    env = {**os.environ, "PLAN_TRACKER_WORK_DB": str(work)}
    result = subprocess.run(
        [
            *(str(DBT), "test", "--select", "test_type:unit"),
            *("--target-path", str(target), "--log-path", str(target)),
        ],
        cwd=REPO / "dbt",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ran = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}
    assert set(ran) == _declared_unit_tests()
    assert set(ran.values()) == {"pass"}


def test_pipeline_runs_leave_unit_tests_out(bundled_warehouse: Path) -> None:
    results = json.loads(
        (bundled_warehouse / "work" / "dbt_target" / "run_results.json").read_text(encoding="utf-8")
    )["results"]
    kinds = {r["unique_id"].split(".", 1)[0] for r in results}
    assert kinds == {"model", "test"}
