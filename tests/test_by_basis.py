"""Forms with a value column per basis (本月 | 1-本月累计), as statistics bureaus send them: each
row is a report per such column, its basis the column's, its lineage the row and the column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dagster_project.lib import explain
from dagster_project.lib.progress.headers import find_header
from tests.test_ingest import Landing


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path)


def _landed(landing: Landing, source_file: str) -> dict[tuple[int, str | None], tuple]:
    rows = landing.rows(
        "select source_row, source_column, basis, geo_id, indicator_id, period_start, "
        "period_end, value, is_reported from raw.progress_rows where source_file = ?",
        [source_file],
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def _quarantined(landing: Landing) -> dict[tuple[int, str | None], tuple[str, str]]:
    rows = landing.rows("select source_row, source_column, reason_code, reason from dq.quarantine")
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_headers_name_value_columns_of_a_basis() -> None:
    match = find_header(
        [
            ["2026年科技创新指标完成情况"],
            ["报告期", "地区", "指标名称", "计量单位", "本月(万元)", "1-本月累计", "同比增长(%)"],
        ]
    )
    assert match is not None and not match.missing and match.row_index == 1
    assert match.is_by_basis and match.value_fields == ["value_period", "value_ytd"]
    assert (match.positions["value_period"], match.positions["value_ytd"]) == (4, 5)
    assert match.notes == {"value_period": "万元"}
    assert match.name_of("value_period") == "本月" and match.name_of("value_ytd") == "1-本月累计"
    assert match.by_basis_problem is None
    # Either one alone is a value column too; the growth column names no field.
    only_ytd = find_header([["报告期", "城市", "指标", "本年累计", "同比增长(%)"]])
    assert only_ytd is not None and only_ytd.value_fields == ["value_ytd"]
    # 数值 or 口径 beside them: which value a row reports cannot be told.
    for beside in ("数值", "口径"):
        both = find_header([["报告期", "城市", "指标", beside, "本月", "本年累计"]])
        assert both is not None and both.by_basis_problem is not None
        assert f"({beside})" in both.by_basis_problem
    # A form of 数值 is no form by basis.
    plain = find_header([["报告期", "城市", "指标", "数值", "口径"]])
    assert plain is not None and not plain.is_by_basis and plain.by_basis_problem is None


def test_each_row_lands_a_report_per_column_with_the_columns_basis(landing: Landing) -> None:
    landing.add("by_basis.csv")  # GB18030, a title row, 本月 | 1-本月累计 | 同比增长(%)
    (outcome,) = landing.ingest()
    landed = _landed(landing, "progress/by_basis.csv")
    d = dt.date
    assert landed[(3, "本月")] == (
        *("period", "huangshi", "tech_contract_turnover", d(2026, 10, 1), d(2026, 10, 31)),
        *(3.5, True),
    )
    assert landed[(3, "1-本月累计")] == (
        *("ytd", "huangshi", "tech_contract_turnover", d(2026, 1, 1), d(2026, 10, 31)),
        *(30.2, True),
    )
    assert landed[(4, "本月")][1:] == (
        *("huangshi", "matchmaking_events", d(2026, 10, 1), d(2026, 10, 31), 2.0, True),
    )
    assert landed[(4, "1-本月累计")][1:] == (
        *("huangshi", "matchmaking_events", d(2026, 1, 1), d(2026, 10, 31), 15.0, True),
    )
    # A blank cell is that column's report not given, as a blank 数值 is.
    assert landed[(5, "本月")][-1] is False and landed[(5, "1-本月累计")][-2:] == (4.0, True)
    # In January the year's running total covers the month's own months: equal to it, it is
    # the same report, landed once, as the period's own.
    assert landed[(6, "本月")][0:2] == ("period", "ezhou") and (6, "1-本月累计") not in landed
    # Nothing lost: the manifest counts the reports, landed or quarantined, and says so.
    assert (outcome.rows_in, outcome.rows_loaded, outcome.rows_quarantined) == (13, 8, 5)
    assert outcome.status == "partially_loaded"
    assert outcome.reason.startswith("5 of 13 values (a value per column of 本月, 累计)")
    # The growth column is no report.
    assert all(column in ("本月", "1-本月累计") for _, column in landed)


def test_a_broken_report_of_the_form_names_its_row_and_column(landing: Landing) -> None:
    landing.add("by_basis.csv")
    landing.ingest()
    quarantined = _quarantined(landing)
    # January's 本月 and 1-本月累计 cover the same months and differ: neither is guessed.
    code, reason = quarantined[(7, "1-本月累计")]
    assert code == "conflicting_rows"
    assert "row 7, column 1-本月累计: the file reports different values" in reason
    assert "(got '2.5'; row 7 (本月) gives '2.0')" in reason
    assert quarantined[(7, "本月")][0] == "conflicting_rows"
    # A period no report can have: each of the row's reports is quarantined, naming its column.
    for column in ("本月", "1-本月累计"):
        code, reason = quarantined[(8, column)]
        assert code == "period_unrecognised"
        assert f"progress/by_basis.csv, row 8 ({column}), column 报告期 period" in reason
    # A value that is not a number is named by its column; the row's other report lands.
    code, reason = quarantined[(9, "本月")]
    assert code == "value_not_numeric"
    assert "row 9, column 本月: the value is not a number (got '约3')" in reason
    assert (9, "1-本月累计") not in quarantined
    assert _landed(landing, "progress/by_basis.csv")[(9, "1-本月累计")][-2:] == (27.0, True)
    # Every quarantined report keeps its whole row as read.
    (record,) = landing.rows(
        "select raw_record from dq.quarantine where source_row = 9 and source_column = '本月'"
    )
    assert '"同比增长(%)"' in record[0] and '"1-本月累计":"27"' in record[0]


def test_units_after_each_columns_name_and_a_sheet_of_values_beside(landing: Landing) -> None:
    landing.add("by_basis.xlsx")  # 月报: 本月(万元) | 本年累计(亿元); 补报: 数值 and 单位
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 3, 3)
    rows = landing.rows(
        "select sheet, source_column, basis, period_start::varchar, value, unit, "
        "value_as_reported, unit_as_reported from raw.progress_rows order by sheet, basis"
    )
    assert rows == [
        ("月报", "本月(万元)", "period", "2026-10-01", 0.5, "亿元", 5000.0, "万元"),
        ("月报", "本年累计(亿元)", "ytd", "2026-01-01", 4.5, "亿元", 4.5, "亿元"),
        ("补报", None, "period", "2026-09-01", 0.4, "亿元", 0.4, "亿元"),
    ]


@pytest.mark.parametrize(
    ("fixture", "says"),
    [
        ("by_basis_and_value.csv", "names a value column (数值) beside value columns of a basis"),
        ("by_basis_last_year.csv", "'本年累计(上年同期)' notes '上年同期' in brackets"),
    ],
)
def test_value_columns_that_cannot_be_told_apart_reject_the_file(
    landing: Landing, fixture: str, says: str
) -> None:
    landing.add(fixture)
    (outcome,) = landing.ingest()
    assert outcome.status == "rejected" and says in (outcome.reason or "")
    assert (outcome.rows_in, outcome.rows_quarantined) == (1, 1)
    assert landing.rows("select reason_code from dq.quarantine") == [("header_refused",)]
    assert landing.rows("select count(*) from raw.progress_rows") == [(0,)]


def test_a_value_far_from_the_report_before_names_its_column(landing: Landing) -> None:
    header = "报告期,城市,指标,单位,本月,本年累计\n"
    (landing.raw / "progress" / "sep.csv").write_text(
        header + "2026-09,黄石,技术合同成交额,亿元,3.1,26.7\n", encoding="utf-8"
    )
    landing.ingest()
    # October in 万元, its running total still typed in 亿元.
    (landing.raw / "progress" / "oct.csv").write_text(
        header + "2026-10,黄石,技术合同成交额,万元,35000,30.2\n", encoding="utf-8"
    )
    (outcome,) = landing.ingest()
    assert outcome.values_to_check == 1
    ((column, previous, message),) = landing.rows(
        "select source_column, previous_source_column, message from dq.value_checks"
    )
    assert (column, previous) == ("本年累计", "本年累计")
    assert message.startswith(
        "progress/oct.csv, row 2 (本年累计): 0.00302 亿元 (written 30.2 万元)"
    )
    assert "progress/sep.csv, row 2 (本年累计))" in message


def test_explain_names_the_column_of_a_report() -> None:
    con = duckdb.connect()
    con.execute(
        """
        create schema marts;
        create table marts.dim_geography as select 'xianning' as geo_id, '咸宁' as name_zh;
        create table marts.fct_actual as
        select
            'xianning' as geo_id, 'tech_contract_turnover' as indicator_id,
            date '2026-01-01' as period_start, date '2026-10-31' as period_end, 11.9 as value,
            '亿元' as unit, 1 as revision, 1 as revision_count, date '2026-11-05' as reported_on,
            'progress/xianning_monthly.csv' as source_file, cast(null as varchar) as sheet,
            2 as source_row, '1-本月累计' as source_column
        """
    )
    target = {
        "geo_id": "xianning",
        "indicator_id": "tech_contract_turnover",
        "value_source": "reported",
        "data_through_date": dt.date(2026, 10, 31),
        "measure": "year_to_date",
    }
    (_, line) = explain._reports_lines(con, target)
    assert line.endswith("· progress/xianning_monthly.csv row 2 (1-本月累计)")


def test_a_header_over_two_rows_and_wrapped_in_its_cell(landing: Landing) -> None:
    # 完成情况 over 本月 | 1-本月⏎累计, the other headers merged down across both rows.
    path = landing.raw / "progress" / "huanggang.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["黄冈市科技创新主要指标完成情况（2026年1-10月）"])
    sheet.append(["地区", "指标名称", "计量单位", "完成情况", None])
    sheet.append([None, None, None, "本月", "1-本月\n累计"])
    for cells in ("A2:A3", "B2:B3", "C2:C3", "D2:E2"):
        sheet.merge_cells(cells)
    sheet.append(["黄冈", "技术合同成交额", "亿元", 2.2, "约18"])
    workbook.save(path)
    (outcome,) = landing.ingest()
    assert (outcome.header_row, outcome.rows_loaded, outcome.rows_quarantined) == (3, 1, 1)
    assert landing.rows("select source_column, basis, value from raw.progress_rows") == [
        ("本月", "period", 2.2)
    ]
    ((column, reason),) = landing.rows("select source_column, reason from dq.quarantine")
    assert column == "1-本月累计"
    assert "row 4, column 1-本月累计: the value is not a number (got '约18')" in reason
