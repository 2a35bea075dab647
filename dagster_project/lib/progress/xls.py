"""Reading Excel 97–2003 workbooks (.xls), as offices still save them: a statistics bureau's form,
a template handed down for years, WPS saving in the older format.

The file is a compound document (OLE2) of BIFF records, read by xlrd (pandas' own engine for the
format) with its formats, so that each cell reads as the XLSX reader reads it (xlsx.cell_text): a
number as a person sees it under its format (0.047 under 0.0% is 4.7%), a date to the precision
its format shows (2026-10 under yyyy"年"m"月", also under the East Asian built-in formats Excel
stores as a bare id), a merged cell as its value in every cell it covers. A formula reads as the
value Excel saved with it; a formula saved without one (a program that does not calculate) reads as
blank, since the format keeps no source text to show. The workbook is read whole into memory, so
its size is held to the same limit as an XLSX workbook's XML (PLAN_TRACKER_MAX_XLSX_BYTES).
Macros are never run: xlrd reads cells only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlrd

from dagster_project.lib.progress.xlsx import (
    EAST_ASIAN_FORMATS,
    Merge,
    SheetCells,
    XlsxError,
    cell_text,
    check_size,
    fill_merged,
)

# The first bytes of an OLE2 compound document: an .xls workbook, or an encrypted XLSX one.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream a password-protected XLSX workbook is kept in, within its compound document (the
# directory entry's name is UTF-16).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_PROTECTED = (
    "it is protected by a password: remove the password (文件 → 信息 → 保护工作簿) and save it"
)


def xls_sheets(path: Path, max_bytes: int) -> Iterator[SheetCells]:
    """Each sheet's title and its rows as a person sees them (Excel row number → cells)."""
    check_size(path, max_bytes, "workbook")
    contents = path.read_bytes()
    try:
        # xlrd writes its warnings (an odd record, a size that does not add up) to a log file.
        book = xlrd.open_workbook(
            file_contents=contents, formatting_info=True, on_demand=True, logfile=io.StringIO()
        )
    except Exception as exc:  # xlrd raises XLRDError, struct.error, AssertionError, …
        if _ENCRYPTED_PACKAGE in contents:
            raise XlsxError(f"not a readable workbook: {_PROTECTED}") from exc
        if "encrypted" in str(exc).lower():
            raise XlsxError(f"not a readable Excel 97–2003 workbook: {_PROTECTED}") from exc
        raise XlsxError(
            f"not a readable Excel 97–2003 workbook ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        for index, title in enumerate(book.sheet_names()):
            try:
                sheet = book.sheet_by_index(index)  # parsed here (on demand)
                rows = {
                    r + 1: [_shown(book, sheet.cell(r, c)) for c in range(sheet.row_len(r))]
                    for r in range(sheet.nrows)
                }
                fill_merged(rows, [_merge(*m) for m in sheet.merged_cells])
            except Exception as exc:  # xlrd's IndexError, KeyError, struct.error, …
                raise XlsxError(
                    f"sheet {title!r} cannot be read ({type(exc).__name__}: {exc})"
                ) from exc
            yield title, rows
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _merge(row_low: int, row_high: int, col_low: int, col_high: int) -> Merge:
    """xlrd's merged range (0-based, its ends excluded) as the XLSX reader's (1-based, included)."""
    return (row_low + 1, col_low + 1, row_high, col_high)


def _shown(book: Any, cell: Any) -> str | None:
    """A cell as a person sees it: its value under its number format."""
    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return cell.value or None  # a formula saved without its value reads as ''
    if kind == xlrd.XL_CELL_BOOLEAN:
        return cell_text(bool(cell.value))
    if kind == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(cell.value, "#N/A"))
    key = book.xf_list[cell.xf_index].format_key
    # The East Asian built-ins are stored as an id alone: xlrd knows them as dates, not their code.
    code = EAST_ASIAN_FORMATS.get(key) or book.format_map[key].format_str or "General"
    if kind == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell_text(cell.value)  # no date: the number, which the rules then refuse
        return cell_text(moment, code)
    return cell_text(cell.value, code)
