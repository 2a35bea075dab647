"""Reading XLSX progress reports safely.

An XLSX file is a zip of XML parts. Before anything is parsed, the zip's directory is checked: the
total uncompressed size must stay under a limit (a few kilobytes of "zip bomb" can inflate to
gigabytes of XML). openpyxl parses the XML with defusedxml when it is installed (it is a dependency
of this project), which refuses entity-expansion attacks. Cells come back as text, exactly as a
person typed them where possible: numbers without a spurious ".0", dates as ISO dates, and formulas
as their "=..." source (formulas are not evaluated; the rule on values rejects them). A merged
cell reads as its value in every cell it covers, as a person sees it: a city written once beside
its block of indicators, in a merged column, is that city on each of their rows.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import openpyxl
from defusedxml.ElementTree import iterparse  # type: ignore[import-untyped]
from openpyxl.utils.cell import range_boundaries

from dagster_project.lib.progress.headers import HEADER_SEARCH_ROWS, HeaderMatch, find_header

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


def cell_text(value: object) -> str | None:
    """A cell as the text a person sees."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


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
    for min_row, min_col, max_row, max_col in merges:
        top = rows.get(min_row)
        value = top[min_col - 1] if top is not None and min_col <= len(top) else None
        if value is None:
            continue
        for row_number in range(min_row, max_row + 1):
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


def read_workbook(
    path: Path, max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
) -> Iterator[SheetRows | SkippedSheet]:
    """Every sheet that holds a report header, with its data rows; sheets without one are yielded
    as skipped, with the reason."""
    check_archive(path, max_uncompressed_bytes)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for corrupt parts
        raise XlsxError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from exc
    try:
        for sheet in workbook.worksheets:
            try:
                # openpyxl's read-only sheet knows its part of the archive (a private attribute).
                merges = merged_ranges(path, sheet._worksheet_path)
                rows_iter = sheet.iter_rows(values_only=True)
                head: list[list[str | None]] = []
                for row in rows_iter:
                    head.append([cell_text(v) for v in row])
                    if len(head) >= HEADER_SEARCH_ROWS:
                        break
                fill_merged(dict(enumerate(head, start=1)), merges)
                match = find_header(head)
                if match is None or match.missing:
                    reason = (
                        "no report header (报告期, 城市/地区, 指标, 数值) in its first "
                        f"{HEADER_SEARCH_ROWS} rows"
                    )
                    yield SkippedSheet(sheet.title, reason)
                    continue
                data: list[tuple[int, list[str | None]]] = []
                excel_row = match.row_index + 2
                for cells in head[match.row_index + 1 :]:
                    data.append((excel_row, cells))
                    excel_row += 1
                for row in rows_iter:
                    data.append((excel_row, [cell_text(v) for v in row]))
                    excel_row += 1
                if merges:
                    # Ranges reaching below the rows searched for the header: filled again over
                    # every row read (cells filled already take the same value).
                    fill_merged(dict(enumerate(head, start=1)) | dict(data), merges)
                yield SheetRows(sheet.title, match, match.row_index + 2, data)
            except XlsxError:
                raise
            except Exception as exc:
                raise XlsxError(
                    f"sheet {sheet.title!r} cannot be read ({type(exc).__name__}: {exc})"
                ) from exc
    finally:
        workbook.close()
