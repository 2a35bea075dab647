"""Which reader reads a progress file: decided by its name and, for a workbook or what is named as
one, by its first bytes, as Excel and WPS open a file whatever its name.

- `.csv` is read as CSV; so are `.txt` and `.tsv` when they hold a table (a tab or comma in their
  first bytes: Excel's and WPS's 文本文件(制表符分隔) and Unicode 文本).
- `.xlsx`, `.xlsm`, `.xltx`, `.xltm`, `.xls`, `.xlt`, and a WPS spreadsheet (`.et`, `.ett`), are
  read as the workbook their bytes are: XLSX (a zip) or Excel 97–2003 (a compound document).
- What systems that "export to Excel" write under an `.xls` name is read as it is: a web page, an
  Excel 2003 XML spreadsheet, or a text table (as CSV); `.htm` and `.html` pages too, and `.xml`
  XML spreadsheets (Excel's "XML Spreadsheet 2003").
- Anything else is refused, saying what it is and how to save a file that is read.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from dagster_project.lib.progress.xls import OLE2_MAGIC

# Workbooks in the XLSX format: a workbook with macros (.xlsm) or saved as a template (.xltx,
# .xltm) holds its sheets in the same parts, which openpyxl reads alike; macros are not run.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
# Excel 97–2003 workbooks and templates, and what "export to Excel" writes under their name.
OLDER_WORKBOOK_SUFFIXES = (".xls", ".xlt")
# WPS's own spreadsheet names: read when their bytes are one of Excel's formats.
WPS_SUFFIXES = (".et", ".ett")
# Text tables Excel and WPS save besides CSV.
TEXT_SUFFIXES = (".txt", ".tsv")
# Web pages: Excel's "save as web page" (.htm), a system's HTML export; each table a sheet.
PAGE_SUFFIXES = (".htm", ".html")
# Excel's "XML Spreadsheet 2003" (XML 电子表格 2003) is saved as .xml.
XML_SUFFIXES = (".xml",)

_SAVE_AS = "save it as .xlsx (Excel or WPS: 文件 → 另存为 → Excel 工作簿 *.xlsx) or as CSV"
WPS_OWN_FORMAT = f"a WPS spreadsheet in a format of its own: {_SAVE_AS}"
# Spreadsheet formats offices still save in that are not read, and how to get one that is.
OLDER_FORMATS = {
    ".xlsb": f"an Excel binary workbook: {_SAVE_AS}",
    ".ods": f"an OpenDocument spreadsheet: {_SAVE_AS}",
    ".numbers": f"a Numbers spreadsheet: {_SAVE_AS}",
}


class UnreadableFormatError(ValueError):
    """A file no reader reads: the reason, and what to do."""


def reader_for(path: Path) -> str:
    """The reader of the file: "csv", "xlsx", "xls", "html" (a web page's tables) or "xml" (an
    Excel 2003 XML spreadsheet). Raises UnreadableFormatError for a file none reads."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (*WORKBOOK_SUFFIXES, *OLDER_WORKBOOK_SUFFIXES, *WPS_SUFFIXES):
        kind = workbook_format(path)
        if kind is not None:
            return kind
        if suffix in WPS_SUFFIXES:
            raise UnreadableFormatError(f"not read: {WPS_OWN_FORMAT}")
        if suffix in WORKBOOK_SUFFIXES:
            return "xlsx"  # whose reader says why it is none
        exported = exported_as(path)
        if exported is None:
            raise UnreadableFormatError(NOT_A_WORKBOOK)
        return "csv" if exported == "text" else exported
    if suffix in TEXT_SUFFIXES and exported_as(path) == "text":
        return "csv"
    if suffix in PAGE_SUFFIXES and exported_as(path) == "html":
        return "html"
    if suffix in XML_SUFFIXES and exported_as(path) == "xml":
        return "xml"
    how = OLDER_FORMATS.get(suffix)
    raise UnreadableFormatError(
        f"unsupported file type {suffix or '(none)'!r}: progress reports are .csv, .xlsx or .xls"
        + (" (a text file is read when it holds a table)" if suffix in TEXT_SUFFIXES else "")
        + (" (a web page is read when it holds a table)" if suffix in PAGE_SUFFIXES else "")
        + (" (an XML file is read when it is an XML spreadsheet)" if suffix in XML_SUFFIXES else "")
        + (f"; {how}" if how else "")
    )


def workbook_format(path: Path) -> str | None:
    """What a workbook's first bytes say it is, whatever its name: "xlsx" (a zip), "xls" (a
    compound document: an Excel 97–2003 workbook, or a password-protected XLSX one), or None."""
    with path.open("rb") as handle:
        start = handle.read(len(OLE2_MAGIC))
    if start.startswith(b"PK\x03\x04"):
        return "xlsx"
    if start == OLE2_MAGIC:
        return "xls"
    return None


def exported_as(path: Path) -> str | None:
    """What a file named as a workbook that is none holds, from its first bytes: "html" (a web
    page), "xml" (an Excel 2003 XML spreadsheet), "text" (a text table, as Excel's "Unicode
    text" too), or None. Systems that "export to Excel" often write one of these under an .xls
    name; Excel and WPS open each."""
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        start = start[2:].replace(b"\x00", b"")  # the ASCII marks looked for below suffice
    elif b"\x00" in start:
        return None  # binary
    lowered = start.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in lowered:
            return "xml"
        return (
            "html" if any(t in lowered for t in (b"<html", b"<table", b"<!doctype html")) else None
        )
    return "text" if b"\t" in start or b"," in start else None


# Why a file named as a workbook that is none, nor a web page, an XML spreadsheet or a text
# table, is not read, and what to do.
NOT_A_WORKBOOK = (
    "not an Excel workbook: its bytes are no workbook, web page, XML spreadsheet or text table; "
    f"open it in Excel or WPS and {_SAVE_AS}"
)
