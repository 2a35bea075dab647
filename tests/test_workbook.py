"""The scorecard workbook (lib/workbook.py): the page's figures in Excel, as the plan office
works with them — every target with the mart's status, numbers as numbers, text never a
formula, long sheets cut with a note."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib import workbook
from dagster_project.lib.report import STATUS_COLOURS, STATUS_LABELS
from tests.conftest import PLAN_TRACKER, REPO, name_values_to_check, pipeline_env

pytestmark = pytest.mark.slow


@pytest.fixture
def published(bundled_warehouse: Path) -> Path:
    return bundled_warehouse / "plan_tracker.duckdb"


def _rows(path: Path, sheet: str) -> list[tuple]:
    return list(load_workbook(path)[sheet].iter_rows(min_row=2, values_only=True))


def test_every_target_is_there_with_the_mart_s_figures(published: Path, tmp_path: Path) -> None:
    path = workbook.write_workbook(published, tmp_path)
    book = load_workbook(path)
    assert book.sheetnames == [
        "说明 About",
        "目标 Targets",
        "成员 Members",
        "地区 Geographies",
        "缺报 Missing",
        "待核对 To check",
        "状态变化 Changes",
    ]
    with duckdb.connect(str(published), read_only=True) as con:
        marts = {
            target_id: (status, actual, through)
            for target_id, status, actual, through in con.execute(
                "select target_id, status, actual_value, data_through_date "
                "from marts.fct_target_vs_actual where is_latest"
            ).fetchall()
        }
        [(run_id,)] = con.execute(
            "select run_id from marts.publish_log order by published_at desc limit 1"
        ).fetchall()
        [(missing,)] = con.execute(
            "select count(*) from marts.fct_report_completeness where report_status = 'missing'"
        ).fetchall()
        [(logged,)] = con.execute("select count(*) from marts.target_status_log").fetchall()
        # Every member row but the parts the area reports itself, owed by no member.
        [(members, owed_by_none)] = con.execute(
            "select count(*) filter (where not (i.reported_by = 'area' "
            "and c.member_target_id is null and c.actual_value is null)), "
            "count(*) filter (where i.reported_by = 'area') "
            "from marts.fct_target_contribution as c "
            "inner join marts.dim_indicator as i using (indicator_id)"
        ).fetchall()
    sheet = book["目标 Targets"]
    headers = [cell.value for cell in sheet[1]]
    column = {name: headers.index(name) for name in headers}
    rows = list(sheet.iter_rows(min_row=2))
    assert {row[column["target_id"]].value: None for row in rows}.keys() == marts.keys()
    for row in rows:
        status, actual, through = marts[row[column["target_id"]].value]
        cell = row[column["状态 status"]]
        assert cell.value == STATUS_LABELS[status]
        assert cell.fill.fgColor.rgb.endswith(STATUS_COLOURS[status].lstrip("#").upper())
        # Numbers and dates stay what they are, so that the office can sort and sum them.
        assert row[column["实际 actual"]].value == actual
        if through is not None:
            value = row[column["数据截至 data through"]]
            assert value.value.date() == through and value.number_format == "yyyy-mm-dd"
        assert row[column["状态自 status since"]].value is not None
    about = dict(_rows(path, "说明 About"))
    assert about["运行 run"] == run_id
    assert len(_rows(path, "缺报 Missing")) == missing > 0
    assert len(_rows(path, "状态变化 Changes")) == logged > 0
    assert len(_rows(path, "成员 Members")) == members > 0
    assert owed_by_none > 0  # the corridor's own figures: left out
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref


def test_each_geography_has_its_scorecard_row_most_reports_missing_first(
    published: Path, tmp_path: Path
) -> None:
    """The Geographies sheet is marts.scorecard_geography, a row per geography, its numbers
    numbers, most reports missing first: whom to chase."""
    path = workbook.write_workbook(published, tmp_path)
    rows = _rows(path, "地区 Geographies")
    with duckdb.connect(str(published), read_only=True) as con:
        marts = {
            geo_id: figures
            for geo_id, *figures in con.execute(
                "select geo_id, own_target_count, contribution_count, "
                "contribution_no_data_count, contribution_data_behind_count, reports_missing, "
                "latest_report_received_on from marts.scorecard_geography"
            ).fetchall()
        }
    assert {row[1]: None for row in rows}.keys() == marts.keys()
    for row in rows:
        own, parts, no_data, behind, missing, latest = marts[row[1]]
        assert (row[4], row[8], row[11], row[12], row[16]) == (own, parts, no_data, behind, missing)
        assert (row[17].date() if row[17] else None) == latest
    missing_order = [row[16] for row in rows]
    assert missing_order == sorted(missing_order, reverse=True) and missing_order[0] > 0


def test_text_from_the_warehouse_is_never_a_formula(later_copy: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(later_copy)) as con:
        con.execute(
            'update marts.dim_geography set name_zh = \'=HYPERLINK("http://x","黄石")\' '
            "where geo_id = 'huangshi'"
        )
    path = workbook.write_workbook(later_copy, tmp_path)
    cells = [
        cell
        for row in load_workbook(path)["缺报 Missing"].iter_rows(min_row=2)
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    ]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_values_to_check_that_still_count_are_listed_farthest_first(
    later_copy: Path, tmp_path: Path
) -> None:
    # Each named twice (listed once); a value corrected since (no longer the marts' report of its
    # period) is not listed.
    rows = name_values_to_check(later_copy, [10, 0.001, 20], times=2)
    listed = _rows(workbook.write_workbook(later_copy, tmp_path), "待核对 To check")
    assert [(row[8], row[9], row[11]) for row in listed] == [
        (0.001, rows[1][0], rows[1][3]),
        (20, rows[2][0], rows[2][3]),
        (10, rows[0][0], rows[0][3]),
    ]


def test_a_sheet_longer_than_the_limit_keeps_the_worst_rows_and_says_so(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS", 5)
    path = workbook.write_workbook(published, tmp_path)
    missing = _rows(path, "缺报 Missing")
    with duckdb.connect(str(published), read_only=True) as con:
        worst = con.execute(
            "select days_late from marts.fct_report_completeness "
            "where report_status = 'missing' order by days_late desc limit 5"
        ).fetchall()
        [(total,)] = con.execute(
            "select count(*) from marts.fct_report_completeness where report_status = 'missing'"
        ).fetchall()
    assert [row[5] for row in missing] == [days for (days,) in worst]
    about = dict(_rows(path, "说明 About"))
    assert about["缺报 Missing"] == (
        f"the first 5 of {total:,} rows, worst first; every row is in the warehouse"
    )


def test_make_report_writes_the_page_and_the_workbook(bundled_warehouse: Path) -> None:
    result = subprocess.run(
        [str(PLAN_TRACKER), "report"],
        env=pipeline_env(REPO / "raw", bundled_warehouse),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    written = [Path(line.removeprefix("wrote ")) for line in result.stdout.splitlines()]
    assert [p.name for p in written] == ["index.html", "scorecard.xlsx"]
    assert all(p.exists() and p.parent == bundled_warehouse / "report" for p in written)
    modified = dt.datetime.fromtimestamp(written[1].stat().st_mtime)
    assert dt.datetime.now() - modified < dt.timedelta(minutes=2)


def test_the_report_asset_writes_the_page_and_the_workbook_from_the_published_file(
    copies: tuple[Path, Path],
) -> None:
    """What report_after_publication_sensor's run materialises (defs/publish/assets.py)."""
    from dagster_project.defs.jobs import report_after_publication_sensor
    from dagster_project.defs.publish.assets import scorecard_report
    from dagster_project.defs.resources import PlanTrackerSettings

    raw, warehouse = copies
    settings = PlanTrackerSettings(raw_dir=str(raw), warehouse_dir=str(warehouse))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([scorecard_report], resources={"settings": settings}, instance=instance)
    assert result.success
    [materialization] = result.asset_materializations_for_node("warehouse__report")
    written = {Path(str(value.value)).name for value in materialization.metadata.values()}
    assert written == {"index.html", "scorecard.xlsx"}
    assert (warehouse / "report" / "scorecard.xlsx").exists()
    # The sensor asks for one report run per successful run, keyed by it.
    context = dg.build_run_status_sensor_context(
        sensor_name="report_after_publication_sensor",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
    )
    request = report_after_publication_sensor(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"report-after-{result.run_id}"
