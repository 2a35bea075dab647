"""Excel 97–2003 workbooks (.xls): read as an XLSX workbook is; what systems that "export to
Excel" write under the name, a web page or a text table, read as such; anything else refused,
with the reason and what to do."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import xlwt

from dagster_project.lib.progress.formats import UnreadableFormatError, reader_for
from dagster_project.lib.progress.html_tables import html_sheets, laid_out
from dagster_project.lib.progress.xls import OLE2_MAGIC, xls_sheets
from dagster_project.lib.progress.xlsx import XlsxError, fill_merged
from tests.fixtures.make_fixtures import build_workbook
from tests.test_ingest import Landing, landing  # noqa: F401  (the fixture)

HEADER: list[object] = ["报告期", "城市", "指标", "数值", "单位"]
# The code the East Asian built-in format id 57 stands for (yyyy"年"m"月"), which a Chinese Excel
# writes as the id alone, with no format record (xlsx.EAST_ASIAN_FORMATS).
EAST_ASIAN_57 = "<id 57>"


def xls_workbook(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> None:
    """Write `sheets` (title → rows; a cell as (value, format code) under that code, as
    ("merge", (value, rows, cols)) merged from the cell on, as ("error", "#DIV/0!") a formula's
    error as Excel saves it) as an .xls workbook, as Excel 2003 does."""
    book = xlwt.Workbook(encoding="utf-8")
    # xlwt writes a format record for every code it does not know as a built-in; the East Asian
    # built-in is written as its id alone, as a Chinese Excel does.
    book._Workbook__styles._num_formats[EAST_ASIAN_57] = 57
    for title, rows in sheets.items():
        sheet = book.add_sheet(title)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if isinstance(cell, tuple) and cell[0] == "error":
                    sheet.row(r).set_cell_error(c, cell[1])
                elif isinstance(cell, tuple) and cell[0] == "merge":
                    _, (value, down, across) = cell
                    sheet.write_merge(r, r + down - 1, c, c + across - 1, value)
                elif isinstance(cell, tuple):
                    value, code = cell
                    sheet.write(r, c, value, xlwt.easyxf(num_format_str=code))
                elif cell is not None:
                    sheet.write(r, c, cell)
    book.save(str(path))


def test_an_xls_workbook_reads_as_an_xlsx_one(landing: Landing) -> None:  # noqa: F811
    """A statistics form saved in the Excel 97–2003 format: its merged title above the header, a
    city merged down beside its rows, periods typed as dates shown as months (under a format of
    its own and under the East Asian built-in id), a percent stored as a fraction, a unit its
    format writes, a formula's error; an instructions sheet beside it and a footer dating it."""
    month = 'yyyy"年"m"月"'
    rows: list[list[object]] = [
        [("merge", ("2026年科技同兴进展表", 1, 5))],
        HEADER,
        [(dt.date(2026, 3, 15), month), ("merge", ("黄石", 2, 1)), "技术合同成交额", 3.5, "亿元"],
        [(dt.date(2026, 4, 15), EAST_ASIAN_57), None, "技术合同成交额", 4, "亿元"],
        ["2026-03", "鄂州", "技术合同成交额", (1234.5, '#,##0.0"亿元"')],
        ["2026-03", "武汉经开区", "全社会研发投入强度", (0.047, "0.0%"), "%"],
        ["2026-03", "孝感", "技术合同成交额", ("error", "#DIV/0!"), "亿元"],
        [],
        ["填表人：张三", None, "报出日期：2026年4月8日"],
    ]
    progress = landing.raw / "progress"
    xls_workbook(progress / "form.xls", {"说明": [["请按月填报"]], "进展": rows})
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.sheets, outcome.rows_in, outcome.rows_loaded) == (
        "partially_loaded",
        ["进展"],
        5,
        4,
    ), outcome.reason
    assert landing.values() == [
        ("huangshi", "tech_contract_turnover", "2026-03-01", "2026-03-31", 3.5, "亿元"),
        ("huangshi", "tech_contract_turnover", "2026-04-01", "2026-04-30", 4.0, "亿元"),
        ("ezhou", "tech_contract_turnover", "2026-03-01", "2026-03-31", 1234.5, "亿元"),
        ("wuhan_edz", "rd_intensity", "2026-03-01", "2026-03-31", pytest.approx(4.7), "%"),
    ]
    assert landing.rows(
        "select distinct reported_on, file_type from raw.progress_rows join "
        "raw.file_manifest using (source_file)"
    ) == [(dt.date(2026, 4, 8), "xls")]
    # A formula Excel could not compute reads as its error, which is no number.
    ((row, code, reason),) = landing.rows(
        "select source_row, reason_code, reason from dq.quarantine"
    )
    assert (row, code) == (7, "value_not_numeric")
    assert "sheet 进展, row 7" in reason and "#DIV/0!" in reason


def test_a_workbook_reads_whatever_its_name_says_it_is(landing: Landing) -> None:  # noqa: F811
    """The reader follows a workbook's bytes: an XLSX workbook saved under an .xls name, and an
    Excel 97–2003 one under .xlsx, each read; so is an Excel 97–2003 template (.xlt)."""
    rows: list[list[object]] = [HEADER, ["2026-03", "黄石", "技术合同成交额", 1, "亿元"]]
    progress = landing.raw / "progress"
    build_workbook({"进展": rows}).save(progress / "renamed.xls")
    xls_workbook(progress / "old.xlsx", {"进展": rows})
    xls_workbook(progress / "template.xlt", {"进展": [HEADER, ["2026-03", "鄂州", *rows[1][2:]]]})
    outcomes = {o.source_file: (o.status, o.rows_loaded) for o in landing.ingest()}
    assert outcomes == {
        "progress/renamed.xls": ("loaded", 1),
        # The same rows as renamed.xls's, in another format: other content, landed again.
        "progress/old.xlsx": ("loaded", 1),
        "progress/template.xlt": ("loaded", 1),
    }


def test_a_web_page_exported_as_excel_reads_as_a_workbook(landing: Landing) -> None:  # noqa: F811
    """Systems that "export to Excel" often write a web page under an .xls name, which Excel and
    WPS open as a sheet per table: each table reads as a sheet (表1, …), a cell spanning rows or
    columns as its text in each cell it covers, a line break in a cell as one, character
    references decoded; a table without a report header is skipped, as a sheet is."""
    page = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">
    <style>td { mso-number-format: "\\@"; }</style></head><body>
    <table><tr><td>说明：本表由系统导出</td></tr></table>
    <table border="1">
    <tr><td colspan="5">黄石市2026年10月科技指标&nbsp;完成情况</td></tr>
    <tr><th>报告期</th><th>城市</th><th>指标</th><th>数值</th><th>单位</th></tr>
    <tr><td>2026-10</td><td rowspan="2">黄石</td><td>技术合同<br/>成交额</td>
        <td x:num="3.5">3.5</td><td>亿元</td></tr>
    <tr><td>2026-10</td><td>校地产学研合作项目</td><td> 4 </td><td>项</td></tr>
    <tr><td>2026-10</td><td>鄂州</td><td>技术合同成交额</td><td>约2</td><td>亿元</td></tr>
    <tr><td colspan="5">本表数据为快报数，以年报为准。</td></tr>
    <tr><td colspan="3">填表人：张三</td><td colspan="2">报出日期：2026年11月6日</td></tr>
    </table></body></html>"""
    (landing.raw / "progress" / "导出.xls").write_bytes(page.encode("gbk"))
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.sheets, outcome.rows_in, outcome.rows_loaded) == (
        "partially_loaded",
        ["表2"],
        3,
        2,
    ), outcome.reason
    assert landing.values() == [
        ("huangshi", "tech_contract_turnover", "2026-10-01", "2026-10-31", 3.5, "亿元"),
        ("huangshi", "university_city_projects", "2026-10-01", "2026-10-31", 4.0, "项"),
    ]
    assert landing.rows("select distinct reported_on from raw.progress_rows") == [
        (dt.date(2026, 11, 6),)
    ]
    ((reason,),) = landing.rows("select reason from dq.quarantine")
    assert reason.startswith("progress/导出.xls, sheet 表2, row 5, column 数值 value:"), reason


SPREADSHEET_ML = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:x="urn:schemas-microsoft-com:office:excel"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">
 <Styles>
  <Style ss:ID="Default" ss:Name="Normal"><Alignment ss:Vertical="Center"/></Style>
  <Style ss:ID="pct"><NumberFormat ss:Format="0.0%"/></Style>
  <Style ss:ID="month"><NumberFormat ss:Format="yyyy&quot;年&quot;m&quot;月&quot;"/></Style>
  <Style ss:ID="named"><NumberFormat ss:Format="Percent"/></Style>
 </Styles>
 <Worksheet ss:Name="说明"><Table><Row><Cell><Data ss:Type="String">填报说明</Data></Cell></Row>
 </Table></Worksheet>
 <Worksheet ss:Name="进展">
  <Table ss:ExpandedColumnCount="5" x:FullRows="1">
   <Row><Cell ss:MergeAcross="4"><Data ss:Type="String">2026年科技指标</Data></Cell></Row>
   <Row ss:Index="3">
    <Cell><Data ss:Type="String">报告期</Data></Cell><Cell><Data ss:Type="String">城市</Data></Cell>
    <Cell><Data ss:Type="String">指标</Data></Cell><Cell><Data ss:Type="String">数值</Data></Cell>
    <Cell><Data ss:Type="String">单位</Data></Cell>
   </Row>
   <Row>
    <Cell ss:StyleID="month"><Data ss:Type="DateTime">2026-10-15T00:00:00.000</Data></Cell>
    <Cell ss:MergeDown="1"><Data ss:Type="String">黄石</Data></Cell>
    <Cell><Data ss:Type="String">技术合同成交额</Data></Cell>
    <Cell><Data ss:Type="Number">3.5</Data><Comment><Data>快报</Data></Comment></Cell>
    <Cell><Data ss:Type="String">亿元</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">2026-10</Data></Cell>
    <Cell ss:Index="3"
     ><ss:Data ss:Type="String"><html:B>校地产学研</html:B>合作项目</ss:Data></Cell>
    <Cell><Data ss:Type="Number">4</Data></Cell><Cell><Data ss:Type="String">项</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">2026-10</Data></Cell>
    <Cell><Data ss:Type="String">蔡甸</Data></Cell>
    <Cell><Data ss:Type="String">全社会研发投入强度</Data></Cell>
    <Cell ss:StyleID="pct"><Data ss:Type="Number">0.047</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">2026-10</Data></Cell>
    <Cell><Data ss:Type="String">鄂州</Data></Cell>
    <Cell><Data ss:Type="String">技术合同成交额</Data></Cell>
    <Cell><Data ss:Type="Error">#DIV/0!</Data></Cell><Cell><Data ss:Type="String">亿元</Data></Cell>
   </Row>
   <Row>
    <Cell><Data ss:Type="String">2026-10</Data></Cell>
    <Cell><Data ss:Type="String">孝感</Data></Cell>
    <Cell><Data ss:Type="String">全社会研发投入强度</Data></Cell>
    <Cell ss:StyleID="named"><Data ss:Type="Number">0.0525</Data></Cell>
   </Row>
  </Table>
 </Worksheet>
</Workbook>
"""


XML_SHEET = (
    b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
    b'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="a"><Table>'
)


def test_an_xml_spreadsheet_exported_as_excel_reads_as_a_workbook(
    landing: Landing,  # noqa: F811
) -> None:
    """Systems that "export to Excel" from a template often write an Excel 2003 XML spreadsheet
    under an .xls name: each worksheet reads as a sheet, its cells at their places (rows and
    cells left out by ss:Index), under their styles' number formats (a format's code or its
    name), a merged cell over the cells it covers, rich text as its text, a cell's comment no
    part of its value."""
    (landing.raw / "progress" / "导出.xls").write_text(SPREADSHEET_ML, encoding="utf-8")
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.sheets, outcome.header_row, outcome.rows_loaded) == (
        "partially_loaded",
        ["进展"],
        3,
        4,
    ), outcome.reason
    assert landing.values() == [
        ("huangshi", "tech_contract_turnover", "2026-10-01", "2026-10-31", 3.5, "亿元"),
        ("huangshi", "university_city_projects", "2026-10-01", "2026-10-31", 4.0, "项"),
        ("caidian", "rd_intensity", "2026-10-01", "2026-10-31", pytest.approx(4.7), "%"),
        ("xiaogan", "rd_intensity", "2026-10-01", "2026-10-31", pytest.approx(5.25), "%"),
    ]
    ((reason,),) = landing.rows("select reason from dq.quarantine")
    assert reason.startswith("progress/导出.xls, sheet 进展, row 7, column 数值 value:"), reason
    assert "#DIV/0!" in reason


@pytest.mark.parametrize(
    ("content", "encoding"),
    [("\t", "utf-16"), (",", "gbk")],
    ids=["unicode-text", "gbk-csv"],
)
def test_a_text_table_exported_as_excel_reads_as_a_csv(
    landing: Landing,  # noqa: F811
    content: str,
    encoding: str,
) -> None:
    """A text table under an .xls name (Excel's "Unicode text" is tab-separated UTF-16) reads as
    the CSV it is."""
    lines = [[str(h) for h in HEADER], ["2026-10", "黄石", "技术合同成交额", "3.5", "亿元"]]
    text = "\r\n".join(content.join(line) for line in lines) + "\r\n"
    (landing.raw / "progress" / "export.xls").write_bytes(text.encode(encoding))
    (outcome,) = landing.ingest()
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1), outcome.reason
    assert landing.values() == [
        ("huangshi", "tech_contract_turnover", "2026-10-01", "2026-10-31", 3.5, "亿元")
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">&b;</Workbook>',
            "not a readable XML spreadsheet: it declares entities (a), refused as they can "
            "expand beyond any memory",
        ),
        (b"<html><body><p>\xe6\x97\xa0</p></body></html>", "a web page (HTML) that holds no table"),
        (b"<html><table><tr><td>a<![ <td>", "not a readable web page (AssertionError: "),
        (
            XML_SHEET + b'<Row ss:Index="3"/><Row ss:Index="2"/></Table></Worksheet></Workbook>',
            "not a readable XML spreadsheet: row 2 is out of order or beyond a sheet's 1,048,576 "
            "(after 3)",
        ),
        (
            XML_SHEET
            + b'<Row><Cell ss:MergeDown="99999999"/></Row></Table></Worksheet></Workbook>',
            "not a readable XML spreadsheet: row 1, column 1 is merged across 0 and down 99999999",
        ),
        (
            b"\x00\x01\x02 junk",
            "not an Excel workbook: its bytes are no workbook, web page, XML spreadsheet",
        ),
    ],
    ids=[
        "xml-entities",
        "page-without-table",
        "malformed-page",
        "xml-rows-out-of-order",
        "xml-merged-beyond-a-sheet",
        "binary",
    ],
)
def test_an_export_that_holds_no_table_to_read_is_refused(
    landing: Landing,  # noqa: F811
    content: bytes,
    reason: str,
) -> None:
    """What an .xls name holds that is no workbook, web page with a table, XML spreadsheet or
    text table is refused, saying what it is and how to save a workbook; so is an XML
    spreadsheet that declares entities (which could expand to gigabytes)."""
    (landing.raw / "progress" / "export.xls").write_bytes(content)
    (outcome,) = landing.ingest()
    assert outcome.status == "rejected"
    assert reason in outcome.reason
    assert "save it as .xlsx" in outcome.reason or "table" in outcome.reason


def test_a_page_s_cells_spanning_rows_and_columns_take_their_places() -> None:
    """Each cell goes to the first column its row leaves free: the cells above spanning down
    hold theirs; a span past the table's last row ends there; a row wider than a sheet is the
    page's error."""
    rows = [
        [("a", 2, 1), ("b", 1, 2), ("c", 3, 1)],
        [("d", 1, 1), ("", 2, 1)],
        [("e", 1, 1), ("f", 5, 1)],
    ]
    assert laid_out(rows) == {
        1: ["a", "b", "b", "c"],
        2: ["a", "d", None, "c"],
        3: ["e", "f", None, "c"],
    }
    with pytest.raises(XlsxError, match="row 1 is wider than 16,384 columns"):
        laid_out([[("a", 1, 16384), ("b", 1, 1)]])


def test_merged_cells_that_would_fill_memory_are_refused() -> None:
    """A few bytes of merged ranges (a workbook's, a web page's spans) may cover billions of
    cells, as a zip bomb inflates: past 20,000,000 cells filled the file is refused."""
    with pytest.raises(XlsxError, match="merged cells cover more than 20,000,000 cells"):
        fill_merged({1: ["x"]}, [(1, 1, 1, 16384)] * 1300)
    with pytest.raises(XlsxError, match="merged cells cover more than 20,000,000 cells"):
        laid_out([[("a", 1, 16384)]] * 1300)
    filled: dict[int, list[str | None]] = {1: ["x"], 2: []}
    fill_merged(filled, [(1, 1, 1_048_576, 2)] * 1300)  # past the last row: only to it
    assert filled == {1: ["x", "x"], 2: ["x", "x"]}


def test_a_page_without_its_closing_tags_reads_to_its_end(tmp_path: Path) -> None:
    """A page cut short, or written without closing tags, reads as a browser shows it: the row
    and cell left open at its end are its last."""
    page = tmp_path / "export.xls"
    page.write_text("<table><tr><td>报告期<td>城市<tr><td>2026-10<td>黄石", encoding="utf-8")
    assert list(html_sheets(page, 1 << 20)) == [
        ("表1", {1: ["报告期", "城市"], 2: ["2026-10", "黄石"]})
    ]


def test_a_broken_or_protected_xls_is_refused_with_the_reason(tmp_path: Path) -> None:
    """A compound document xlrd cannot read names why; one that holds an encrypted package is a
    password-protected workbook, and the message says what to do; an .xls over the size limit
    is not read into memory."""
    broken = tmp_path / "broken.xls"
    broken.write_bytes(OLE2_MAGIC + b"\x00" * 512)
    with pytest.raises(XlsxError, match=r"^not a readable Excel 97–2003 workbook \("):
        list(xls_sheets(broken, 1 << 20))
    encrypted = tmp_path / "encrypted.xls"
    xls_workbook(encrypted, {"进展": [HEADER]})
    contents = bytearray(encrypted.read_bytes())
    after_bof = contents.find(bytes([0x09, 0x08, 0x10, 0x00])) + 20  # the workbook's BOF record
    contents[after_bof : after_bof + 2] = bytes([0x2F, 0x00])  # the record after it: FILEPASS
    encrypted.write_bytes(bytes(contents))
    with pytest.raises(XlsxError, match="97–2003 workbook: it is protected by a password"):
        list(xls_sheets(encrypted, 1 << 20))
    protected = tmp_path / "protected.xlsx"
    protected.write_bytes(OLE2_MAGIC + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le"))
    with pytest.raises(XlsxError, match="protected by a password: remove the password"):
        list(xls_sheets(protected, 1 << 20))
    large = tmp_path / "large.xls"
    xls_workbook(large, {"进展": [HEADER] * 200})
    with pytest.raises(XlsxError, match=r"over the limit of 0 MB \(PLAN_TRACKER_MAX_XLSX_BYTES\)"):
        list(xls_sheets(large, 1000))


@pytest.mark.parametrize(
    ("name", "content", "encoding"),
    [("export.txt", "\t", "utf-16"), ("export.txt", "\t", "gbk"), ("export.tsv", "\t", "utf-8")],
    ids=["unicode-text", "tab-delimited-gbk", "tsv"],
)
def test_a_text_file_that_holds_a_table_reads_as_a_csv(
    landing: Landing,  # noqa: F811
    name: str,
    content: str,
    encoding: str,
) -> None:
    """Excel's and WPS's text formats besides CSV (Unicode 文本, 文本文件(制表符分隔); .tsv) read as
    CSV when they hold a table; a text file that holds none is not read, saying so."""
    lines = [[str(h) for h in HEADER], ["2026-10", "黄石", "技术合同成交额", "3.5", "亿元"]]
    text = "\r\n".join(content.join(line) for line in lines) + "\r\n"
    (landing.raw / "progress" / name).write_bytes(text.encode(encoding))
    (landing.raw / "progress" / "readme.txt").write_text("每月5日前报送。", encoding="utf-8")
    outcomes = {o.source_file: (o.status, o.rows_loaded, o.reason) for o in landing.ingest()}
    assert outcomes == {
        f"progress/{name}": ("loaded", 1, None),
        "progress/readme.txt": (
            "rejected",
            0,
            "unsupported file type '.txt': progress reports are .csv, .xlsx or .xls (a text "
            "file is read when it holds a table)",
        ),
    }


def test_a_web_page_saved_as_such_reads_as_one_under_an_xls_name(
    landing: Landing,  # noqa: F811
) -> None:
    """Excel's "save as web page" (.htm) and a system's HTML export (.html) read as a page under
    an .xls name does; a page without a table, or a file that is no page, says why."""
    rows = "".join(
        f"<tr><td>{'</td><td>'.join(map(str, row))}</td></tr>"
        for row in (HEADER, ["2026-10", "黄石", "技术合同成交额", 3.5, "亿元"])
    )
    progress = landing.raw / "progress"
    (progress / "sheet.htm").write_text(f"<html><body><table>{rows}</table>", encoding="utf-8")
    (progress / "notice.html").write_text("<html><body><p>通知</p></body></html>", "utf-8")
    (progress / "notes.html").write_text("每月5日前报送", encoding="utf-8")
    outcomes = {o.source_file: (o.status, o.rows_loaded, o.reason) for o in landing.ingest()}
    assert outcomes == {
        "progress/sheet.htm": ("loaded", 1, None),
        "progress/notice.html": ("rejected", 0, "a web page (HTML) that holds no table"),
        "progress/notes.html": (
            "rejected",
            0,
            "unsupported file type '.html': progress reports are .csv, .xlsx or .xls (a web "
            "page is read when it holds a table)",
        ),
    }


def test_a_wps_spreadsheet_reads_when_its_bytes_are_a_workbook_s(
    landing: Landing,  # noqa: F811
) -> None:
    """A WPS spreadsheet (.et) is read as the workbook its bytes are; one in a format of WPS's
    own, and a spreadsheet format not read (.ods), each says how to save a workbook."""
    progress = landing.raw / "progress"
    xls_workbook(
        progress / "report.et", {"进展": [HEADER, ["2026-03", "黄石", "技术合同成交额", 1, "亿元"]]}
    )
    (progress / "own.et").write_bytes(OLE2_MAGIC + b"\x00" * 512)
    (progress / "plain.ett").write_bytes(b"\x00\x01 not a workbook")
    (progress / "report.ods").write_bytes(b"PK\x03\x04 an OpenDocument spreadsheet")
    outcomes = {o.source_file: (o.status, o.reason) for o in landing.ingest()}
    save = "save it as .xlsx (Excel or WPS: 文件 → 另存为 → Excel 工作簿 *.xlsx) or as CSV"
    assert outcomes == {
        "progress/report.et": ("loaded", None),
        "progress/own.et": (
            "rejected",
            'not a readable Excel 97–2003 workbook (CompDocError: Expected "little-endian" '
            f"marker, found b'\\x00\\x00'); a WPS spreadsheet in a format of its own: {save}",
        ),
        "progress/plain.ett": (
            "rejected",
            f"not read: a WPS spreadsheet in a format of its own: {save}",
        ),
        "progress/report.ods": (
            "rejected",
            "unsupported file type '.ods': progress reports are .csv, .xlsx or .xls; an "
            f"OpenDocument spreadsheet: {save}",
        ),
    }


def test_a_sheet_that_cannot_be_read_names_it(tmp_path: Path) -> None:
    """A workbook whose sheet is corrupt (a cell's record cut short) is refused naming the sheet,
    never failing the run."""
    path = tmp_path / "corrupt.xls"
    xls_workbook(path, {"进展": [HEADER, ["2026-03", "黄石", "技术合同成交额", 1.5, "亿元"]]})
    contents = bytearray(path.read_bytes())
    label = contents.find(bytes([0xFD, 0x00, 0x0A, 0x00]))  # a text cell's record, 10 bytes long
    contents[label + 2] = 0x02
    path.write_bytes(bytes(contents))
    with pytest.raises(XlsxError, match=r"^sheet '进展' cannot be read \(error: unpack requires"):
        list(xls_sheets(path, 1 << 20))


@pytest.mark.parametrize(
    ("name", "start", "reader"),
    [
        ("r.csv", b"\x00 anything", "csv"),
        ("r.xlsx", b"PK\x03\x04", "xlsx"),
        ("r.xlsx", OLE2_MAGIC, "xls"),
        ("r.xlsx", b"junk", "xlsx"),  # whose reader says why it is none
        ("r.xls", b"PK\x03\x04", "xlsx"),
        ("r.xls", OLE2_MAGIC, "xls"),
        ("r.XLT", OLE2_MAGIC, "xls"),
        ("r.et", OLE2_MAGIC, "xls"),
        ("r.xls", b"\r\n<!DOCTYPE html><html>", "html"),
        (
            "r.xls",
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
            "xml",
        ),
        ("r.xls", "报告期\t城市".encode("utf-16"), "csv"),
        ("r.txt", "报告期,城市".encode("gbk"), "csv"),
        ("r.tsv", b"a\tb", "csv"),
        ("r.htm", b"<table><tr><td>a", "html"),
        ("r.xml", XML_SHEET, "xml"),
    ],
)
def test_the_reader_follows_the_name_and_a_workbook_s_bytes(
    tmp_path: Path, name: str, start: bytes, reader: str
) -> None:
    (tmp_path / name).write_bytes(start)
    assert reader_for(tmp_path / name) == reader


@pytest.mark.parametrize(
    ("name", "start", "reason"),
    [
        ("r.xls", b"\x00\x01 binary", "not an Excel workbook: its bytes are no workbook"),
        ("r.et", b"binary", "not read: a WPS spreadsheet in a format of its own"),
        ("r.txt", "每月5日前报送".encode(), "unsupported file type '.txt'"),
        ("r.html", b"<?xml version='1.0'?><svg/>", "unsupported file type '.html'"),
        ("r.xml", b"<?xml version='1.0'?><svg/>", "(an XML file is read when it is an XML"),
        (
            "r.xlsb",
            b"PK\x03\x04",
            "'.xlsb': progress reports are .csv, .xlsx or .xls; an Excel binary",
        ),
        ("r", b"a,b", "unsupported file type '(none)'"),
    ],
)
def test_a_file_no_reader_reads_says_why(
    tmp_path: Path, name: str, start: bytes, reason: str
) -> None:
    (tmp_path / name).write_bytes(start)
    with pytest.raises(UnreadableFormatError, match=re.escape(reason)):
        reader_for(tmp_path / name)


def test_a_number_excel_saved_in_a_page_reads_to_its_full_precision(tmp_path: Path) -> None:
    """Excel's web page keeps each number beside its rounded text (x:num): read as the XLSX
    reader reads a number, in full, in percent or with its unit as shown; a cell whose text is
    not that number rounded (a date's serial number, a number shown in thousands) as shown."""
    cells = [
        ("3.456", "3.46"),
        ("4.71E-2", "4.7%"),
        ("1234.5", "1,234.5亿元"),
        ("46296", "10月"),
        ("1200000", "1.2"),
        (None, "3.5"),
    ]
    row = "".join(f'<td x:num="{n}">{t}</td>' if n else f"<td>{t}</td>" for n, t in cells)
    page = tmp_path / "export.xls"
    page.write_text(f"<table><tr>{row}</tr></table>", encoding="utf-8")
    ((_, rows),) = html_sheets(page, 1 << 20)
    assert rows == {1: ["3.456", "4.71%", "1234.5亿元", "10月", "1.2", "3.5"]}
