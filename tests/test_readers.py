"""File-level readers: encodings, header rows, workbook safety, discovery."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from dagster_project.lib.progress.files import (
    EncodingError,
    ProgressFile,
    detect_encoding,
    discover,
    unsafe_reason,
)
from dagster_project.lib.progress.headers import find_header
from dagster_project.lib.progress.xlsx import (
    EAST_ASIAN_FORMATS,
    XlsxError,
    _holds,
    cell_text,
    check_archive,
    fill_merged,
    merged_ranges,
)
from tests.conftest import FIXTURES


def test_encoding_is_detected_from_bytes_not_names(tmp_path: Path) -> None:
    progress = FIXTURES / "progress"
    assert detect_encoding(progress / "utf8.csv") == "utf-8"
    assert detect_encoding(progress / "utf8_bom.csv") == "utf-8-sig"
    assert detect_encoding(progress / "gbk.csv") == "gb18030"
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text("报告期,城市\n", encoding="utf-16")
    assert detect_encoding(utf16) == "utf-16"


def test_binary_content_is_not_text(tmp_path: Path) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(EncodingError, match="binary data"):
        detect_encoding(junk)


def test_header_row_is_found_below_titles_and_in_any_language() -> None:
    rows = [
        ["2026年报表"],
        ["说明：单位见各列"],
        [],
        ["备注", "Value", "指标名称", "城市", "报告期", "计量单位"],
    ]
    match = find_header(rows)
    assert match is not None and match.row_index == 3
    assert match.positions == {
        "note": 0,
        "value": 1,
        "indicator": 2,
        "geography": 3,
        "period": 4,
        "unit": 5,
    }


def test_a_header_with_a_note_in_brackets_names_its_column() -> None:
    """数值（亿元）: the value column, and the values' unit; other notes are only notes; a name
    that is an alias with its brackets stays that alias."""
    match = find_header([["报告期", "城市 (市州)", "指标", "数值（亿元）", "填报日期(年-月-日)"]])
    assert match is not None and not match.missing
    assert match.positions == {
        "period": 0,
        "geography": 1,
        "indicator": 2,
        "value": 3,
        "reported_on": 4,
    }
    assert match.value_unit == "亿元"
    assert find_header([["报告期", "城市", "指标", "数值"]]).value_unit is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("period", "geography"),
    [("年份", "地市"), ("年度", "市（州）"), ("统计年度", "县（市、区）"), ("月份", "区县")],
)
def test_the_headers_a_province_s_and_a_city_s_tables_use(period: str, geography: str) -> None:
    match = find_header([[period, geography, "指标", "数值"]])
    assert match is not None and match.positions == {
        "period": 0,
        "geography": 1,
        "indicator": 2,
        "value": 3,
    }


def test_incomplete_header_names_what_is_missing() -> None:
    match = find_header([["报告期", "城市", "单位"]])
    assert match is not None and match.missing == ["indicator", "value"]


def test_cells_read_as_a_person_sees_them() -> None:

    assert cell_text(30.0) == "30"
    assert cell_text(1234.5) == "1234.5"
    assert cell_text(dt.datetime(2026, 4, 8)) == "2026-04-08"
    assert cell_text("=A1*2") == "=A1*2"
    assert cell_text(None) is None


@pytest.mark.parametrize(
    ("value", "code", "text"),
    [
        (0.047, "0.0%", "4.7%"),  # shown in percent: the stored fraction times 100, exactly
        (0.04712, "0.0%", "4.712%"),  # every digit kept, not the two the format rounds to
        (1, "0%", "100%"),
        (-0.05, "0.0%;[Red]-0.0%", "-5%"),  # the negative section
        (0.05, "0.00\\%", "0.05%"),  # an escaped % is a literal: no scaling
        (1234.5, '#,##0.0"亿元"', "1234.5亿元"),  # the unit the format writes
        (12, 'General"项"', "12项"),
        (12, "#,##0_);(#,##0)", "12"),  # padding and brackets write nothing
        (3, '"约"0', "3"),  # a literal before the number is not its unit
        (dt.datetime(2026, 10, 1), 'yyyy"年"m"月"', "2026-10"),
        (dt.datetime(2026, 10, 31), "mmm-yy", "2026-10"),
        (dt.datetime(2026, 1, 1), 'yyyy"年"', "2026"),
        (dt.datetime(2026, 10, 8), 'yyyy"年"m"月"d"日"', "2026-10-08"),
        (dt.datetime(2026, 10, 8, 9, 30), "yyyy-mm-dd h:mm", "2026-10-08 09:30:00"),
        (46296, EAST_ASIAN_FORMATS[57], "2026-10"),  # a serial number under an East Asian date
    ],
)
def test_cells_read_as_their_number_format_shows_them(value: object, code: str, text: str) -> None:
    assert cell_text(value, code) == text


def test_merged_ranges_are_read_from_the_sheet_and_filled_from_their_first_cell() -> None:
    merges = merged_ranges(FIXTURES / "progress" / "merged_cells.xlsx", "xl/worksheets/sheet1.xml")
    assert sorted(merges) == [(1, 1, 1, 5), (3, 2, 5, 2), (6, 2, 7, 2)]
    rows: dict[int, list[str | None]] = {3: ["a", "黄石"], 4: ["b", None], 5: ["c"], 6: [None]}
    fill_merged(rows, [(3, 2, 5, 2), (6, 1, 7, 1)])
    # Row 5 was short: padded. Row 6's range has no value at its first cell: left as it is.
    assert rows == {3: ["a", "黄石"], 4: ["b", "黄石"], 5: ["c", "黄石"], 6: [None]}


@pytest.mark.parametrize("at", [0, 5, 6, 7, 8, 9, 20])
def test_a_token_is_found_across_the_chunks_a_stream_is_read_in(at: int) -> None:
    data = b"x" * at + b"mergeCell" + b"y" * 5
    assert _holds(io.BytesIO(data), b"mergeCell", chunk=8)
    assert not _holds(io.BytesIO(data.replace(b"C", b"c")), b"mergeCell", chunk=8)


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + "x" * 5_000_000 + "</a>")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(XlsxError, match="inflates to 5 MB of XML, over the limit of 1 MB"):
        check_archive(bomb, max_uncompressed_bytes=1_000_000)


def test_discovery_skips_hidden_and_office_lock_files(tmp_path: Path) -> None:
    progress = tmp_path / "raw" / "progress"
    (progress / "a" / "b").mkdir(parents=True)
    for name in ("a/b/r.csv", "a/~$r.xlsx", ".hidden.csv", "a/.tmp/x.csv", "z.txt"):
        (progress / name).parent.mkdir(parents=True, exist_ok=True)
        (progress / name).write_text("x", encoding="utf-8")
    found = [f.relative for f in discover(tmp_path / "raw")]
    assert found == ["progress/a/b/r.csv", "progress/z.txt"]


def test_a_link_leading_outside_the_raw_folder_is_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "progress").mkdir(parents=True)
    secret = tmp_path / "secret.csv"
    secret.write_text("报告期,城市,指标,数值\n", encoding="utf-8")
    link = raw / "progress" / "link.csv"
    link.symlink_to(secret)
    (file,) = list(discover(raw))
    assert isinstance(file, ProgressFile)
    assert unsafe_reason(file, raw) == "a link that leads outside the raw folder"


def test_xlsx_xml_is_parsed_with_defusedxml() -> None:
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML, "openpyxl must find defusedxml to refuse XML entity attacks"
