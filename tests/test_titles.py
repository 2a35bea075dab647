"""Forms that give their period and geography above the header (titles.py, ingest.resolve_title)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dagster_project.lib.progress.headers import find_header
from dagster_project.lib.progress.titles import last_month_of_year_to_date, read_title
from tests.fixtures.make_fixtures import build_workbook
from tests.test_ingest import Landing


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path)


def test_a_field_after_its_label_is_read_in_its_cell_or_the_next() -> None:
    title = read_title(
        [
            ["武汉都市圈科技同兴三年行动（2026—2028年）指标完成情况"],
            ["填报单位（盖章）：黄石市科技局\u3000\u3000报告期：2026年10月"],
            ["地区：", "黄石", "填报日期：2026年11月5日"],
        ]
    )
    assert title.period is not None and title.period.text == "2026年10月"
    assert (title.period.row_index, title.period.labelled) == (1, True)
    assert title.geography is not None and title.geography.text == "黄石"
    # The reporter first, then the other text, to look for a geography in.
    assert [t.text for t in title.geography_texts][:2] == [
        "黄石市科技局",
        "武汉都市圈科技同兴三年行动(2026—2028年)指标完成情况",
    ]
    assert "黄石" not in [t.text for t in title.geography_texts]  # the bare label's value
    assert title.problems == ()


@pytest.mark.parametrize(
    ("rows", "period"),
    [
        ([["2026年1-10月科技统计月报"]], "2026年1-10月"),
        # The longest spelling at a place: the months from January, not January.
        ([["2026年1月-10月科技统计月报"]], "2026年1月-10月"),
        ([["科技统计月报（2026年10月）"], ["填报日期：2026年11月5日"]], "2026年10月"),
        ([["2026年第三季度报表"]], "2026年第三季度"),
        ([["2026年上半年完成情况"]], "2026年上半年"),
        ([["统计月报 2026-10"]], "2026-10"),
        ([["2025年度科技创新主要指标完成情况"]], "2025年度"),
        # A printed form's period left blank is none: the title's text gives it.
        ([["报告期：    年  月"], ["2026年10月科技统计月报"]], "2026年10月"),
        ([["各市州指标完成情况（2025年全年）"]], "2025年全年"),
        # The last of the years a plan spans, or a year whose part follows, is no whole year.
        ([["三年行动（2026—2028年度）"]], None),
        ([["三年行动（2026 - 2028年度）"]], None),
        ([["2026年度第三季度报表"]], None),
        ([["2026年度1-9月完成情况"]], None),
        # A date is no month; the years a plan spans, or a year alone, are no period.
        ([["填报日期：2026年11月5日"]], None),
        ([["科技统计月报（2026年10月）"], ["2026年11月5号"]], "2026年10月"),
        ([["三年行动（2026—2028年）"]], None),
        ([["2026年科技创新指标完成情况"]], None),
    ],
)
def test_a_period_in_the_titles_text(rows: list[list[str]], period: str | None) -> None:
    title = read_title(rows)
    assert (title.period.text if title.period else None) == period


def test_two_periods_in_the_title_are_none_and_say_so() -> None:
    title = read_title([["2026年10月与2026年9月对比"]])
    assert title.period is None
    assert title.problems == ("the title names several periods (2026年10月, 2026年9月)",)


def test_a_forms_title_months_from_january_are_its_last_months() -> None:
    assert last_month_of_year_to_date("2026年1-10月") == "2026年10月"
    assert last_month_of_year_to_date("2026年1—9月份") == "2026年9月"
    assert last_month_of_year_to_date("2026年1月-10月") == "2026年10月"
    assert last_month_of_year_to_date("2026年前三季度") == "2026年3季度"
    assert last_month_of_year_to_date("2026年4-6月") == "2026年4-6月"
    assert last_month_of_year_to_date("2026年10月") == "2026年10月"


def test_the_title_completes_a_header_that_lacks_the_period_and_geography() -> None:
    rows = [["2026年10月科技统计月报"], ["填报单位：黄石市科技局"], ["指标", "数值", "单位"]]
    match = find_header(rows)
    assert match is not None and match.row_index == 2 and not match.missing
    assert match.title_fields == ["period", "geography"]
    # With no rows above, the header still lacks them.
    alone = find_header(rows[2:])
    assert alone is not None and alone.missing == ["period", "geography"]


def test_a_statistics_bureaus_form_lands_under_its_titles_month_and_office(
    landing: Landing,
) -> None:
    landing.add("statistics_form.csv")  # GB18030; 2026年1-10月 in the title; 黄石市科技局
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 4, 4)
    # Every row under the title's month and the office's city; under 本月 October, under
    # 1-本月累计 January to October.
    assert landing.rows(
        "select distinct period_raw, geography_raw, geo_id from raw.progress_rows"
    ) == [("2026年10月", "黄石市", "huangshi")]
    rows = landing.rows(
        "select source_row, source_column, basis, period_start::varchar, "
        "period_end::varchar, value from raw.progress_rows order by source_row, basis"
    )
    assert rows == [
        (4, "本月", "period", "2026-10-01", "2026-10-31", 3.5),
        (4, "1-本月累计", "ytd", "2026-01-01", "2026-10-31", 30.2),
        (5, "本月", "period", "2026-10-01", "2026-10-31", 2.0),
        (5, "1-本月累计", "ytd", "2026-01-01", "2026-10-31", 15.0),
    ]


def test_each_sheet_of_a_workbook_reads_its_own_title(landing: Landing) -> None:
    landing.add("statistics_form.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 4, 4)
    rows = landing.rows(
        "select sheet, geo_id, basis, period_start::varchar, period_end::varchar, value "
        "from raw.progress_rows order by sheet, basis, source_row"
    )
    # 孝感's header written again below still stands under its title.
    assert rows == [
        ("孝感", "xiaogan", "period", "2026-10-01", "2026-10-31", 9.9),
        ("孝感", "xiaogan", "period", "2026-10-01", "2026-10-31", 3.0),
        ("鄂州", "ezhou", "period", "2026-07-01", "2026-09-30", 36.1),
        ("鄂州", "ezhou", "ytd", "2026-01-01", "2026-09-30", 98.3),
    ]


def _write(landing: Landing, name: str, body: str) -> None:
    (landing.raw / "progress" / name).write_text(body, encoding="utf-8")


def test_a_period_of_the_title_that_breaks_a_rule_says_it_is_the_titles(
    landing: Landing,
) -> None:
    _write(
        landing,
        "t.csv",
        "报告期：2026年13月   地区：孝感\n指标,数值,单位\n技术合同成交额,12.2,亿元\n",
    )
    (outcome,) = landing.ingest()
    assert outcome.status == "rejected"
    ((code, reason),) = landing.rows("select reason_code, reason from dq.quarantine")
    assert code == "period_unrecognised"
    assert reason.startswith(
        "progress/t.csv, row 3, column 报告期 period (from the title, row 1): the period is not "
        "recognised (got '2026年13月')"
    )


@pytest.mark.parametrize(
    ("title", "geo_id"),
    [
        # The plan's area and the member reporting under it: the member.
        ("武汉都市圈科技同兴三年行动指标完成情况（黄石市）2026年10月", "huangshi"),
        # The longest name at a place: 武汉都市圈 is the area, not 武汉.
        ("武汉都市圈 2026年10月 汇总", "wuhan_metro"),
    ],
)
def test_the_title_names_the_geography(landing: Landing, title: str, geo_id: str) -> None:
    _write(landing, "t.csv", f"{title}\n指标,数值,单位\n技术合同成交额,12.2,亿元\n")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded"
    assert landing.rows("select geo_id, period_start::varchar from raw.progress_rows") == [
        (geo_id, "2026-10-01")
    ]


@pytest.mark.parametrize(
    ("title", "says"),
    [
        ("黄石、鄂州 2026年10月", "the title names several geographies (鄂州, 黄石)"),
        ("科技统计月报 2026年10月", "the title names no geography of reference/geographies.csv"),
    ],
)
def test_a_title_that_names_no_one_geography_gives_none(
    landing: Landing, title: str, says: str
) -> None:
    _write(landing, "t.csv", f"{title}\n指标,数值,单位\n技术合同成交额,12.2,亿元\n")
    (outcome,) = landing.ingest()
    assert outcome.status == "rejected"
    assert outcome.reason.startswith(f"missing required column(s): 城市/地区 geography ({says})")
    assert "after their labels: 报告期：2026年10月, 地区：黄石" in outcome.reason
    # Its rows are kept as read, the reason with them.
    ((code, reason),) = landing.rows("select reason_code, reason from dq.quarantine")
    assert code == "columns_missing" and says in reason


def test_the_unit_above_a_table_without_a_unit_column_is_its_rows(landing: Landing) -> None:
    _write(
        landing,
        "t.csv",
        "2026年10月 孝感市\n单位：万元\n指标,数值\n技术合同成交额,12000\n"
        "技术合同成交额（亿元）,1.3\n",
    )
    (outcome,) = landing.ingest()
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 1)
    assert landing.rows("select value, unit, unit_raw from raw.progress_rows") == [
        (1.2, "亿元", "万元")
    ]
    # A row whose indicator says another unit is not guessed.
    ((code, reason),) = landing.rows("select reason_code, reason from dq.quarantine")
    assert code == "unit_conflicts_with_indicator"
    assert "row 5, column 单位 unit (from the title, row 2)" in reason
    # A table with its own unit column reads its cells, whatever is above it.
    title = read_title([["单位：万元"]])
    assert title.unit is not None and title.unit.text == "万元"
    with_column = find_header([["单位：万元"], ["报告期", "城市", "指标", "数值", "单位"]])
    assert with_column is not None and "unit" not in with_column.title_fields


def test_the_report_date_above_a_table_without_its_column_is_its_rows(landing: Landing) -> None:
    """填报日期 after its label above the header dates every row (a correction sent later
    supersedes by it); a date that breaks the rule says it is the title's."""
    _write(
        landing,
        "a.csv",
        "黄石市2026年10月科技统计月报\n填报单位（盖章）：黄石市科技局　　填报日期：2026年11月5日\n"
        "报告期,城市,指标,数值,单位\n2026-10,黄石,技术合同成交额,3.5,亿元\n",
    )
    _write(
        landing,
        "b.csv",
        "填报日期：2026年11月31日\n报告期,城市,指标,数值,单位\n2026-10,鄂州,技术合同成交额,2.1,亿元\n",
    )
    outcomes = {o.source_file: o.status for o in landing.ingest()}
    assert outcomes == {"progress/a.csv": "loaded", "progress/b.csv": "rejected"}
    assert landing.rows("select geo_id, reported_on, reported_on_raw from raw.progress_rows") == [
        ("huangshi", dt.date(2026, 11, 5), "2026年11月5日")
    ]
    ((code, reason),) = landing.rows("select reason_code, reason from dq.quarantine")
    assert code.startswith("reported_on")
    assert reason.startswith(
        "progress/b.csv, row 3, column 填报日期 reported_on (from the title, row 1):"
    )
    # A table with its own column reads its cells.
    with_column = find_header(
        [["填报日期：2026年11月5日"], ["报告期", "城市", "指标", "数值", "填报日期"]]
    )
    assert with_column is not None and "reported_on" not in with_column.title_fields


def test_a_forms_footer_below_its_table_is_no_row(landing: Landing) -> None:
    """Below a form's table, its notes (注：…, each numbered note under them) and who filled it
    in, checked and signed it (填表人：… 审核人：…), in cells of their own or beyond the header's
    columns, are no rows, as its title above is not. A CSV whose lines below are shorter than its
    header reads (DuckDB's sniffer refused it whole). A note above a data row is a row."""
    footer: list[list[str | None]] = [
        ["注：本表数据为快报数。"],
        ["1.技术合同成交额按登记口径统计；"],
        ["（2）规上高企为当年认定数。"],
        [],
        [
            "填表人：张三",
            None,
            "审核人：李四",
            None,
            "报出日期：2026年11月5日",
            "电话：027-12345678",
        ],
    ]
    header: list[str | None] = ["报告期", "城市", "指标", "数值", "单位"]
    table: list[list[str | None]] = [
        ["2026-10", "黄石", "技术合同成交额", "3.5", "亿元"],
        ["2026-10", "鄂州", "技术合同成交额", "2.1", "亿元"],
    ]
    build_workbook({"10月": [header, *table, *footer]}).save(landing.raw / "progress" / "form.xlsx")
    lines = [",".join(c or "" for c in row) for row in [header, *table, *footer]]
    (landing.raw / "progress" / "form.csv").write_text("\n".join(lines) + "\n", encoding="gbk")
    noted = [*lines[:2], "注：鄂州为快报数", *lines[2:3], "填表人：张三"]
    (landing.raw / "progress" / "noted.csv").write_text("\n".join(noted), encoding="utf-8")
    build_workbook({"10月": [header, *table[:1], [], ["报出日期：2026年11月31日"]]}).save(
        landing.raw / "progress" / "misdated.xlsx"
    )
    # Printed over two pages, the header on each: one table, the footer's date all its rows'.
    paged: list[list[str | None]] = [
        header,
        table[0],
        header,
        table[1],
        ["报出日期：2026年11月6日"],
    ]
    build_workbook({"10月": paged}).save(landing.raw / "progress" / "paged.xlsx")
    # Each label bare in its cell, its text in the next (a date there as Excel stores it).
    signed = ["填表人：", "张三", "报出日期：", dt.date(2026, 11, 9)]
    build_workbook({"10月": [header, table[0], signed]}).save(
        landing.raw / "progress" / "labels.xlsx"
    )
    outcomes = {o.source_file: o for o in landing.ingest()}
    labels = outcomes["progress/labels.xlsx"]
    assert (labels.status, labels.rows_in) == ("loaded", 1)
    assert landing.rows(
        "select reported_on from raw.progress_rows where source_file like '%labels%'"
    ) == [(dt.date(2026, 11, 9),)]
    for name in ("form.xlsx", "form.csv"):
        outcome = outcomes[f"progress/{name}"]
        assert (outcome.status, outcome.rows_in, outcome.rows_loaded) == ("loaded", 2, 2), name
    # The footer's report date dates the rows, as one above the header does.
    assert landing.rows(
        "select distinct source_file, reported_on from raw.progress_rows where source_file like "
        "'%form%' order by 1"
    ) == [("progress/form.csv", dt.date(2026, 11, 5)), ("progress/form.xlsx", dt.date(2026, 11, 5))]
    assert landing.rows(
        "select source_row, reported_on from raw.progress_rows where source_file like '%paged%'"
        " order by 1"
    ) == [(2, dt.date(2026, 11, 6)), (4, dt.date(2026, 11, 6))]
    noted_outcome = outcomes["progress/noted.csv"]
    assert (noted_outcome.rows_in, noted_outcome.rows_loaded) == (3, 2)
    assert landing.rows(
        "select reported_on from raw.progress_rows where source_file like '%noted%'"
    ) == [(None,), (None,)]
    quarantined = landing.rows(
        "select source_file, source_row, reason_code, reason from dq.quarantine order by 1"
    )
    assert [row[:3] for row in quarantined] == [
        ("progress/misdated.xlsx", 2, "reported_on_invalid"),
        ("progress/noted.csv", 3, "period_unrecognised"),
    ]
    assert "column 填报日期 reported_on (from the footer, row 4): " in quarantined[0][3]


def test_a_note_without_a_label_under_the_table_is_no_row(landing: Landing) -> None:
    """A sentence alone in its row under the table (本表数据为快报数，以年报为准。) is the form's
    note, with or without a labelled footer below it, numbered or not. Above a data row it is a
    row, as a labelled note is; so is a row's one cell under the table that is no sentence."""
    header = "报告期,城市,指标,数值,单位"
    table = ["2026-10,黄石,技术合同成交额,3.5,亿元", "2026-10,鄂州,技术合同成交额,2.1,亿元"]
    progress = landing.raw / "progress"
    files = {
        "note.csv": [header, *table, "", "本表数据为快报数，以年报为准。"],
        "numbered.csv": [header, *table, "1.本表数据为快报数。", "2.以年报为准！"],
        "mid.csv": [header, table[0], "鄂州为快报数。", table[1]],
        "word.csv": [header, *table, "鄂州快报数"],
    }
    for name, lines in files.items():
        (progress / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows: list[list[str | None]] = [[*line.split(",")] for line in (header, *table)]
    sheet: list[list[str | None]] = [*rows, ["本表数据为快报数，以年报为准。"], ["填表人：张三"]]
    build_workbook({"10月": sheet}).save(progress / "note.xlsx")
    # Merged across the table's columns, as printed forms write a note (and a signature line).
    merged = build_workbook({"10月": [*rows, ["1.本表数据为快报数。"], ["注：以年报为准。"]]})
    merged.active.merge_cells("A4:E4")
    merged.active.merge_cells("A5:E5")
    merged.save(progress / "merged.xlsx")
    outcomes = {o.source_file: (o.status, o.rows_in, o.rows_loaded) for o in landing.ingest()}
    assert outcomes == {
        "progress/note.csv": ("loaded", 2, 2),
        "progress/numbered.csv": ("loaded", 2, 2),
        "progress/note.xlsx": ("loaded", 2, 2),
        "progress/merged.xlsx": ("loaded", 2, 2),
        "progress/mid.csv": ("partially_loaded", 3, 2),
        "progress/word.csv": ("partially_loaded", 3, 2),
    }
    assert landing.rows("select source_file, source_row from dq.quarantine order by 1") == [
        ("progress/mid.csv", 3),
        ("progress/word.csv", 4),
    ]


def test_a_forms_report_date_left_blank_is_none(landing: Landing) -> None:
    """填报日期：    年  月  日, as printed and not filled in, dates no row: the rows land
    undated (they were all quarantined, the date '年')."""
    assert read_title([["填报日期：    年  月  日"]]).reported_on is None
    assert read_title([["填报日期：", "  年 月 日"]]).reported_on is None
    (landing.raw / "progress" / "form.csv").write_text(
        "科技统计月报,,,,\n"
        "填报单位：黄石市科技局,,填报日期：    年  月  日,,\n"
        "报告期,城市,指标,数值,单位\n"
        "2026-10,黄石,技术合同成交额,3.5,亿元\n",
        encoding="utf-8",
    )
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1)
    assert landing.rows("select reported_on from raw.progress_rows") == [(None,)]


def test_a_period_cell_without_its_year_takes_the_one_year_of_the_title(landing: Landing) -> None:
    """9月, 1-10月, 三季度 in a period column, under a title of one year: of that year. Under a
    title of none (or several, or a plan's span) they stay as written, not recognised."""
    rows = "9月,黄石,技术合同成交额,3,亿元\n1-10月,黄石,技术合同成交额,30,亿元\n"
    rows += "三季度,黄石,技术合同成交额,9,亿元\n"
    header = "月份,城市,指标,数值,单位\n"
    for name, title in (
        ("dated.csv", "黄石市2026年科技创新指标月度报表"),
        ("undated.csv", "黄石市科技创新指标月度报表（2026—2028年）"),
        ("two_years.csv", "黄石市2025年与2026年科技创新指标对比"),
    ):
        (landing.raw / "progress" / name).write_text(f"{title},,,,\n{header}{rows}", "utf-8")
    outcomes = {o.source_file: o for o in landing.ingest()}
    assert outcomes["progress/dated.csv"].rows_loaded == 3
    assert landing.rows(
        "select period_start, period_end from raw.progress_rows order by source_row"
    ) == [
        (dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
        (dt.date(2026, 1, 1), dt.date(2026, 10, 31)),
        (dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    ]
    assert outcomes["progress/undated.csv"].status == "rejected"
    assert outcomes["progress/two_years.csv"].status == "rejected"
    assert landing.rows("select distinct reason_code from dq.quarantine") == [
        ("period_unrecognised",)
    ]
