"""The progress-folder sensor requests one run per change of the folder, and none otherwise."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.defs.ingest.sensors import progress_folder_sensor
from dagster_project.defs.resources import PlanTrackerSettings


def _evaluate(raw: Path, cursor: str | None):
    settings = PlanTrackerSettings(raw_dir=str(raw), warehouse_dir=str(raw.parent / "wh"))
    context = dg.build_sensor_context(cursor=cursor, resources={"settings": settings})
    return progress_folder_sensor(context)


def test_new_files_request_one_run_and_an_unchanged_folder_none(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "progress").mkdir(parents=True)
    for i in range(25):  # a backlog of many files
        (raw / "progress" / f"r{i}.csv").write_text("x", encoding="utf-8")
    first = _evaluate(raw, None)
    assert isinstance(first, dg.SensorResult) and len(first.run_requests or []) == 1
    again = _evaluate(raw, first.cursor)
    assert isinstance(again, dg.SkipReason)
    (raw / "progress" / "r3.csv").write_text("changed", encoding="utf-8")
    changed = _evaluate(raw, first.cursor)
    assert isinstance(changed, dg.SensorResult) and changed.cursor != first.cursor


def test_a_changed_ledger_of_withdrawn_files_requests_a_run(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "progress").mkdir(parents=True)
    (raw / "progress" / "r.csv").write_text("x", encoding="utf-8")
    first = _evaluate(raw, None)
    assert isinstance(first, dg.SensorResult)
    ledger = raw / "withdrawals.csv"
    ledger.write_text("source_file,reason\n", encoding="utf-8")
    added = _evaluate(raw, first.cursor)
    assert isinstance(added, dg.SensorResult) and added.cursor != first.cursor
    assert isinstance(_evaluate(raw, added.cursor), dg.SkipReason)
    ledger.write_text("source_file,reason\nprogress/r.csv,sent in error\n", encoding="utf-8")
    withdrawn = _evaluate(raw, added.cursor)
    assert isinstance(withdrawn, dg.SensorResult) and withdrawn.cursor != added.cursor
