"""Landing progress reports: every format case, the rules, and the nothing-lost invariant."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dagster_project.lib.catalog import load_catalog
from dagster_project.lib.catalog_tables import catalog_tables
from dagster_project.lib.progress.accounting import unaccounted_files
from dagster_project.lib.progress.headers import find_header
from dagster_project.lib.progress.ingest import ingest_progress
from dagster_project.lib.text import lookup_key
from dagster_project.lib.warehouse import connect, replace_table
from tests.conftest import FIXTURES, RAW

PROGRESS = FIXTURES / "progress"


class Landing:
    """A raw folder with the bundled catalog and an empty progress folder, and a work database."""

    def __init__(self, base: Path) -> None:
        self.raw = base / "raw"
        for part in ("plans", "reference"):
            shutil.copytree(RAW / part, self.raw / part)
        (self.raw / "progress").mkdir()
        self.db = base / "work.duckdb"
        tables = catalog_tables(load_catalog(self.raw), dt.datetime.now(dt.UTC))
        with connect(self.db) as con:
            for name, data in tables.items():
                replace_table(con, "raw", name, data)

    def add(self, fixture: str, as_name: str | None = None) -> Path:
        target = self.raw / "progress" / (as_name or fixture)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROGRESS / fixture, target)
        return target

    def ingest(self, run_id: str = "test-run") -> list[Any]:
        with connect(self.db) as con:
            return ingest_progress(con, self.raw, self.raw.parent / "scratch", run_id)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def values(self) -> list[tuple[Any, ...]]:
        return self.rows(
            "select geo_id, indicator_id, period_start::varchar, period_end::varchar, value, unit "
            "from raw.progress_rows where is_reported order by source_row, sheet"
        )

    def reasons(self) -> list[tuple[int, str]]:
        return self.rows("select source_row, reason_code from dq.quarantine order by source_row")


@pytest.fixture
def landing(tmp_path: Path) -> Iterator[Landing]:
    yield Landing(tmp_path)


def test_utf8_csv_lands_with_lineage(landing: Landing) -> None:
    landing.add("utf8.csv")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.encoding) == (
        "loaded",
        1,
        1,
        "utf-8",
    )
    row = landing.rows(
        "select source_file, sheet, source_row, length(file_sha256), loaded_at is not null, "
        "reporter, reported_on::varchar from raw.progress_rows"
    )
    assert row == [("progress/utf8.csv", None, 2, 64, True, "黄石市科技局", "2026-04-10")]
    assert landing.values() == [
        ("huangshi", "tech_contract_turnover", "2026-03-01", "2026-03-31", 12.5, "亿元")
    ]


def test_utf8_with_bom_is_read(landing: Landing) -> None:
    landing.add("utf8_bom.csv")
    (outcome,) = landing.ingest()
    assert outcome.encoding == "utf-8-sig" and outcome.status == "loaded"
    assert landing.values()[0][:2] == ("ezhou", "tech_contract_turnover")


def test_gbk_csv_is_detected_from_its_bytes(landing: Landing) -> None:
    landing.add("gbk.csv", as_name="a_file_named_utf8.csv")
    (outcome,) = landing.ingest()
    assert outcome.encoding == "gb18030" and outcome.status == "loaded"
    assert landing.values() == [
        ("huanggang", "hightech_enterprises_above_scale", "2026-03-01", "2026-03-31", 312.0, "家")
    ]
    assert landing.rows("select note, reported_on::varchar from raw.progress_rows") == [
        ("季末数", "2026-04-10")
    ]


def test_a_report_date_with_a_time_is_its_day(landing: Landing) -> None:
    """Excel writes a date and time to CSV as 2026/11/5 10:30: the report date is its day."""
    path = landing.raw / "progress" / "dated.csv"
    path.write_text(
        "报告期,城市,指标,数值,单位,填报日期\n"
        "2026-10,黄石,技术合同成交额,1,亿元,2026/11/5 10:30\n"
        "2026-10,鄂州,技术合同成交额,2,亿元,2026-11-06 09:05:30\n"
        "2026-10,孝感,技术合同成交额,3,亿元,2026年11月7日 8:00\n"
        "2026-10,咸宁,技术合同成交额,4,亿元,10:30\n"
        # The day as it is often written by hand: 8号.
        "2026-10,黄冈,技术合同成交额,5,亿元,2026年11月8号\n",
        encoding="utf-8",
    )
    (outcome,) = landing.ingest()
    assert outcome.rows_loaded == 4, outcome.reason
    assert landing.rows("select reported_on::varchar from raw.progress_rows order by 1") == [
        ("2026-11-05",),
        ("2026-11-06",),
        ("2026-11-07",),
        ("2026-11-08",),
    ]
    assert landing.reasons() == [(5, "reported_on_invalid")]


def test_english_headers_in_any_order_and_names_by_id_or_english(landing: Landing) -> None:
    landing.add("english_headers_any_order.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert landing.values() == [
        ("qianjiang", "tech_contract_turnover", "2026-01-01", "2026-03-31", 3.5, "亿元"),
        ("qianjiang", "matchmaking_events", "2026-01-01", "2026-03-31", 2.0, "场"),
    ]


def test_full_width_digits_separators_and_spaces(landing: Landing) -> None:
    landing.add("fullwidth_and_separators.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    values = landing.values()
    assert values[0][:2] == ("xianning", "tech_contract_turnover")
    assert values[0][4] == pytest.approx(0.12345)  # 1,234.5 万元 in 亿元
    assert values[1][4] == pytest.approx(0.25)  # " 2,500 " 万元


def test_commas_that_do_not_group_thousands_are_not_guessed(landing: Landing) -> None:
    """'1,5' may be a decimal comma (1.5) or a slip (15): the row waits for a clear figure. Commas
    between groups of three digits, full-width or not, still read as thousands."""
    landing.add("misplaced_commas.csv")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_loaded) == ("partially_loaded", 1)
    assert landing.values()[0][0] == "tianmen"
    assert landing.values()[0][4] == pytest.approx(123.45675)  # 1,234,567.5 万元 in 亿元
    assert landing.reasons() == [
        (2, "value_comma_misplaced"),
        (3, "value_comma_misplaced"),
        (4, "value_comma_misplaced"),
        (6, "value_not_numeric"),  # not a number however its commas are read
    ]
    (reason,) = landing.rows("select reason from dq.quarantine where source_row = 2")[0]
    assert "(got '1,5')" in reason and "commas only between groups of three digits" in reason


def test_units_convert_to_the_indicator_unit(landing: Landing) -> None:
    landing.add("units.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    got = {(g, i): v for g, i, _, _, v, _ in landing.values()}
    assert got[("wuhan_edz", "vehicle_output")] == pytest.approx(5.2)  # 52000 辆 -> 万辆
    assert got[("caidian", "vehicle_output")] == pytest.approx(0.9)
    assert got[("tianmen", "tech_contract_turnover")] == pytest.approx(1.5)  # 1.5e8 元 -> 亿元
    assert got[("wuhan_metro", "new_innovation_platforms")] == 2  # 个 and 家 both count
    assert got[("chegu_corridor", "rd_intensity")] == pytest.approx(4.2)  # "4.2%" with no unit
    assert got[("wuhan", "parts_to_vehicle_ratio")] == pytest.approx(0.8)  # "0.8:1"


def test_every_period_format_and_basis(landing: Landing) -> None:
    landing.add("periods.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    periods = [(s, e) for _, _, s, e, _, _ in landing.values()]
    assert periods == [
        ("2026-03-01", "2026-03-31"),  # 2026-03
        ("2026-04-01", "2026-04-30"),  # 2026年4月, blank basis = 当期
        ("2026-05-01", "2026-05-31"),  # 202605
        ("2026-04-01", "2026-06-30"),  # 2026Q2
        ("2026-07-01", "2026-09-30"),  # 2026年三季度
        ("2026-10-01", "2026-12-31"),  # 2026年第4季度
        ("2026-01-01", "2026-06-30"),  # 2026H1
        ("2026-07-01", "2026-12-31"),  # 2026年下半年
        ("2025-01-01", "2025-12-31"),  # 2025
        ("2026-01-01", "2026-09-30"),  # 2026年1-9月 累计
        ("2026-04-01", "2026-06-30"),  # 2026年4-6月 当期
        ("2026-01-01", "2026-06-30"),  # 2026-06 累计
        ("2026-01-01", "2026-03-31"),  # 2026年一季度 累计
    ]


def test_the_other_usual_ways_of_writing_a_period(landing: Landing) -> None:
    landing.add("period_spellings.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    periods = {(g, i[:4], s, e) for g, i, s, e, _, _ in landing.values()}
    assert periods == {
        ("xiaogan", "tech", "2026-01-01", "2026-09-30"),  # 2026年前三季度 累计
        ("huangshi", "tech", "2026-01-01", "2026-06-30"),  # 2026年前两个季度 累计
        ("ezhou", "tech", "2026-01-01", "2026-09-30"),  # 2026年1至9月 累计
        ("huanggang", "tech", "2026-01-01", "2026-06-30"),  # 2026年1月至6月 累计
        ("xianning", "tech", "2026-09-01", "2026-09-30"),  # 2026年9月份 当期
        ("xiantao", "tech", "2026-01-01", "2026-08-31"),  # 2026年1-8月份 累计
        ("xiaogan", "high", "2026-09-01", "2026-09-30"),  # 2026年9月末, a level
        ("huangshi", "high", "2026-07-01", "2026-09-30"),  # 2026年三季度末
        ("ezhou", "high", "2025-01-01", "2025-12-31"),  # 2025年底
        ("tianmen", "univ", "2026-04-01", "2026-06-30"),  # Q2 2026
    }


EXCEL_MONTHS = ["2026/10/1", "2026/10/01", "2026.10.1", "2026年10月1日", "2026/10/1 0:00"]


@pytest.mark.parametrize("period", [*EXCEL_MONTHS, "Oct-26", "Oct 2026", "October 2026"])
def test_a_month_as_excel_writes_a_date_back_to_csv(landing: Landing, period: str) -> None:
    """A template's 2026-10, opened in Excel and saved again as CSV, comes back as the date
    Excel made of it (the 1st, in the locale's way) or as Excel's month name."""
    (landing.raw / "progress" / "t.csv").write_text(
        f"报告期,城市,指标,数值,单位\n{period},黄石,技术合同成交额,1,亿元\n", encoding="utf-8"
    )
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert landing.values()[0][2:4] == ("2026-10-01", "2026-10-31")


@pytest.mark.parametrize("period", ["2026/10/15", "2026年10月15日", "Oct-2026-15"])
def test_a_day_is_no_period(landing: Landing, period: str) -> None:
    (landing.raw / "progress" / "t.csv").write_text(
        f"报告期,城市,指标,数值,单位\n{period},黄石,技术合同成交额,1,亿元\n", encoding="utf-8"
    )
    landing.ingest()
    assert landing.reasons() == [(2, "period_unrecognised")]


@pytest.mark.parametrize("total", ["合计", "合 计", "全市合计", "总计", "小计", "汇总", "Total"])
def test_a_total_row_is_named_as_such(landing: Landing, total: str) -> None:
    """A total row is quarantined for what it is, not as an unknown place with a near name."""
    (landing.raw / "progress" / "t.csv").write_text(
        f"报告期,城市,指标,数值,单位\n2026-10,{total},技术合同成交额,5,亿元\n", encoding="utf-8"
    )
    landing.ingest()
    assert landing.reasons() == [(2, "geography_total")]


def test_a_geography_after_its_province_and_city(landing: Landing) -> None:
    landing.add("qualified_geographies.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert [v[0] for v in landing.values()] == ["huangshi", "jiangxia", "xiantao"]


def test_a_unit_in_brackets_after_the_indicator_s_name(landing: Landing) -> None:
    """技术合同成交额（万元）: the indicator, and the row's unit where the unit cell is blank. A
    different unit in the unit cell is not guessed between; brackets that hold no unit are part
    of the name."""
    landing.add("units_in_brackets.csv")
    (outcome,) = landing.ingest()
    assert outcome.rows_loaded == 2, outcome.reason
    assert [(v[0], v[1], v[4], v[5]) for v in landing.values()] == [
        ("huangshi", "tech_contract_turnover", pytest.approx(2.0), "亿元"),  # 20000 万元
        ("ezhou", "vehicle_output", pytest.approx(3.0), "万辆"),
    ]
    assert landing.reasons() == [(4, "unit_conflicts_with_indicator"), (5, "indicator_unknown")]


def test_a_sub_item_s_mark_is_not_part_of_the_indicator_s_name(landing: Landing) -> None:
    landing.add("sub_items.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert [(v[0], v[1]) for v in landing.values()] == [
        ("wuhan_edz", "vehicle_output"),
        ("wuhan_edz", "nev_output"),  # 其中：新能源汽车产量
        ("caidian", "nev_output"),  # #新能源汽车产量
    ]


def test_a_row_s_number_before_the_indicator_s_name_is_not_part_of_it(landing: Landing) -> None:
    """Summary tables number their indicators (1.技术合同成交额, （2）…, (一)…, 一、…, ①…), in a
    row's cell as in a column's header. A name that is no indicator with its number off is
    none."""
    names = ["1.技术合同成交额", "（2）技术合同成交额", "3、技术合同成交额", "(四)技术合同成交额"]
    names += ["五、技术合同成交额", "⑥技术合同成交额", "7．其中：技术合同成交额", "8.成果转化"]
    rows = "".join(f"2026-{m:02d},黄石,{n},1,亿元\n" for m, n in enumerate(names, start=1))
    (landing.raw / "progress" / "numbered.csv").write_text(
        "报告期,城市,指标,数值,单位\n" + rows, encoding="utf-8"
    )
    (outcome,) = landing.ingest()
    assert (outcome.rows_in, outcome.rows_loaded) == (8, 7)
    assert {v[1] for v in landing.values()} == {"tech_contract_turnover"}
    assert landing.reasons() == [(9, "indicator_unknown")]
    header = ["地区", "1.技术合同成交额（亿元）", "(二)规上高新技术企业（家）"]
    names_of = {
        "indicator": {lookup_key(n) for n in ("技术合同成交额", "规上高新技术企业")},
        "geography": {lookup_key("黄石")},
        "unit": {lookup_key(u) for u in ("亿元", "家")},
    }
    match = find_header([["2026年10月"], header], names_of)
    assert match is not None and match.spread == "indicator" and len(match.value_fields) == 2


def test_a_number_with_its_unit_typed_after_it(landing: Landing) -> None:
    """3亿元 in the value cell: 3 in 亿元 when the unit cell is blank or says the same; beside
    another unit it is not guessed between; a suffix that is no unit (3亿) is no number."""
    landing.add("typed_units.csv")
    (outcome,) = landing.ingest()
    assert outcome.rows_loaded == 3, outcome.reason
    assert [(v[0], v[4], v[5]) for v in landing.values()] == [
        ("huangshi", pytest.approx(3.0), "亿元"),
        ("xiantao", pytest.approx(0.12), "亿元"),  # 1,200万元
        ("xiaogan", pytest.approx(150.0), "家"),
    ]
    assert landing.reasons() == [(5, "unit_conflicts_with_value"), (6, "value_not_numeric")]


@pytest.mark.parametrize("fixture", ["value_header_unit.csv", "value_header_unit.xlsx"])
def test_a_unit_in_brackets_after_the_value_column_s_name(landing: Landing, fixture: str) -> None:
    """数值（万元）: the unit of every row whose own unit cell is blank, or of a file without a unit
    column; each sheet of a workbook by its own header."""
    landing.add(fixture)
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    got = {v[0]: v[4] for v in landing.values()}
    if fixture.endswith(".csv"):
        assert got == {"tianmen": pytest.approx(3.0), "qianjiang": pytest.approx(4.0)}
    else:
        assert got == {"xiantao": pytest.approx(5.0), "tianmen": pytest.approx(0.0006)}


def test_a_value_column_named_with_a_note_that_is_not_a_unit_is_refused(landing: Landing) -> None:
    """数值(上年同期) holds last year's figures: read as this period's values they would be wrong,
    so the file is rejected, its rows kept as read."""
    landing.add("value_header_note.csv")
    (outcome,) = landing.ingest()
    assert outcome.status == "rejected" and "'上年同期'" in outcome.reason
    ((code, reason),) = landing.rows("select reason_code, reason from dq.quarantine")
    assert code == "header_refused"
    assert reason.startswith("progress/value_header_note.csv, row 2: the file was rejected, ")
    assert landing.values() == []


def test_content_landed_already_under_another_path_is_not_landed_again(landing: Landing) -> None:
    """A report saved twice (`report (1).csv`), or moved to another folder: its rows would be
    revisions of themselves. Content once rejected is read again, as the rules may read it now."""
    landing.add("utf8.csv")
    landing.ingest()
    landing.add("utf8.csv", as_name="inbox/utf8 (1).csv")
    landing.add("value_header_note.csv")
    landing.add("value_header_note.csv", as_name="value_header_note (1).csv")
    outcomes = {o.source_file: o for o in landing.ingest()}
    copy = outcomes["progress/inbox/utf8 (1).csv"]
    assert (copy.status, copy.rows_in, copy.rows_loaded) == ("loaded", 0, 0)
    assert copy.reason.startswith("the same content as progress/utf8.csv, landed already")
    assert landing.rows("select count(*) from raw.progress_rows") == [(1,)]
    # Rejected content: both read (the second within the same run), both rejected again.
    assert outcomes["progress/value_header_note (1).csv"].rows_in == 1
    assert landing.rows("select count(*) from dq.quarantine") == [(2,)]
    # Content withdrawn (the ledger as the last run left it), sent anew: a new report.
    with duckdb.connect(str(landing.db)) as con:
        con.execute(
            "create table raw.withdrawals as select source_file, file_sha256 "
            "from raw.file_manifest where source_file = 'progress/utf8.csv'"
        )
    landing.add("utf8.csv", as_name="resent/utf8.csv")
    (resent,) = landing.ingest()
    assert (resent.status, resent.rows_loaded) == ("loaded", 1)
    # Two copies arriving together: the first lands, the second is the copy.
    landing.add("units.csv", as_name="a.csv")
    landing.add("units.csv", as_name="b.csv")
    outcomes = {o.source_file: o for o in landing.ingest()}
    assert outcomes["progress/a.csv"].rows_loaded > 0
    assert outcomes["progress/b.csv"].reason.startswith("the same content as progress/a.csv")


def test_a_merged_cell_reads_as_its_value_on_every_row_it_covers(landing: Landing) -> None:
    landing.add("merged_cells.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.header_row) == ("loaded", 2), outcome.reason
    assert [(v[0], v[4]) for v in landing.values()] == [
        ("huangshi", 1.0),
        ("huangshi", 2.0),
        ("huangshi", 3.0),
        ("ezhou", 4.0),
        ("ezhou", 5.0),
    ]


def test_xlsx_cells_read_as_their_number_format_shows_them(landing: Landing) -> None:
    """A percent stored as a fraction is its percent; a unit the format writes after the number
    is the unit; a period typed as a date reads as the month or year its format shows, under a
    custom format or the East Asian built-in id a Chinese Excel writes without its code."""
    landing.add("number_formats.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_quarantined) == ("loaded", 0), outcome.reason
    assert landing.values() == [
        ("wuhan_edz", "rd_intensity", "2026-03-01", "2026-03-31", pytest.approx(4.7), "%"),
        ("caidian", "rd_intensity", "2026-03-01", "2026-03-31", pytest.approx(5.25), "%"),
        ("huangshi", "tech_contract_turnover", "2026-03-01", "2026-03-31", 1234.5, "亿元"),
        ("huangshi", "tech_contract_turnover", "2026-04-01", "2026-04-30", 2.0, "亿元"),
        ("ezhou", "tech_contract_turnover", "2026-05-01", "2026-05-31", 3.0, "亿元"),
        ("xiaogan", "university_city_projects", "2026-01-01", "2026-12-31", 7.0, "项"),
    ]


def test_an_xlsx_formula_reads_as_the_value_saved_with_it(landing: Landing) -> None:
    """As a person sees it: the value Excel saved beside each formula, under the cell's format;
    a formula saved without a value (a program that does not calculate) is quarantined."""
    landing.add("formulas.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_loaded) == ("partially_loaded", 4), outcome.reason
    assert [(v[0], v[1], v[4]) for v in landing.values()] == [
        ("huangshi", "tech_contract_turnover", 1.0),
        ("ezhou", "tech_contract_turnover", 2.0),
        ("huangshi", "university_city_projects", 3.0),
        ("wuhan_edz", "rd_intensity", pytest.approx(5.0)),
    ]
    assert landing.reasons() == [(6, "value_formula"), (7, "value_not_numeric")]


def test_a_header_written_again_below_is_no_row(landing: Landing) -> None:
    """Tables stacked in a sheet, each under its own header (one in another column order), and a
    CSV's header repeated (each printed page, files pasted together): the data rows land, the
    headers are not rows, as the first header is not."""
    landing.add("stacked_tables.xlsx")
    path = landing.raw / "progress" / "pasted.csv"
    path.write_text(
        "报告期,城市,指标,数值,单位\n"
        "2026-04,黄石,技术合同成交额,4,亿元\n"
        " 报告期 ,城市,指标,数值 ,单位\n"
        "2026-04,鄂州,技术合同成交额,5,亿元\n",
        encoding="utf-8",
    )
    outcomes = {o.source_file: o for o in landing.ingest()}
    stacked, pasted = outcomes["progress/stacked_tables.xlsx"], outcomes["progress/pasted.csv"]
    assert (stacked.status, stacked.rows_in, stacked.sheets) == ("loaded", 3, ["汇总"])
    assert (pasted.status, pasted.rows_in) == ("loaded", 2)
    assert landing.rows(
        "select source_file, source_row, geo_id, value from raw.progress_rows order by 1, 2"
    ) == [
        ("progress/pasted.csv", 2, "huangshi", 4.0),
        ("progress/pasted.csv", 4, "ezhou", 5.0),
        ("progress/stacked_tables.xlsx", 2, "huangshi", 1.0),
        ("progress/stacked_tables.xlsx", 5, "ezhou", 2.0),
        ("progress/stacked_tables.xlsx", 7, "xiaogan", 3.0),
    ]


def test_xlsx_with_title_rows_and_an_instructions_sheet(landing: Landing) -> None:
    landing.add("title_rows.xlsx")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.sheets, outcome.header_row) == ("loaded", ["数据"], 4)
    rows = landing.rows(
        "select sheet, source_row, value, reported_on::varchar from raw.progress_rows "
        "order by source_row"
    )
    assert rows == [("数据", 5, 150.5, "2026-04-08"), ("数据", 6, 140.0, "2026-04-08")]


def test_xlsx_numbers_stored_as_text(landing: Landing) -> None:
    landing.add("numbers_as_text.xlsx")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert [v[4] for v in landing.values()] == [pytest.approx(0.12345), 612.0]


def test_every_report_sheet_of_a_workbook_is_read(landing: Landing) -> None:
    landing.add("two_report_sheets.xlsx")
    (outcome,) = landing.ingest()
    assert outcome.sheets == ["都市圈", "大走廊"]
    rows = landing.rows("select sheet, source_row, geo_id, value from raw.progress_rows order by 1")
    assert rows == [("大走廊", 3, "wuhan_edz", 5.1), ("都市圈", 2, "huangshi", 3.0)]


def test_an_excel_date_in_the_period_column_is_its_month(landing: Landing) -> None:
    landing.add("excel_date_period.xlsx")
    landing.ingest()
    assert landing.values()[0][2:4] == ("2026-03-01", "2026-03-31")


def test_bad_rows_are_quarantined_with_a_reason_each(landing: Landing) -> None:
    landing.add("bad_rows.csv")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.rows_quarantined) == (
        "partially_loaded",
        14,
        1,
        13,
    )
    assert landing.reasons() == [
        (2, "period_unrecognised"),
        (3, "geography_unknown"),
        (4, "indicator_unknown"),
        (5, "value_not_numeric"),
        (6, "unit_incompatible"),
        (7, "unit_unknown"),
        (8, "unit_missing"),
        (9, "value_formula"),
        (10, "basis_conflicts_with_period"),
        (11, "period_outside_plans"),
        (12, "value_out_of_range"),
        (13, "basis_unknown"),
        (14, "reported_on_invalid"),
    ]


def test_quarantine_message_names_file_row_column_value_and_expectation(landing: Landing) -> None:
    landing.add("bad_rows.csv")
    landing.ingest()
    reason, record = landing.rows(
        "select reason, raw_record::varchar from dq.quarantine where source_row = 3"
    )[0]
    assert reason.startswith("progress/bad_rows.csv, row 3, column 城市/地区 geography: ")
    assert "(got '黄石石')" in reason and "expected a geography id" in reason
    assert '"城市/地区":"黄石石"' in record and '"数值":"1"' in record


def test_quarantine_message_offers_the_nearest_catalog_name_only_when_one_is_near(
    landing: Landing,
) -> None:
    landing.add("bad_rows.csv")
    landing.ingest()
    reasons = dict(landing.rows("select source_row, reason from dq.quarantine"))
    assert reasons[3].endswith("; did you mean '黄石'?")  # 黄石石
    assert reasons[7].endswith("; did you mean '亿元'?")  # 亿
    assert "did you mean" not in reasons[4]  # 不存在的指标: nothing like it in the catalog
    # Only unknown names get one: a value that is not a number has none to offer.
    assert "did you mean" not in reasons[5]


def test_a_quarantine_table_from_before_other_reason_codes_gains_the_column(
    landing: Landing,
) -> None:
    with connect(landing.db) as con:
        con.execute(
            "create schema if not exists dq; create table dq.quarantine (source_file varchar not "
            "null, file_sha256 varchar not null, sheet varchar, source_row integer, column_name "
            "varchar, reason_code varchar not null, reason varchar not null, raw_record json, "
            "loaded_at timestamp with time zone not null, run_id varchar)"
        )
    landing.add("bad_rows.csv")
    landing.ingest()
    assert landing.rows(
        "select count(*), count(other_reason_codes), sum(len(other_reason_codes)) "
        "from dq.quarantine"
    ) == [(13, 13, 0)]


def test_blank_value_is_not_reported_never_zero(landing: Landing) -> None:
    landing.add("blank_values.csv")
    (outcome,) = landing.ingest()
    assert (outcome.rows_in, outcome.rows_loaded) == (3, 3)  # the empty line is no row
    rows = landing.rows(
        "select indicator_id, value, is_reported from raw.progress_rows order by source_row"
    )
    assert rows == [
        ("tech_contract_turnover", None, False),
        ("university_city_projects", None, False),
        ("new_innovation_platforms", 0.0, True),
    ]


@pytest.mark.parametrize("blank", ["…", "……", "...", "未报", "待报", "不详", " — "])
def test_a_value_the_forms_write_for_nothing_reported(landing: Landing, blank: str) -> None:
    (landing.raw / "progress" / "r.csv").write_text(
        f"报告期,城市,指标,数值,单位\n2026-10,咸宁,技术合同成交额,{blank},亿元\n", encoding="utf-8"
    )
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert landing.rows("select value, is_reported from raw.progress_rows") == [(None, False)]


def test_duplicate_and_conflicting_rows_in_one_file(landing: Landing) -> None:
    landing.add("duplicates.csv")
    landing.ingest()
    assert landing.reasons() == [
        (3, "duplicate_row"),
        (4, "conflicting_rows"),
        (5, "conflicting_rows"),
    ]
    assert [r[2] for r in landing.values()] == ["2026-03-01"]
    # Each message names the rows the sender must reconcile it with, and what they give.
    reasons = dict(landing.rows("select source_row, reason from dq.quarantine"))
    assert "(got '5'; row 2 gives '5'); expected each geography" in reasons[3]
    assert "(got '5'; row 5 gives '6'); expected one value" in reasons[4]
    assert "(got '6'; row 4 gives '5'); expected one value" in reasons[5]


def test_a_conflict_names_at_most_three_other_rows(landing: Landing) -> None:
    rows = "".join(f"2026-05,黄石,技术合同成交额,{v},亿元,当期\n" for v in range(1, 7))
    (landing.raw / "progress" / "many.csv").write_text(
        "报告期,城市/地区,指标,数值,单位,口径\n" + rows, encoding="utf-8"
    )
    landing.ingest()
    reasons = dict(landing.rows("select source_row, reason from dq.quarantine"))
    assert len(reasons) == 6
    assert "(got '1'; row 3 gives '2', row 4 gives '3', row 5 gives '4'); expected" in reasons[2]
    assert "(got '3'; row 2 gives '1', row 3 gives '2', row 5 gives '4'); expected" in reasons[4]


def test_rows_in_equals_loaded_plus_quarantined_for_every_file(landing: Landing) -> None:
    for fixture in sorted(p.name for p in PROGRESS.glob("*.*")):
        landing.add(fixture)
    outcomes = landing.ingest()
    assert len(outcomes) == len(list(PROGRESS.glob("*.*")))
    for o in outcomes:
        assert o.rows_in == o.rows_loaded + o.rows_quarantined, o
    with duckdb.connect(str(landing.db), read_only=True) as con:
        assert unaccounted_files(con) == []


def test_accounting_check_catches_a_lost_row(landing: Landing) -> None:
    landing.add("utf8.csv")
    landing.ingest()
    with duckdb.connect(str(landing.db)) as con:
        con.execute("delete from raw.progress_rows")
        bad = unaccounted_files(con)
    assert [(b["source_file"], b["rows_loaded"], b["rows_loaded_found"]) for b in bad] == [
        ("progress/utf8.csv", 1, 0)
    ]


def test_running_twice_on_the_same_files_changes_nothing(landing: Landing) -> None:
    landing.add("periods.csv")
    landing.add("bad_rows.csv")
    landing.ingest("first")
    counts = (
        "select (select count(*) from raw.progress_rows), (select count(*) from dq.quarantine), "
        "(select count(*) from raw.file_manifest)"
    )
    before = landing.rows(counts)
    assert landing.ingest("second") == []
    assert landing.rows(counts) == before


def test_an_edited_file_is_a_new_version(landing: Landing) -> None:
    path = landing.add("utf8.csv")
    landing.ingest()
    path.write_text(path.read_text(encoding="utf-8").replace("12.5", "13"), encoding="utf-8")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded"
    versions = landing.rows(
        "select count(distinct file_sha256) from raw.file_manifest where source_file = ?",
        ["progress/utf8.csv"],
    )
    assert versions == [(2,)]
    assert sorted(v[4] for v in landing.values()) == [12.5, 13.0]


def test_only_new_files_are_read(landing: Landing, monkeypatch: pytest.MonkeyPatch) -> None:
    landing.add("utf8.csv")
    landing.ingest()
    landing.add("gbk.csv")
    read: list[str] = []
    import dagster_project.lib.progress.ingest as ingest_module

    original = ingest_module.read_file

    def spy(con, file, *args, **kwargs):
        read.append(file.relative)
        return original(con, file, *args, **kwargs)

    monkeypatch.setattr(ingest_module, "read_file", spy)
    landing.ingest()
    assert read == ["progress/gbk.csv"]


def _hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import dagster_project.lib.progress.ingest as ingest_module

    hashed: list[str] = []
    original = ingest_module.sha256_of

    def spy(path: Path) -> str:
        hashed.append(path.name)
        return original(path)

    monkeypatch.setattr(ingest_module, "sha256_of", spy)
    return hashed


def _set_mtime(path: Path, seconds_ago: float) -> int:
    mtime_ns = time.time_ns() - int(seconds_ago * 1e9)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return mtime_ns


def test_a_file_with_its_recorded_size_and_time_is_not_hashed_again(
    landing: Landing, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_mtime(landing.add("utf8.csv"), 3600)
    landing.ingest()
    hashed = _hashed(monkeypatch)
    assert landing.ingest() == []
    assert hashed == []


def test_a_file_rewritten_with_the_same_size_is_read_again(landing: Landing) -> None:
    path = landing.add("utf8.csv")
    _set_mtime(path, 3600)
    landing.ingest()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("12.5", "12.6"), encoding="utf-8")  # same size, a new time
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded"
    assert sorted(v[4] for v in landing.values()) == [12.5, 12.6]


def test_a_file_loaded_just_after_it_was_written_is_always_hashed(
    landing: Landing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a file system with coarse times a second write in the same tick keeps the time: a
    # version loaded within two seconds of its time is never trusted by its size and time alone.
    path = landing.add("utf8.csv")
    mtime_ns = _set_mtime(path, 0.5)
    landing.ingest()
    path.write_text(path.read_text(encoding="utf-8").replace("12.5", "12.6"), encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))
    hashed = _hashed(monkeypatch)
    (outcome,) = landing.ingest()
    assert hashed == ["utf8.csv"] and outcome.status == "loaded"


def test_unreadable_file_is_rejected_and_others_still_load(landing: Landing) -> None:
    (landing.raw / "progress" / "junk.xlsx").write_bytes(b"\x00\x01 definitely not a zip")
    (landing.raw / "progress" / "notes.txt").write_text("hello", encoding="utf-8")
    landing.add("utf8.csv")
    outcomes = {o.source_file: o for o in landing.ingest()}
    assert outcomes["progress/junk.xlsx"].status == "rejected"
    assert "not a readable XLSX workbook" in outcomes["progress/junk.xlsx"].reason
    assert "unsupported file type '.txt'" in outcomes["progress/notes.txt"].reason
    assert outcomes["progress/utf8.csv"].status == "loaded"


def test_a_workbook_with_macros_is_read_as_a_workbook(landing: Landing) -> None:
    """An .xlsm (a report form with macros) holds its sheets as an .xlsx does."""
    landing.add("two_report_sheets.xlsx", as_name="form.xlsm")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.sheets) == ("loaded", ["都市圈", "大走廊"]), outcome.reason


@pytest.mark.parametrize("period_header", ["年月", "月度", "统计月份", "报告月份"])
def test_the_period_column_under_a_month_s_usual_names(
    landing: Landing, period_header: str
) -> None:
    (landing.raw / "progress" / "xianning.csv").write_text(
        f"{period_header},城市,指标,数值,单位\n2026-10,咸宁,技术合同成交额,2.5,亿元\n",
        encoding="utf-8",
    )
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    assert landing.values()[0][2:5] == ("2026-10-01", "2026-10-31", 2.5)


def test_a_file_whose_header_lacks_a_column_is_rejected_with_its_rows_kept(
    landing: Landing,
) -> None:
    # Period and indicator under names the reader does not know; a blank line is no row.
    (landing.raw / "progress" / "xianning.csv").write_text(
        "填报月,城市,项目,数值,单位\n2026-10,咸宁,技术合同成交额,2.5,亿元\n,,,,\n"
        "2026-10,咸宁,规上高新技术企业,300,家\n",
        encoding="utf-8",
    )
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_in, outcome.rows_loaded, outcome.rows_quarantined) == (
        "rejected",
        2,
        0,
        2,
    )
    assert outcome.reason == (
        "missing required column(s): 报告期 period, 指标 indicator; 2 row(s) quarantined as read"
    )
    rows = landing.rows(
        "select source_row, column_name, reason_code, reason, raw_record::varchar, "
        "other_reason_codes from dq.quarantine order by source_row"
    )
    assert [row[:3] for row in rows] == [
        (2, "报告期 period", "columns_missing"),
        (4, "报告期 period", "columns_missing"),
    ]
    assert rows[1][3] == (
        "progress/xianning.csv, row 4: the file was rejected, its header lacks 报告期 period, "
        "指标 indicator; expected a header naming 报告期 period, 城市/地区 geography, "
        "指标 indicator, 数值 value (any alias, any order)"
    )
    assert rows[1][4] == (
        '{"填报月":"2026-10","城市":"咸宁","项目":"规上高新技术企业","数值":"300","单位":"家"}'
    )
    assert rows[1][5] == []
    assert landing.rows("select count(*) from raw.progress_rows") == [(0,)]


def test_nested_folders_at_any_depth_are_read(landing: Landing) -> None:
    landing.add("utf8.csv", as_name="2026/q1/huangshi/report.csv")
    (outcome,) = landing.ingest()
    assert outcome.source_file == "progress/2026/q1/huangshi/report.csv"


def test_quarantine_message_names_every_rule_a_row_breaks(landing: Landing) -> None:
    # The sender mends a row once, not once per rule: the first broken rule is the reason code,
    # the others follow in its message, each with what it got (and a near name if any).
    (landing.raw / "progress" / "several.csv").write_text(
        "报告期,城市/地区,指标,数值,单位,口径\n"
        "2026年13月,黄石石,技术合同成交额,约3,亿,当期\n"
        "2026-03,黄石,不存在的指标,=B2*2,亿元,当期\n"
        "2026-03,黄石,技术合同成交额,3,亿元,当期\n"
        "2019-03,黄石,技术合同成交额,-5,亿元,当期\n",
        encoding="utf-8",
    )
    (outcome,) = landing.ingest()
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 3)
    assert landing.reasons() == [
        (2, "period_unrecognised"),
        (3, "indicator_unknown"),
        (5, "period_outside_plans"),
    ]
    assert landing.rows(
        "select source_row, other_reason_codes from dq.quarantine order by source_row"
    ) == [
        (2, ["geography_unknown", "value_not_numeric", "unit_unknown"]),
        (3, ["value_formula"]),
        (5, ["value_out_of_range"]),
    ]
    reasons = dict(landing.rows("select source_row, reason from dq.quarantine"))
    assert reasons[2].startswith(
        "progress/several.csv, row 2, column 报告期 period: the period is not recognised "
        "(got '2026年13月'); expected "
    )
    assert reasons[2].endswith(
        " — also column 城市/地区 geography: the geography is not in reference/geographies.csv "
        "(got '黄石石'; did you mean '黄石'?); column 数值 value: the value is not a number "
        "(got '约3'); column 单位 unit: the unit is not in reference/units.csv "
        "(got '亿'; did you mean '亿元'?)"
    )
    assert reasons[3].endswith(
        " — also column 数值 value: the cell holds a formula with no value saved beside it "
        "(formulas are not evaluated) (got '=B2*2')"
    )
    assert reasons[5].endswith(
        " — also column 数值 value: the value (in the indicator's unit) is outside its plausible "
        "range (got '-5')"
    )
