"""Reading XLSX progress reports safely.

An XLSX file is a zip of XML parts. Before anything is parsed, the zip's directory is checked: the
total uncompressed size must stay under a limit (a few kilobytes of "zip bomb" can inflate to
gigabytes of XML). openpyxl parses the XML with defusedxml when it is installed (it is a dependency
of this project), which refuses entity-expansion attacks. Cells come back as text, exactly as a
person sees them where possible: numbers without a spurious ".0", in percent when their format shows
them so (0.047 under 0.0% is 4.7%) and with the unit their format writes after them (#,##0"亿元");
dates as ISO dates, to the precision their format shows (2026-10 under yyyy"年"m"月"); and formulas
as the value Excel saved beside them, or, saved without one, as their "=..." source (formulas are
not evaluated; the rule on values rejects them). A merged
cell reads as its value in every cell it covers, as a person sees it: a city written once beside
its block of indicators, in a merged column, is that city on each of their rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import openpyxl
from defusedxml.ElementTree import iterparse  # type: ignore[import-untyped]
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.datetime import from_excel

from dagster_project.lib.progress.headers import (
    HEADER_SEARCH_ROWS,
    HeaderMatch,
    SpreadNames,
    find_header,
    footer_rows,
    written_row,
)
from dagster_project.lib.progress.titles import dated_by_footer

DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024


class XlsxError(ValueError):
    pass


def check_archive(path: Path, max_uncompressed_bytes: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise XlsxError(f"not a readable XLSX workbook (not a valid zip archive: {exc})") from exc
    total = sum(m.file_size for m in members)
    if total > max_uncompressed_bytes:
        raise XlsxError(
            f"the workbook inflates to {total / 1e6:.0f} MB of XML, over the limit of "
            f"{max_uncompressed_bytes / 1e6:.0f} MB (PLAN_TRACKER_MAX_XLSX_BYTES); "
            "split it or save it as CSV"
        )
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise XlsxError("not an XLSX workbook (the zip holds no spreadsheet parts)")


# A sheet's size in Excel and WPS: what a file that says more of is in error.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
# The cells that merged ranges (or a web page's spans) may fill in a file: a few bytes of
# <mergeCell ref="A1:XFD1048576"/> would otherwise fill memory, as a zip bomb would. Far above
# what the size limit lets a real report hold.
MAX_FILLED_CELLS = 20_000_000


def check_filled(filled: int) -> None:
    if filled > MAX_FILLED_CELLS:
        raise XlsxError(
            f"its merged cells cover more than {MAX_FILLED_CELLS:,} cells; unmerge them, or "
            "split the file or save it as CSV"
        )


def check_size(path: Path, max_bytes: int, what: str) -> None:
    """Refuse a file read whole into memory (an .xls workbook, a web page) over the size limit."""
    size = path.stat().st_size
    if size > max_bytes:
        raise XlsxError(
            f"the {what} is {size / 1e6:.0f} MB, over the limit of {max_bytes / 1e6:.0f} MB "
            "(PLAN_TRACKER_MAX_XLSX_BYTES); split it or save it as CSV"
        )


# The built-in number formats Excel reserves for East Asian locales (ECMA-376 Part 1, 18.8.30), as
# zh-CN defines them. A Chinese Excel or WPS writes a cell's format as one of these ids with no
# code beside it, and openpyxl knows only the western built-ins: a date shown as 2026年10月 would
# come back as its serial number, 46296.
EAST_ASIAN_FORMATS: dict[int, str] = {
    **dict.fromkeys((27, 36, 50, 52, 57), 'yyyy"年"m"月"'),
    **dict.fromkeys((28, 29, 51, 53, 54, 58), 'm"月"d"日"'),
    30: "m-d-yy",
    31: 'yyyy"年"m"月"d"日"',
    **dict.fromkeys((32, 55), 'h"时"mm"分"'),
    **dict.fromkeys((33, 56), 'h"时"mm"分"ss"秒"'),
    34: '上午/下午h"时"mm"分"',
    35: '上午/下午h"时"mm"分"ss"秒"',
}

# A number format's tokens: a quoted literal, an escaped character, a [colour], [condition] or
# [$locale], a padding (_x) or fill (*x) character, the word General, or one character of code.
_FORMAT_TOKEN = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].|(?i:general)|.', re.DOTALL)


@dataclass(frozen=True)
class NumberFormat:
    """What a section of a number format shows of a number: in percent or not, the text it writes
    after the number, and, of a date, the smallest part it shows."""

    percent: bool
    suffix: str
    date_part: str | None  # "day", "month", "year", or None: the date as a whole


@functools.cache
def number_format(code: str, negative: bool = False, zero: bool = False) -> NumberFormat:
    """What the section of `code` (positive;negative;zero;text) that shows a number of that sign
    shows. A workbook has a few formats: each is read once."""
    split: list[list[str]] = [[]]
    for token in _FORMAT_TOKEN.findall(code):
        if token == ";":
            split.append([])
        else:
            split[-1].append(token)
    index = 1 if negative and len(split) > 1 else 2 if zero and len(split) > 2 else 0
    tokens = split[index]
    code_chars = "".join(t.lower() for t in tokens if len(t) == 1)
    # The literals after the last digit placeholder are the unit it writes after the number.
    last = max(
        (i for i, t in enumerate(tokens) if t in "0#?" or t.lower() == "general"), default=-1
    )
    suffix = "".join(
        t[1:-1] if t.startswith('"') else t[1]
        for t in tokens[last + 1 :]
        if t.startswith('"') or (t.startswith("\\") and len(t) == 2)
    ).strip()
    # m is a month, or minutes beside hours or seconds (h:mm, mm:ss).
    minutes = "h" in code_chars or "s" in code_chars
    date_part = (
        "day"
        if "d" in code_chars
        else "month"
        if "m" in code_chars and not minutes
        else "year"
        if "y" in code_chars
        else None
    )
    return NumberFormat(percent="%" in code_chars, suffix=suffix, date_part=date_part)


def cell_text(
    value: object, number_format_code: str | None = None, epoch: dt.datetime | None = None
) -> str | None:
    """A cell as the text a person sees, under its number format (when given)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    code = number_format_code or "General"
    if isinstance(value, int | float) and _is_date_format(code):
        # A date under a format openpyxl does not know as one (the East Asian ids).
        value = from_excel(value, epoch) if epoch is not None else from_excel(value)
    if isinstance(value, dt.datetime | dt.date):
        part = number_format(code).date_part if code != "General" else None
        if part == "year":
            return f"{value.year:04d}"
        if part == "month":
            return f"{value.year:04d}-{value.month:02d}"
        if isinstance(value, dt.datetime):
            if value.time() == dt.time(0, 0):
                return value.date().isoformat()
            return value.isoformat(sep=" ")
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        shown = number_format(code, negative=value < 0, zero=value == 0)
        text = _number_text(value)
        if shown.percent:
            text = format(Decimal(text).scaleb(2).normalize(), "f") + "%"
        return text + shown.suffix
    return str(value)


_is_date_format = functools.cache(is_date_format)


def _number_text(value: float) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _shown(cell: Any, epoch: dt.datetime) -> str | None:
    """A cell of a read-only sheet as a person sees it: its value under its number format."""
    value = cell.value
    if value is None or isinstance(value, str):
        return cell_text(value)
    code = EAST_ASIAN_FORMATS.get(cell.style_array.numFmtId) or cell.number_format
    return cell_text(value, code, epoch)


# A sheet as read, whatever the file's format: its title and its rows (row number → cells as a
# person sees them).
SheetCells = tuple[str, dict[int, list[str | None]]]
# A merged range: its first row and column and its last, 1-based.
Merge = tuple[int, int, int, int]


def merged_ranges(path: Path, sheet_part: str) -> list[Merge]:
    """The merged ranges of a sheet, from its part of the archive (its <mergeCell ref="A2:A5">
    elements). openpyxl's read-only mode, which streams rows, does not read them."""
    with zipfile.ZipFile(path) as archive:
        with archive.open(sheet_part) as stream:
            if not _holds(stream, b"mergeCell"):  # most sheets: a scan at C speed, no parse
                return []
        with archive.open(sheet_part) as stream:
            return _merges(stream)


def _holds(stream: IO[bytes], token: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the stream's bytes hold `token`, read a chunk at a time."""
    tail = b""
    while block := stream.read(chunk):
        if token in tail + block[: len(token)] or token in block:
            return True
        tail = block[-(len(token) - 1) :]
    return False


def _merges(stream: IO[bytes]) -> list[Merge]:
    merges: list[Merge] = []
    for _, element in iterparse(stream, events=("end",)):
        if element.tag.endswith("}mergeCell") and ":" in element.get("ref", ""):
            min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
            merges.append((min_row, min_col, max_row, max_col))
        elif element.tag.endswith("}row"):
            element.clear()  # the rows' cells are read by openpyxl, not kept here
    return merges


def fill_merged(rows: dict[int, list[str | None]], merges: list[Merge]) -> None:
    """Every cell a merged range covers takes the value of its first cell, in the rows given
    (Excel row number → cells); rows outside `rows` are left as they are."""
    last = max(rows, default=0)  # a range merged past the last row (A1:A1048576) ends there
    filled = 0
    for min_row, min_col, max_row, max_col in merges:
        top = rows.get(min_row)
        value = top[min_col - 1] if top is not None and min_col <= len(top) else None
        if value is None:
            continue
        filled += (min(max_row, last) - min_row + 1) * (max_col - min_col + 1)
        check_filled(filled)
        for row_number in range(min_row, min(max_row, last) + 1):
            cells = rows.get(row_number)
            if cells is None:
                continue
            cells.extend([None] * (max_col - len(cells)))
            for col in range(min_col, max_col + 1):
                cells[col - 1] = value


@dataclass(frozen=True)
class SheetRows:
    sheet: str
    header: HeaderMatch
    first_data_row: int  # 1-based Excel row number of the first row after the header
    rows: list[tuple[int, list[str | None]]]  # (Excel row number, cells)


@dataclass(frozen=True)
class SkippedSheet:
    sheet: str
    reason: str


def xlsx_sheets(
    path: Path, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
) -> Iterator[SheetCells]:
    """Each sheet's title and its rows as a person sees them (Excel row number → cells)."""
    check_archive(path, max_uncompressed_bytes)
    try:
        workbook, handle = _open(path, data_only=False)
    except Exception as exc:  # openpyxl raises many types for corrupt parts
        raise XlsxError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    epoch = workbook.epoch
    saved = SavedValues(path, epoch)
    try:
        for sheet in workbook.worksheets:
            try:
                rows: dict[int, list[str | None]] = {}
                formulas: list[tuple[int, int]] = []
                for excel_row, row in enumerate(sheet.iter_rows(), start=1):
                    rows[excel_row] = [_shown(cell, epoch) for cell in row]
                    formulas.extend(
                        (excel_row, col) for col, cell in enumerate(row) if cell.data_type == "f"
                    )
                if formulas:
                    saved.fill(sheet.title, rows, formulas)
                # openpyxl's read-only sheet knows its part of the archive (a private attribute).
                fill_merged(rows, merged_ranges(path, sheet._worksheet_path))
            except Exception as exc:
                raise XlsxError(
                    f"sheet {sheet.title!r} cannot be read ({type(exc).__name__}: {exc})"
                ) from exc
            yield sheet.title, rows
    finally:
        workbook.close()
        handle.close()
        saved.close()


def _open(path: Path, data_only: bool) -> tuple[Any, IO[bytes]]:
    """The workbook, read-only, and its file, which the caller closes after the workbook. Given
    the open file, not its path, openpyxl reads it whatever its name (an XLSX workbook saved as
    .xls), and leaves it open."""
    handle = path.open("rb")
    try:
        return openpyxl.load_workbook(handle, read_only=True, data_only=data_only), handle
    except BaseException:
        handle.close()
        raise


def sheet_tables(
    sheets: Iterator[SheetCells], names: SpreadNames | None = None
) -> Iterator[SheetRows | SkippedSheet]:
    """The tables of a workbook's sheets, whatever its format (`xlsx_sheets`, xls.xls_sheets,
    html_tables.html_sheets, xml_spreadsheet.xml_sheets): each sheet that holds a report header,
    with its data rows, or the reason it holds none (a sheet without one is skipped, with the
    reason). `names`: the indicators and geographies a header may spread over its columns
    (`find_header`)."""
    for title, rows in sheets:
        try:
            match = find_header(
                [rows[r] for r in range(1, min(len(rows), HEADER_SEARCH_ROWS) + 1)], names
            )
            if match is None or match.missing:
                reason = (
                    "no report header (报告期, 城市/地区, 指标, 数值, or a column per "
                    f"indicator or geography) in its first {HEADER_SEARCH_ROWS} rows"
                )
                yield SkippedSheet(title, reason)
                continue
            yield from _tables(title, match, rows, names)
        except XlsxError:
            raise
        except Exception as exc:
            raise XlsxError(
                f"sheet {title!r} cannot be read ({type(exc).__name__}: {exc})"
            ) from exc


def _tables(
    title: str, match: HeaderMatch, rows: dict[int, list[str | None]], names: SpreadNames | None
) -> Iterator[SheetRows]:
    """The sheet's data rows under its header, and under each header that follows: tables
    stacked in one sheet (each city's block pasted below the last, its header with it), or a
    header repeated on each printed page. A header row is no data row, as the first one is not;
    a table below may order its columns otherwise, and its header span two or three rows (names
    over their bases or units). A row that repeats one of the first header's rows, or of the
    rows above it (a printed page's title, 单位：亿元), cell for cell, is no data row either; nor
    is a form's footer below a table (headers.footer_rows)."""
    first = match.row_index + 2
    above = {written_row(rows[r]) for r in range(1, first)} - {()}
    # The header's rows as written: the same header again (a printed page's) continues its table.
    header_rows = [written_row(rows[r]) for r in range(match.top_row_index + 1, first)]
    data: list[tuple[int, list[str | None]]] = []
    header_to = 0  # the last row of a header found below
    for excel_row in range(first, len(rows) + 1):
        cells = rows[excel_row]
        if excel_row <= header_to:
            continue
        position = match.positions[match.value_fields[0]]
        value = cells[position] if position < len(cells) else None
        # A data row's value is a number or blank; only a text value may be a header's.
        if value is not None and not value.strip()[:1].isdigit():
            again = find_header([cells], names)
            if again is not None:
                # Read with the rows below it, a header may span them.
                below = [rows[r] for r in range(excel_row, excel_row + 3) if r in rows]
                wider = find_header(below, names)
                if wider is not None and wider.top_row_index == 0:
                    again = wider
            # A form's header written again below gives the period and geography of its title
            # no more than the first did: the title above the first still does.
            if again is not None and not set(again.missing) - set(match.title_fields):
                header_to = excel_row + again.row_index
                written = [written_row(rows[r]) for r in range(excel_row, header_to + 1)]
                if written != header_rows:
                    yield _without_footer(SheetRows(title, match, first, data))
                    match, first, data = replace(again, title=match.title), header_to + 1, []
                    header_rows = written
                continue
        if written_row(cells) not in above:
            data.append((excel_row, cells))
    yield _without_footer(SheetRows(title, match, first, data))


def _without_footer(table: SheetRows) -> SheetRows:
    """A table without the form's footer below its rows (注：…, 填表人：…), dated by the
    footer's report date (报出日期：2026年11月5日) when neither a column nor its title dates it."""
    end = len(table.rows) - footer_rows([cells for _, cells in table.rows])
    footer = table.rows[end:]
    match = dated_by_footer(table.header, [cells for _, cells in footer], [r for r, _ in footer])
    return replace(table, header=match, rows=table.rows[:end])


class SavedValues:
    """The values Excel saved beside its formulas, as a person sees them. openpyxl reads either a
    cell's formula or the value saved with it, in two separate passes over the workbook: the
    second pass is made only for sheets that hold a formula, and its workbook opened once."""

    def __init__(self, path: Path, epoch: dt.datetime) -> None:
        self.path = path
        self.epoch = epoch
        self._workbook: Any = None
        self._handle: IO[bytes] | None = None

    def fill(
        self, title: str, rows: dict[int, list[str | None]], formulas: list[tuple[int, int]]
    ) -> None:
        """Each formula's cell in `rows` takes the value saved with it. A formula saved without
        one (a file written by a program that does not calculate) keeps its "=..." source."""
        if self._workbook is None:
            self._workbook, self._handle = _open(self.path, data_only=True)
        wanted: dict[int, list[int]] = {}
        for excel_row, col in formulas:
            wanted.setdefault(excel_row, []).append(col)
        last = max(wanted)
        for excel_row, row in enumerate(self._workbook[title].iter_rows(max_row=last), start=1):
            for col in wanted.get(excel_row, ()):
                text = _shown(row[col], self.epoch) if col < len(row) else None
                if text is not None:
                    rows[excel_row][col] = text

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
        if self._handle is not None:
            self._handle.close()
