"""Report templates (lib/templates.py): what each geography owes, in a form that lands clean."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.templates import HEADER, write_templates
from tests.test_ingest import Landing

pytestmark = pytest.mark.slow


def _owed(published: Path) -> dict[str, int]:
    with duckdb.connect(str(published), read_only=True) as con:
        return dict(
            con.execute(
                "select geo_id, count(*) from marts.fct_report_completeness "
                "where not is_received group by geo_id"
            ).fetchall()
        )


def test_each_geography_gets_the_reports_it_owes(bundled_warehouse: Path, tmp_path: Path) -> None:
    published = bundled_warehouse / "plan_tracker.duckdb"
    owed = _owed(published)
    stale = tmp_path / "templates" / "no_longer_owing.csv"
    stale.parent.mkdir()
    stale.write_text("old", encoding="utf-8")
    templates = write_templates(published, tmp_path / "templates")
    assert owed  # the bundled data, judged today, lack some reports
    assert sorted(p.name for p in templates.files) == sorted(f"{geo}.csv" for geo in owed)
    assert not stale.exists()
    assert templates.reports == sum(owed.values())
    for path in templates.files:
        title, header, *rows = list(csv.reader(path.open(encoding="utf-8-sig")))
        assert title[0].endswith(
            f"reports owed as of {templates.as_of_date}: fill in 数值 and send back"
        )
        assert tuple(header) == HEADER
        assert len(rows) == owed[path.stem]
        assert all(row[3] == "" for row in rows)  # the value is the sender's to give


def test_a_filled_in_template_lands_without_a_quarantined_row(
    bundled_warehouse: Path, tmp_path: Path
) -> None:
    templates = write_templates(bundled_warehouse / "plan_tracker.duckdb", tmp_path / "templates")
    landing = Landing(tmp_path / "landing")
    for path in templates.files:
        title, header, *rows = list(csv.reader(path.open(encoding="utf-8-sig")))
        # A sender fills in most values and leaves one blank (not reported, never zero).
        filled = [[*row[:3], "" if n == 0 else "1", *row[4:]] for n, row in enumerate(rows)]
        with (landing.raw / "progress" / path.name).open(
            "w", encoding="utf-8-sig", newline=""
        ) as f:
            csv.writer(f).writerows([title, header, *filled])
    outcomes = landing.ingest()
    assert {o.status for o in outcomes} == {"loaded"}
    assert sum(o.rows_loaded for o in outcomes) == templates.reports
    assert landing.rows("select count(*) from dq.quarantine") == [(0,)]
    assert landing.rows("select count(*) from raw.progress_rows where not is_reported") == [
        (len(templates.files),)
    ]


def test_make_templates_writes_them_beside_the_published_warehouse(
    bundled_warehouse: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PLAN_TRACKER_WAREHOUSE_DIR"] = str(tmp_path)
    command = [str(Path(sys.executable).with_name("plan-tracker")), "templates"]
    missing = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert missing.returncode == 1
    assert missing.stdout.startswith(f"no published warehouse at {tmp_path}")
    shutil.copyfile(bundled_warehouse / "plan_tracker.duckdb", tmp_path / "plan_tracker.duckdb")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    owed = _owed(tmp_path / "plan_tracker.duckdb")
    assert done.stdout.startswith(f"{sum(owed.values())} reports owed as of ")
    assert sorted(p.stem for p in (tmp_path / "templates").glob("*.csv")) == sorted(owed)
