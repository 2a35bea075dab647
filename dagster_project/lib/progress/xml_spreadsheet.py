"""Reading Excel 2003 XML spreadsheets (SpreadsheetML), as systems that "export to Excel" from a
template write them under an .xls name, and Excel and WPS open them.

Each <Worksheet> reads as a sheet: its cells at their places (ss:Index skips the cells and rows
left out), each as a person sees it under its style's number format (xlsx.cell_text: 0.047 under
0.0% is 4.7%, a date to the precision its format shows), a merged cell (ss:MergeAcross,
ss:MergeDown) as its value in every cell it covers, a cell's rich text as its text. The XML is
parsed with defusedxml, which refuses entity-expansion attacks, and its size held to the XLSX
limit (PLAN_TRACKER_MAX_XLSX_BYTES).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from defusedxml import EntitiesForbidden  # type: ignore[import-untyped]
from defusedxml.ElementTree import iterparse  # type: ignore[import-untyped]

from dagster_project.lib.progress.xlsx import (
    MAX_COLUMNS,
    MAX_ROWS,
    Merge,
    SheetCells,
    XlsxError,
    cell_text,
    check_size,
    fill_merged,
)

_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"
_RESAVE = "open it in Excel or WPS and save it as .xlsx"
# The formats SpreadsheetML names instead of writing their code.
_NAMED_FORMATS = {
    "general": "General",
    "general number": "General",
    "fixed": "0.00",
    "standard": "#,##0.00",
    "percent": "0.00%",
    "scientific": "0.00E+00",
    "general date": "yyyy-mm-dd h:mm",
    "long date": 'yyyy"年"m"月"d"日"',
    "medium date": "dd-mmm-yy",
    "short date": "yyyy-m-d",
}


def xml_sheets(path: Path, max_bytes: int) -> Iterator[SheetCells]:
    """Each worksheet's name and its rows as a person sees them (row number → cells)."""
    check_size(path, max_bytes, "spreadsheet")
    formats: dict[str, str] = {}
    rows: dict[int, list[str | None]] = {}
    merges: list[Merge] = []
    row_number = 0
    try:
        with path.open("rb") as stream:
            for event, element in iterparse(stream, events=("start", "end")):
                tag = element.tag
                if event == "start":
                    if tag == f"{_SS}Worksheet":
                        rows, merges, row_number = {}, [], 0
                    continue
                if tag == f"{_SS}Style":
                    number_format = element.find(f"{_SS}NumberFormat")
                    code = _attr(number_format, "Format") if number_format is not None else None
                    if code:
                        formats[_attr(element, "ID") or ""] = _NAMED_FORMATS.get(code.lower(), code)
                elif tag == f"{_SS}Row":
                    row_number = _index(element, row_number, MAX_ROWS, "row")
                    rows[row_number] = _row(element, row_number, formats, merges)
                    element.clear()
                elif tag == f"{_SS}Worksheet":
                    name = _attr(element, "Name") or ""
                    element.clear()
                    filled = {r: rows.get(r, []) for r in range(1, max(rows, default=0) + 1)}
                    fill_merged(filled, merges)
                    yield name, filled
    except XlsxError:
        raise
    except EntitiesForbidden as exc:
        raise XlsxError(
            f"not a readable XML spreadsheet: it declares entities ({exc.name}), refused as they "
            f"can expand beyond any memory; {_RESAVE}"
        ) from exc
    except Exception as exc:  # the XML's errors, a forbidden entity, an index that is no number
        raise XlsxError(
            f"not a readable XML spreadsheet ({type(exc).__name__}: {exc}); {_RESAVE}"
        ) from exc


def _row(
    element: Any, row_number: int, formats: dict[str, str], merges: list[Merge]
) -> list[str | None]:
    """A row's cells at their columns, the merged ranges it starts added to `merges`."""
    cells: list[str | None] = []
    col = 0
    for cell in element.iter(f"{_SS}Cell"):
        col = _index(cell, col, MAX_COLUMNS, f"row {row_number}: column")
        cells.extend([None] * (col - len(cells)))
        data = cell.find(f"{_SS}Data")
        style = formats.get(_attr(cell, "StyleID") or "", "General")
        cells[col - 1] = None if data is None else _shown(data, style)
        across = int(_attr(cell, "MergeAcross") or 0)
        down = int(_attr(cell, "MergeDown") or 0)
        if not (0 <= across <= MAX_COLUMNS - col and 0 <= down <= MAX_ROWS - row_number):
            raise XlsxError(
                f"not a readable XML spreadsheet: row {row_number}, column {col} is merged "
                f"across {across} and down {down}, beyond a sheet; {_RESAVE}"
            )
        if across or down:
            merges.append((row_number, col, row_number + down, col + across))
        col += across
    return cells


def _index(element: Any, before: int, most: int, what: str) -> int:
    """A row's or cell's place: its ss:Index (1-based), or the one after the last. Excel writes
    them in order and within a sheet's size; a file that does not is in error."""
    index = int(_attr(element, "Index") or before + 1)
    if not before < index <= most:
        raise XlsxError(
            f"not a readable XML spreadsheet: {what} {index} is out of order or beyond a "
            f"sheet's {most:,} (after {before}); {_RESAVE}"
        )
    return index


def _attr(element: Any, name: str) -> str | None:
    """An attribute, written ss:Name as Excel writes it, or without its prefix."""
    value = element.get(f"{_SS}{name}")
    return element.get(name) if value is None else value


def _shown(data: Any, code: str) -> str | None:
    """A cell's data as a person sees it under its number format."""
    text = "".join(data.itertext())
    kind = _attr(data, "Type") or "String"
    if not text.strip():
        return None
    if kind == "Number":
        try:
            number = float(text)
        except ValueError:
            return text
        return cell_text(number, code)
    if kind == "DateTime":
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return text
        return cell_text(moment, code)
    if kind == "Boolean":
        return cell_text(text.strip() == "1")
    return text
