"""Reading the tables of a web page saved as an Excel file (.xls), as many systems "export to
Excel": an HTML page whose tables Excel and WPS open as sheets. Each <table> reads as a sheet
would, named 表1, 表2, … in the page's order: each row as its cells' text as a person sees it (a
line break as one), a cell spanning rows or columns (rowspan, colspan) as its text in every cell
it covers, as a merged cell reads in a workbook. Python's own HTML parser reads the page: no
script is run, nothing is fetched, character references are decoded. Nested tables, which such
exports do not write, read as text of the cell that holds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

from dagster_project.lib.progress.files import EncodingError, detect_encoding
from dagster_project.lib.progress.xlsx import (
    MAX_COLUMNS,
    SheetCells,
    XlsxError,
    cell_text,
    check_filled,
    check_size,
)

# A number as a page shows it: its digits (grouped or not), then a percent sign or a unit.
_SHOWN_NUMBER = re.compile(r"([-+]?[\d,]*\.?\d+)\s*(%?)\s*(\D*)")
_SPACE = re.compile(r"[ \t\r\n\f\u00a0\u3000]+")


def html_sheets(path: Path, max_bytes: int) -> Iterator[SheetCells]:
    """Each table of the page, as a sheet: its name (表1, …) and its rows (row number → cells)."""
    check_size(path, max_bytes, "page")
    try:
        encoding = detect_encoding(path)
    except EncodingError as exc:
        raise XlsxError(f"a web page that cannot be read as text: {exc}") from exc
    parser = _Tables()
    try:
        parser.feed(path.read_text(encoding=encoding))
        parser.close()
    except XlsxError:
        raise
    except Exception as exc:  # html.parser asserts on a malformed declaration (<![ … )
        raise XlsxError(
            f"not a readable web page ({type(exc).__name__}: {exc}); open it in Excel or WPS "
            "and save it as .xlsx"
        ) from exc
    if not parser.tables:
        raise XlsxError("a web page (HTML) that holds no table")
    for number, rows in enumerate(parser.tables, start=1):
        yield f"表{number}", laid_out(rows)


Cell = tuple[str, int, int]  # text, rows spanned, columns spanned


class _Tables(HTMLParser):
    """The rows of each outermost table, each row its cells as written, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[Cell]]] = []
        self._depth = 0  # tables open
        self._row: list[Cell] | None = None
        self._text: list[str] | None = None  # the open cell's text
        self._span = (1, 1)
        self._number: str | None = None  # the open cell's x:num, the value Excel wrote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth != 1:
            if tag == "br" and self._text is not None:
                self._text.append("\n")
        elif tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._end_cell()
            if self._row is None:  # a cell outside any row: a row of its own
                self._row = []
            found = dict(attrs)
            self._span = (_span(found.get("rowspan")), _span(found.get("colspan")))
            self._number = found.get("x:num")
            self._text = []
        elif tag in ("br", "p", "div") and self._text is not None:
            self._text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._depth:
            if self._depth == 1:
                self._end_row()
            self._depth -= 1
        elif self._depth == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self._depth == 1 and tag == "tr":
            self._end_row()

    def close(self) -> None:
        """The end of the page ends the row and cell left open, as a browser shows them (a page
        cut short, or written without its closing tags)."""
        super().close()
        if self._depth:
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def _end_cell(self) -> None:
        if self._text is not None and self._row is not None:
            lines = (_SPACE.sub(" ", line).strip() for line in "".join(self._text).split("\n"))
            text = "\n".join(line for line in lines if line)
            self._row.append((_full_number(text, self._number), *self._span))
        self._text = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row is not None:
            self.tables[-1].append(self._row)
        self._row = None


def _full_number(shown: str, number: str | None) -> str:
    """A number Excel saved in a page (x:num="3.456") as the XLSX reader reads one, to its full
    precision, where the page shows it rounded (3.46), in percent (4.7%) or with its format's
    unit (1,234.5亿元). A cell shown otherwise (a date: its serial number) reads as shown."""
    shown_number = _SHOWN_NUMBER.fullmatch(shown)
    if number is None or shown_number is None:
        return shown
    digits, percent, unit = shown_number.groups()
    try:
        value = float(number)
        seen = float(digits.replace(",", ""))
    except ValueError:
        return shown
    # Only where the page shows the saved number rounded: not a date's serial number (10月), nor
    # a number shown scaled (in thousands).
    decimals = len(digits.partition(".")[2])
    if abs(seen - value * (100 if percent else 1)) > 0.5 * 10**-decimals * (1 + 1e-9):
        return shown
    return (cell_text(value, "0%" if percent else "General") or shown) + unit


def _span(value: str | None) -> int:
    try:
        return min(max(int((value or "1").strip()), 1), MAX_COLUMNS)
    except ValueError:
        return 1


def laid_out(rows: list[list[Cell]]) -> dict[int, list[str | None]]:
    """The table's grid: each cell at the first column its row leaves free (the cells above
    spanning down take theirs), its text in every cell it spans."""
    grid: dict[int, list[str | None]] = {number: [] for number in range(1, len(rows) + 1)}
    held: dict[int, set[int]] = {}  # row number → its columns taken by cells spanning down
    filled = 0
    for number, cells in enumerate(rows, start=1):
        taken = held.pop(number, set())
        col = 0
        for text, down, across in cells:
            while col in taken:
                col += 1
            if col + across > MAX_COLUMNS:
                raise XlsxError(
                    f"row {number} is wider than {MAX_COLUMNS:,} columns, a sheet's limit"
                )
            if down > 1 or across > 1:
                filled += (min(number + down, len(rows) + 1) - number) * across
                check_filled(filled)
            for r in range(number, min(number + down, len(rows) + 1)):
                line = grid[r]
                line.extend([None] * (col + across - len(line)))
                line[col : col + across] = [text or None] * across
                if r > number:
                    held.setdefault(r, set()).update(range(col, col + across))
            col += across
    return grid
