"""Tables that spread their values over a column per indicator (地区 | 技术合同成交额（亿元） |
规上高企（家）), per geography (指标名称 | 计量单位 | 黄石 | 鄂州) or per period (指标名称 |
2025年度 | 2026年10月), as a plan office's summary tables of every city, or a city's of its years,
come: each row is a report per such column, the column's indicator, geography or period, its
lineage the row and the column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from dagster_project.lib.progress.headers import find_header
from dagster_project.lib.progress.ingest import FileOutcome
from dagster_project.lib.text import lookup_key
from tests.fixtures.make_fixtures import build_workbook
from tests.test_ingest import Landing

# The catalog's names a header may spread, as the ingest reads them (ingest.spread_names).
NAMES = {
    "indicator": {lookup_key(n) for n in ("技术合同成交额", "规上高企", "规模以上高新技术企业")},
    "geography": {lookup_key(n) for n in ("黄石", "鄂州", "黄石市")},
    "unit": {lookup_key(n) for n in ("亿元", "家")},
}
d = dt.date
TT, HT = "tech_contract_turnover", "hightech_enterprises_above_scale"


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path)


def _ingest(landing: Landing, name: str, text: str, encoding: str = "utf-8") -> FileOutcome:
    """The outcome of landing `text` as raw/progress/`name`, the only file."""
    (landing.raw / "progress" / name).write_text(text, encoding=encoding)
    (outcome,) = landing.ingest()
    return outcome


def _landed(landing: Landing, source_file: str) -> dict[tuple[int, str | None], tuple]:
    rows = landing.rows(
        "select source_row, source_column, geo_id, indicator_id, basis, period_start, "
        "period_end, value, unit, is_reported from raw.progress_rows where source_file = ?",
        [source_file],
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def _quarantined(landing: Landing) -> dict[tuple[int, str | None], tuple[str, str]]:
    rows = landing.rows("select source_row, source_column, reason_code, reason from dq.quarantine")
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_headers_spread_indicators_or_geographies() -> None:
    title = ["2026年10月各市科技创新主要指标"]
    header = [
        *("序号", "地区", "技术合同成交额（亿元）", "其中：规上高企（家）"),
        *("万人发明专利拥有量", "技术合同成交额（上年同期）"),
    ]
    match = find_header([title, header], NAMES)
    assert match is not None and not match.missing and match.row_index == 1
    assert match.spread == "indicator"
    assert [match.positions[f] for f in match.value_fields] == [2, 3]
    assert [match.name_of(f) for f in match.value_fields] == ["技术合同成交额", "其中:规上高企"]
    assert [match.notes[f] for f in match.value_fields] == ["亿元", "家"]
    assert match.title_fields == ["period"]
    # A name of the catalog with another note than a unit is a column of other figures.
    assert match.unread_columns == ["序号", "万人发明专利拥有量", "技术合同成交额（上年同期）"]
    assert match.per_column == "a value per indicator column"
    # Without the catalog's names, the row names one field (地区): no header.
    assert find_header([title, header]) is None

    geographies = find_header([title, ["指标名称", "计量单位", "黄石", "鄂州", "合计"]], NAMES)
    assert geographies is not None and not geographies.missing
    assert geographies.spread == "geography"
    assert [geographies.name_of(f) for f in geographies.value_fields] == ["黄石", "鄂州"]
    assert geographies.unread_columns == ["合计"]

    # No spread beside a value column, none without a column saying what each row is, and a
    # long table's data row is no header.
    for row in (
        ["地区", "技术合同成交额", "数值"],
        ["序号", "技术合同成交额", "规上高企"],
        ["指标", "黄石", "数值"],
        ["2026-10", "黄石", "技术合同成交额", "2.5", "亿元"],
        ["报告期", "城市", "技术合同成交额", "12"],
    ):
        found = find_header([row], NAMES)
        assert found is None or found.spread is None, row
    # A basis word in the row below, but under no spread column, makes no header of two rows.
    one_row = find_header(
        [["地区", "技术合同成交额（亿元）", "备注"], ["黄石", "3.5", "本月"]], NAMES
    )
    assert one_row is not None and one_row.row_index == 0 and not one_row.bases


def test_a_table_of_indicator_columns_lands_a_report_per_column(landing: Landing) -> None:
    outcome = _ingest(
        landing,
        "metro_2026-10.csv",
        "2026年1-10月武汉都市圈各市科技创新主要指标完成情况,,,,,\n"
        "序号,地区,技术合同成交额（亿元）,规上高企（家）,万人发明专利拥有量,"
        "技术合同成交额（上年同期）\n"
        "1,黄石,30.2,410,12.5,28.1\n"
        "2,鄂州,约20,380,9.1,17.5\n"
        "3,孝感,25.0,,8.8,22.0\n"
        ",合计,75.2,790,,67.6\n",
        encoding="gb18030",
    )
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("partially_loaded", 8, 5)
    assert outcome.reason == (
        "3 of 8 values (a value per indicator column) broke a rule (see dq.quarantine); "
        "columns not read, their headers not an indicator of the plan catalog: 序号, "
        "万人发明专利拥有量, 技术合同成交额（上年同期）"
    )
    landed = _landed(landing, "progress/metro_2026-10.csv")
    turnover, enterprises = "技术合同成交额（亿元）", "规上高企（家）"
    january_to_october = (d(2026, 1, 1), d(2026, 10, 31))
    assert landed == {
        (3, turnover): ("huangshi", TT, "period", *january_to_october, 30.2, "亿元", True),
        (3, enterprises): ("huangshi", HT, "period", *january_to_october, 410.0, "家", True),
        (4, enterprises): ("ezhou", HT, "period", *january_to_october, 380.0, "家", True),
        (5, turnover): ("xiaogan", TT, "period", *january_to_october, 25.0, "亿元", True),
        # A blank is a report not made.
        (5, enterprises): ("xiaogan", HT, "period", *january_to_october, None, "家", False),
    }
    quarantined = _quarantined(landing)
    assert quarantined[(4, turnover)] == (
        "value_not_numeric",
        f"progress/metro_2026-10.csv, row 4, column {turnover}: the value is not a number "
        "(got '约20'); expected a number such as 1234.5 or 1,234.5; leave blank when not reported",
    )
    # The total row: a report per column, each named by its column.
    for column in (turnover, enterprises):
        code, reason = quarantined[(6, column)]
        assert code == "geography_total"
        assert reason.startswith(
            f"progress/metro_2026-10.csv, row 6 ({column}), column 城市/地区 geography: "
            "the row is a total"
        )
    assert len(quarantined) == 3


def test_a_table_of_geography_columns_lands_a_report_per_column(landing: Landing) -> None:
    outcome = _ingest(
        landing,
        "metro_2026-10.csv",
        "2026年10月武汉都市圈各市主要指标\n"
        "指标名称,计量单位,黄石,鄂州,合计\n"
        "技术合同成交额,亿元,3.5,2.1,5.6\n"
        "规上高企,家,410,380,790\n",
    )
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 4, 4)
    assert outcome.reason == (
        "columns not read, their headers not a geography of reference/geographies.csv: 合计"
    )
    october = (d(2026, 10, 1), d(2026, 10, 31))
    assert _landed(landing, "progress/metro_2026-10.csv") == {
        (3, "黄石"): ("huangshi", TT, "period", *october, 3.5, "亿元", True),
        (3, "鄂州"): ("ezhou", TT, "period", *october, 2.1, "亿元", True),
        (4, "黄石"): ("huangshi", HT, "period", *october, 410.0, "家", True),
        (4, "鄂州"): ("ezhou", HT, "period", *october, 380.0, "家", True),
    }


def test_a_header_over_two_rows_gives_each_indicator_its_bases(landing: Landing) -> None:
    """技术合同成交额 over 本月 | 1-本月累计, merged across them (XLSX) or written over the first
    (CSV); an indicator with no basis below it is one column."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "10月"
    sheet.append(["2026年1-10月各市主要科技指标"])
    sheet.append(["地区", "技术合同成交额（亿元）", None, "规上高企（家）", "备注"])
    sheet.append([None, "本月", "1-本月累计", None, None])
    for cells in ("A1:E1", "A2:A3", "B2:C2", "D2:D3", "E2:E3"):
        sheet.merge_cells(cells)
    sheet.append(["黄石", 3.5, 30.2, 410, None])
    sheet.append(["鄂州", 2.1, "约18", 380, "含新认定"])
    workbook.save(landing.raw / "progress" / "metro.xlsx")
    (landing.raw / "progress" / "metro.csv").write_text(
        "2026年1-10月各市科技创新指标完成情况,,,,\n"
        "地区,技术合同成交额（亿元）,,规上高企（家）,同比增长(%)\n"
        ",本月,1-本月累计,,\n"
        "黄石,3.5,30.2,410,12\n",
        encoding="utf-8",
    )
    outcomes = {o.source_file: o for o in landing.ingest()}
    assert outcomes["progress/metro.xlsx"].reason == (
        "1 of 6 values (a value per indicator column and basis) broke a rule (see dq.quarantine)"
    )
    assert outcomes["progress/metro.csv"].header_row == 3
    october = (d(2026, 10, 1), d(2026, 10, 31))
    month, total = "技术合同成交额（亿元）/本月", "技术合同成交额（亿元）/1-本月累计"
    for source_file in ("progress/metro.xlsx", "progress/metro.csv"):
        landed = _landed(landing, source_file)
        assert landed[(4, month)] == ("huangshi", TT, "period", *october, 3.5, "亿元", True)
        january = d(2026, 1, 1)
        assert landed[(4, total)] == (
            "huangshi",
            TT,
            "ytd",
            january,
            october[1],
            30.2,
            "亿元",
            True,
        )
        # A level's one column: at the end of the title's months.
        assert landed[(4, "规上高企（家）")] == (
            "huangshi",
            HT,
            "period",
            *october,
            410.0,
            "家",
            True,
        )
    assert _quarantined(landing)[(5, total)] == (
        "value_not_numeric",
        f"progress/metro.xlsx, sheet 10月, row 5, column {total}: the value is not a number "
        "(got '约18'); expected a number such as 1234.5 or 1,234.5; leave blank when not reported",
    )
    assert landing.rows(
        "select note from raw.progress_rows where source_row = 5 and source_column = ?", [month]
    ) == [("含新认定",)]


def test_a_page_s_title_and_header_written_again_below_are_no_data(landing: Landing) -> None:
    """A form printed over pages, its title and two-row header on each (merged in the XLSX,
    written over the first column of a name in the CSV): those rows are no data, in the count of
    rows in neither. A table below under its own two-row header, in another order, reads under
    it."""
    title = "2026年1-10月各市科技创新指标完成情况"
    upper = ["地区", "技术合同成交额（亿元）", None, "规上高企（家）"]
    lower = [None, "本月", "1-本月累计", None]
    workbook = build_workbook(
        {
            "10月": [
                [title],
                upper,
                lower,
                ["黄石", 3.5, 30.2, 410],
                [title],
                upper,
                lower,
                ["鄂州", 2.1, 18, 380],
                ["规上高企（家）", "技术合同成交额（亿元）", None, "地区"],
                [None, "本月", "1-本月累计", None],
                [390, "约5", 8.8, "孝感"],
            ]
        }
    )
    sheet = workbook["10月"]
    for row in (1, 5):
        sheet.merge_cells(f"A{row}:D{row}")
    for row in (2, 6):
        for cells in (f"A{row}:A{row + 1}", f"B{row}:C{row}", f"D{row}:D{row + 1}"):
            sheet.merge_cells(cells)
    for cells in ("A9:A10", "B9:C9", "D9:D10"):
        sheet.merge_cells(cells)
    workbook.save(landing.raw / "progress" / "metro.xlsx")
    lines = [title, "地区,技术合同成交额（亿元）,,规上高企（家）", ",本月,1-本月累计,"]
    (landing.raw / "progress" / "metro.csv").write_text(
        "\n".join([*lines, "黄石,3.5,30.2,410", *lines, "鄂州,2.1,18,380", ""]),
        encoding="utf-8",
    )
    outcomes = {o.source_file: o for o in landing.ingest()}
    csv_outcome, xlsx_outcome = outcomes["progress/metro.csv"], outcomes["progress/metro.xlsx"]
    assert (csv_outcome.status, csv_outcome.rows_in, csv_outcome.rows_loaded) == ("loaded", 6, 6)
    assert (xlsx_outcome.rows_in, xlsx_outcome.rows_loaded) == (9, 8)
    month, total = "技术合同成交额（亿元）/本月", "技术合同成交额（亿元）/1-本月累计"
    for source_file in ("progress/metro.csv", "progress/metro.xlsx"):
        landed = _landed(landing, source_file)
        assert {(row, column): r[0] for (row, column), r in landed.items() if row < 9} == {
            (4, month): "huangshi",
            (4, total): "huangshi",
            (4, "规上高企（家）"): "huangshi",
            (8, month): "ezhou",
            (8, total): "ezhou",
            (8, "规上高企（家）"): "ezhou",
        }
        assert landed[(8, total)][2:6] == ("ytd", d(2026, 1, 1), d(2026, 10, 31), 18.0)
    landed = _landed(landing, "progress/metro.xlsx")
    assert landed[(11, total)][0:2] == ("xiaogan", TT)
    assert landed[(11, total)][2:6] == ("ytd", d(2026, 1, 1), d(2026, 10, 31), 8.8)
    assert landed[(11, "规上高企（家）")][0:2] == ("xiaogan", HT)
    assert _quarantined(landing) == {
        (11, month): (
            "value_not_numeric",
            f"progress/metro.xlsx, sheet 10月, row 11, column {month}: the value is not a "
            "number (got '约5'); expected a number such as 1234.5 or 1,234.5; leave blank when "
            "not reported",
        )
    }


def test_the_sheets_of_a_workbook_combine_by_the_name_each_column_spreads(
    landing: Landing,
) -> None:
    workbook = build_workbook(
        {
            "10月": [
                ["2026年10月各市主要科技指标"],
                ["地区", "技术合同成交额（亿元）", "规上高企（家）", "排名"],
                ["黄石", 3.5, 410, 1],
                # A second table below, under its own header in another order.
                ["技术合同成交额（亿元）", "地区"],
                [2.1, "鄂州"],
            ],
            "9月": [
                ["2026年9月各市主要科技指标"],
                # Another order, another spelling of the same indicator, half-width brackets.
                ["规模以上高新技术企业（家）", "城市", "技术合同成交额(亿元)"],
                [400, "黄石", 3.0],
            ],
            "补报": [
                ["序号", "报告期", "城市", "指标", "数值", "单位", "备注"],
                [1, "2026-08", "鄂州", "技术合同成交额", 1.5, "亿元", "补报"],
            ],
        }
    )
    workbook.save(landing.raw / "progress" / "metro.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 6, 6)
    assert outcome.sheets == ["10月", "9月", "补报"]
    # The spread sheets' unread columns only: a long table's are its own business.
    assert outcome.reason == (
        "columns not read, their headers not an indicator of the plan catalog: 排名"
    )
    rows = landing.rows(
        "select sheet, source_row, source_column, geo_id, indicator_id, period_start, value "
        "from raw.progress_rows order by all"
    )
    assert rows == [
        ("10月", 3, "技术合同成交额（亿元）", "huangshi", TT, d(2026, 10, 1), 3.5),
        ("10月", 3, "规上高企（家）", "huangshi", HT, d(2026, 10, 1), 410.0),
        ("10月", 5, "技术合同成交额（亿元）", "ezhou", TT, d(2026, 10, 1), 2.1),
        ("9月", 3, "技术合同成交额(亿元)", "huangshi", TT, d(2026, 9, 1), 3.0),
        ("9月", 3, "规模以上高新技术企业（家）", "huangshi", HT, d(2026, 9, 1), 400.0),
        ("补报", 2, None, "ezhou", TT, d(2026, 8, 1), 1.5),
    ]


def test_a_spread_table_without_its_period_is_rejected_with_its_rows_kept(
    landing: Landing,
) -> None:
    outcome = _ingest(
        landing,
        "metro.csv",
        "地区,技术合同成交额（亿元）,规上高企（家）\n黄石,3.5,410\n鄂州,2.1,380\n",
    )
    assert (outcome.status, outcome.rows_in, outcome.rows_quarantined) == ("rejected", 2, 2)
    reason = outcome.reason or ""
    assert reason.startswith(
        "missing required column(s): 报告期 period; a form may give its period and geography "
        "above its header instead, after their labels: 报告期：2026年10月, 地区：黄石"
    )
    assert reason.endswith("2 row(s) quarantined as read")
    assert landing.rows("select count(*) from raw.progress_rows") == [(0,)]
    records = landing.rows("select raw_record from dq.quarantine order by source_row")
    assert '"技术合同成交额（亿元）":"3.5"' in records[0][0]


def test_one_geographys_periods_by_indicator_column(landing: Landing) -> None:
    """A city's table of months: the period in a column, the city in the title, a column per
    indicator in its unit (万元 converted to the indicator's 亿元)."""
    outcome = _ingest(
        landing,
        "huangshi.csv",
        "黄石市2026年科技创新指标月度完成情况\n填报单位：黄石市科学技术局\n"
        "月份,技术合同成交额（万元）,规上高企（家）,备注\n"
        "2026年9月,30000,405,\n2026年10月,35000,410,初步数\n",
    )
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.reason) == (
        *("loaded", 4, 4, None),
    )
    assert landing.rows(
        "select source_row, geo_id, indicator_id, period_start, value, unit, note "
        "from raw.progress_rows order by all"
    ) == [
        (4, "huangshi", HT, d(2026, 9, 1), 405.0, "家", None),
        (4, "huangshi", TT, d(2026, 9, 1), 3.0, "亿元", None),
        (5, "huangshi", HT, d(2026, 10, 1), 410.0, "家", "初步数"),
        (5, "huangshi", TT, d(2026, 10, 1), 3.5, "亿元", "初步数"),
    ]


def test_a_header_over_two_rows_gives_each_geography_its_bases(landing: Landing) -> None:
    outcome = _ingest(
        landing,
        "metro.csv",
        "武汉都市圈主要科技指标完成情况（2026年1-10月）\n"
        "指标名称,计量单位,仙桃,,潜江,\n,,本月,1-本月累计,本月,1-本月累计\n"
        "技术合同成交额,亿元,0.9,8.1,0.7,6.6\n",
    )
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 4, 4)
    assert landing.rows(
        "select source_column, geo_id, basis, period_start, value from raw.progress_rows "
        "order by all"
    ) == [
        ("仙桃/1-本月累计", "xiantao", "ytd", d(2026, 1, 1), 8.1),
        ("仙桃/本月", "xiantao", "period", d(2026, 10, 1), 0.9),
        ("潜江/1-本月累计", "qianjiang", "ytd", d(2026, 1, 1), 6.6),
        ("潜江/本月", "qianjiang", "period", d(2026, 10, 1), 0.7),
    ]


def test_a_table_of_period_columns_lands_a_report_per_column(landing: Landing) -> None:
    """指标名称 | 计量单位 | 2025年度 | 2026年1-9月 | 2026年10月: a report per period column, its
    geography in a column or the title; a month without its year names no period."""
    header = ["指标名称", "计量单位", "2025年度", "2026年1-9月", "2026-10", "11月", "备注"]
    match = find_header([["地区：黄石"], header], NAMES)
    assert match is not None and not match.missing and match.spread == "period"
    assert [match.name_of(f) for f in match.value_fields] == ["2025年度", "2026年1-9月", "2026-10"]
    assert match.unread_columns == ["11月"]
    # A year with its 年 heads a period's column; a bare number is data, not a header.
    years = find_header([["指标", "单位", "2024年", "2025年"]], NAMES)
    assert years is not None and len(years.spread_fields) == 2
    bare = find_header([["指标", "单位", "2024", "2025年"]], NAMES)
    assert bare is not None and bare.spread is None
    outcome = _ingest(
        landing,
        "huangshi.csv",
        "黄石市科技创新主要指标完成情况\n地区：黄石\n" + ",".join(header) + "\n"
        "技术合同成交额,亿元,61.0,48.2,3.5,,\n规上高企,家,395,,410,,初步数\n",
    )
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 6, 6)
    assert outcome.reason == (
        "columns not read, their headers not a period spelled whole (2025年, 2026年10月, "
        "2026-10): 11月"
    )
    assert landing.rows(
        "select source_column, indicator_id, period_start, period_end, value, note "
        "from raw.progress_rows where geo_id = 'huangshi' order by all"
    ) == [
        ("2025年度", HT, d(2025, 1, 1), d(2025, 12, 31), 395.0, "初步数"),
        ("2025年度", TT, d(2025, 1, 1), d(2025, 12, 31), 61.0, None),
        ("2026-10", HT, d(2026, 10, 1), d(2026, 10, 31), 410.0, "初步数"),
        ("2026-10", TT, d(2026, 10, 1), d(2026, 10, 31), 3.5, None),
        ("2026年1-9月", HT, d(2026, 1, 1), d(2026, 9, 30), None, "初步数"),
        ("2026年1-9月", TT, d(2026, 1, 1), d(2026, 9, 30), 48.2, None),
    ]


def test_a_month_typed_as_a_date_heads_its_column(landing: Landing) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["地区", "指标", "单位", "2026年8月", None])
    sheet.cell(1, 5, dt.datetime(2026, 9, 1)).number_format = 'yyyy"年"m"月"'
    sheet.append(["鄂州", "技术合同成交额", "亿元", 1.2, 1.3])
    workbook.save(landing.raw / "progress" / "ezhou.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2)
    assert landing.rows(
        "select geo_id, period_start, value from raw.progress_rows order by all"
    ) == [("ezhou", d(2026, 8, 1), 1.2), ("ezhou", d(2026, 9, 1), 1.3)]


def test_months_without_their_year_take_the_one_year_above(landing: Landing) -> None:
    """A city's table by month (8月 | 9月 | 1-10月 | 三季度) under a title naming its year: each
    column is that year's; the years a plan spans and a report date name no year of it."""
    outcome = _ingest(
        landing,
        "huangshi.csv",
        "黄石市2026年科技创新指标月度完成情况（三年行动2027年—2029年）\n填报日期：2027年1月5日\n"
        "指标名称,计量单位,8月,9月份,1-10月,三季度\n技术合同成交额,亿元,2.5,3.0,30.2,8.1\n",
    )
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 4)
    assert landing.rows(
        "select source_column, geo_id, period_raw, period_start, period_end, value "
        "from raw.progress_rows order by period_start, period_end"
    ) == [
        ("1-10月", "huangshi", "2026年1-10月", d(2026, 1, 1), d(2026, 10, 31), 30.2),
        ("三季度", "huangshi", "2026年三季度", d(2026, 7, 1), d(2026, 9, 30), 8.1),
        ("8月", "huangshi", "2026年8月", d(2026, 8, 1), d(2026, 8, 31), 2.5),
        ("9月份", "huangshi", "2026年9月份", d(2026, 9, 1), d(2026, 9, 30), 3.0),
    ]


@pytest.mark.parametrize(
    "title", ["黄石市科技创新指标月度完成情况", "黄石市2025年、2026年科技创新指标对比"]
)
def test_months_under_no_one_year_reject_the_file_saying_how(landing: Landing, title: str) -> None:
    outcome = _ingest(
        landing,
        "huangshi.csv",
        f"{title}\n指标名称,计量单位,8月,9月\n技术合同成交额,亿元,2.5,3.0\n",
    )
    assert (outcome.status, outcome.rows_quarantined) == ("rejected", 1)
    assert (
        "(columns 8月, 9月 name parts of a year without the year, and the rows above the header "
        "name no one year: write 2026年8月, or the year in the title)"
    ) in (outcome.reason or "")


def test_a_row_of_units_under_the_indicator_columns_gives_their_units(landing: Landing) -> None:
    landing.raw.joinpath("progress", "metro.csv").write_text(
        "2026年10月各市主要指标\n地区,技术合同成交额,规上高企,新增专利,排名\n计量单位,亿元,家,项,\n"
        "黄石,3.5,410,12,1\n",
        encoding="utf-8",
    )
    landing.raw.joinpath("progress", "xiaogan.csv").write_text(
        "2026年10月各市主要指标\n地区,技术合同成交额,规上高企\n,（万元）,（家）\n孝感,25000,512\n",
        encoding="utf-8",
    )
    # A row with anything but units and their label under the columns is data.
    landing.raw.joinpath("progress", "ezhou.csv").write_text(
        "2026年10月各市主要指标\n地区,技术合同成交额（亿元）,规上高企（家）\n鄂州,亿元,家\n",
        encoding="utf-8",
    )
    outcomes = {o.source_file: o for o in landing.ingest()}
    assert {f: (o.status, o.header_row) for f, o in outcomes.items()} == {
        "progress/ezhou.csv": ("rejected", 2),
        "progress/metro.csv": ("loaded", 3),
        "progress/xiaogan.csv": ("loaded", 3),
    }
    assert landing.rows(
        "select geo_id, indicator_id, value, unit, unit_raw from raw.progress_rows order by all"
    ) == [
        ("huangshi", HT, 410.0, "家", "家"),
        ("huangshi", TT, 3.5, "亿元", "亿元"),
        ("xiaogan", HT, 512.0, "家", "家"),
        ("xiaogan", TT, 2.5, "亿元", "万元"),
    ]


def test_a_column_not_read_near_a_catalog_name_offers_it(landing: Landing) -> None:
    outcome = _ingest(
        landing,
        "metro.csv",
        "2026年10月各市主要指标\n"
        "序号,地区,技术合同成交金额（亿元）,规上高企（家）,技术合同成交额（上年同期）\n"
        "1,黄石,3.5,410,3.1\n",
    )
    # A name of the catalog noted otherwise is other figures, not a misspelling.
    assert outcome.reason == (
        "columns not read, their headers not an indicator of the plan catalog: 序号, "
        "技术合同成交金额（亿元） (did you mean 技术合同成交额?), 技术合同成交额（上年同期）"
    )


def test_each_way_a_workbook_s_sheets_spread_says_its_columns_not_read(
    landing: Landing,
) -> None:
    workbook = build_workbook(
        {
            "分市": [
                ["2026年10月主要指标分市情况"],
                ["指标名称", "计量单位", "黄石", "合计"],
                ["技术合同成交额", "亿元", 3.5, 3.5],
            ],
            "历月": [
                ["地区", "指标", "单位", "2026年9月", "11月"],
                ["鄂州", "技术合同成交额", "亿元", 2.0, 2.2],
            ],
        }
    )
    workbook.save(landing.raw / "progress" / "metro.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2)
    assert outcome.reason == (
        "columns not read, their headers not a geography of reference/geographies.csv: 合计; "
        "columns not read, their headers not a period spelled whole (2025年, 2026年10月, "
        "2026-10): 11月"
    )


def test_a_summary_table_s_section_headings_are_no_rows(landing: Landing) -> None:
    """一、成果转化 over its indicators, its value cells empty: a heading, no row, as a title is
    not — in a table by geography as in a long one. A numbered indicator or geography with
    nothing reported is a row (its reports not given); a heading with a figure is data."""
    outcome = _ingest(
        landing,
        "metro.csv",
        "2026年10月各市科技创新指标完成情况,,,\n"
        "指标名称,计量单位,黄石,鄂州\n"
        "一、成果转化,,,\n"
        "1.技术合同成交额,亿元,3.5,2.1\n"
        "（二）企业培育,,,\n"
        "2.规上高新技术企业,家,,\n"
        "三、其他,,5,\n"
        "3.技术合同成交额,,,\n"
        "四、其他指标,亿元,,\n",
    )
    assert (outcome.rows_in, outcome.rows_loaded, outcome.rows_quarantined) == (10, 6, 4)
    landed = _landed(landing, "progress/metro.csv")
    assert {(row, r[1], r[-1]) for (row, _), r in landed.items()} == {
        (4, TT, True),
        (6, HT, False),
        (8, TT, False),
    }
    assert {row for row, _ in _quarantined(landing)} == {7, 9}
    long_table = _ingest(
        landing,
        "long.csv",
        "报告期,城市,指标,数值,单位\n"
        "一、成果转化,,,,\n"
        "2026-10,黄石,技术合同成交额,3.5,亿元\n"
        ",1.鄂州,,,\n",
    )
    assert (long_table.rows_in, long_table.rows_loaded) == (2, 1)
