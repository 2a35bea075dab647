"""Landing progress reports: each new file version in one transaction, nothing lost.

For each file under raw/progress/ whose (path, SHA-256) is not yet in `raw.file_manifest`:
read it (CSV through DuckDB's own reader; XLSX through openpyxl), apply the rules of `rules.py`,
then insert in one transaction its good rows into `raw.progress_rows`, its bad rows verbatim into
`dq.quarantine` with a reason, and one `raw.file_manifest` row with the counts. A file that cannot
be read at all is `rejected` in the manifest with the reason; one whose header lacks a required
column (or names its value column with a note that is not a unit) is rejected with its rows
quarantined as read; the others still load. Re-running on the same files changes nothing; an
edited file (same path, new content) is a new version; content whose rows landed already under
another path lands nothing again, its manifest row naming that path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.lib.progress import value_checks
from dagster_project.lib.progress.files import (
    EncodingError,
    ProgressFile,
    contains_byte,
    detect_encoding,
    discover,
    head_lines,
    modified_at,
    sha256_of,
    tail_lines,
    transcode_to_utf8,
    unsafe_reason,
)
from dagster_project.lib.progress.formats import (
    WPS_OWN_FORMAT,
    WPS_SUFFIXES,
    UnreadableFormatError,
    reader_for,
)
from dagster_project.lib.progress.headers import (
    BASIS_VALUE_FIELDS,
    FIELD_LABELS,
    FIELDS,
    ITEM_MARK,
    REQUIRED_FIELDS,
    VALUE_FIELDS,
    HeaderMatch,
    SpreadNames,
    find_header,
    footer_rows,
    spread_field,
    spread_key,
    written_row,
)
from dagster_project.lib.progress.html_tables import html_sheets
from dagster_project.lib.progress.rules import PARSE_SQL, reason_rows
from dagster_project.lib.progress.titles import (
    PART_OF_YEAR,
    TitleValue,
    dated_by_footer,
    is_part_of_year,
    last_month_of_year_to_date,
)
from dagster_project.lib.progress.xls import xls_sheets
from dagster_project.lib.progress.xlsx import (
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    SheetCells,
    SheetRows,
    SkippedSheet,
    XlsxError,
    sheet_tables,
    xlsx_sheets,
)
from dagster_project.lib.progress.xml_spreadsheet import xml_sheets
from dagster_project.lib.sql import quote_literal, table_exists
from dagster_project.lib.text import lookup_key, sql_string_literal

log = logging.getLogger(__name__)

# Files whose rows go through the rules in one query: up to this many files or rows.
BATCH_FILES = 200
QUICK_CHECK_MARGIN = dt.timedelta(seconds=2)  # FAT's times are 2 s apart
# Each progress file's size and modification time when it was last hashed (ingest_progress).
FILE_HASHES_DDL = """
create table if not exists dq.file_hashes (
    source_file varchar primary key,
    file_size bigint,
    file_modified_at timestamp with time zone,
    file_sha256 varchar,
    hashed_at timestamp with time zone
)
"""
BATCH_ROWS = 1_000_000

PROGRESS_DDL = (
    """
    create table if not exists raw.progress_rows (
        source_file varchar not null,
        file_sha256 varchar not null,
        sheet varchar,
        source_row integer not null,
        loaded_at timestamp with time zone not null,
        run_id varchar,
        period_raw varchar,
        geography_raw varchar,
        indicator_raw varchar,
        value_raw varchar,
        unit_raw varchar,
        basis_raw varchar,
        reporter varchar,
        reported_on_raw varchar,
        note varchar,
        geo_id varchar not null,
        indicator_id varchar not null,
        period_grain varchar not null,
        basis varchar not null,
        period_start date not null,
        period_end date not null,
        value double,
        unit varchar not null,
        value_as_reported double,
        unit_as_reported varchar,
        reported_on date,
        is_reported boolean not null,
        source_column varchar
    )
    """,
    # The value column a row's value is from, in a form with a column per basis (本月 | 本年累计:
    # a report per column) or per indicator, geography or period; null where the values are in
    # one 数值 column. Added to warehouses made before it, as the last column, as here.
    "alter table raw.progress_rows add column if not exists source_column varchar",
    """
    create table if not exists dq.quarantine (
        source_file varchar not null,
        file_sha256 varchar not null,
        sheet varchar,
        source_row integer,
        column_name varchar,
        reason_code varchar not null,
        reason varchar not null,
        raw_record json,
        loaded_at timestamp with time zone not null,
        run_id varchar,
        other_reason_codes varchar[],
        source_column varchar
    )
    """,
    # The rules of other columns the row breaks besides reason_code's (named in its reason);
    # added to warehouses made before it.
    "alter table dq.quarantine add column if not exists other_reason_codes varchar[]",
    "alter table dq.quarantine add column if not exists source_column varchar",
    """
    create table if not exists raw.file_manifest (
        source_file varchar not null,
        file_sha256 varchar not null,
        file_size bigint,
        file_modified_at timestamp with time zone,
        file_type varchar,
        encoding varchar,
        sheets varchar,
        header_row integer,
        status varchar not null,
        rows_in bigint not null,
        rows_loaded bigint not null,
        rows_quarantined bigint not null,
        reason varchar,
        loaded_at timestamp with time zone not null,
        run_id varchar,
        primary key (source_file, file_sha256)
    )
    """,
)

RAW_COLUMNS = {
    "period": "period_raw",
    "geography": "geography_raw",
    "indicator": "indicator_raw",
    "value": "value_raw",
    "unit": "unit_raw",
    "basis": "basis_raw",
    "reporter": "reporter",
    "reported_on": "reported_on_raw",
    "note": "note",
}


@dataclass
class FileOutcome:
    source_file: str
    file_sha256: str
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason: str | None = None
    encoding: str | None = None
    sheets: list[str] = field(default_factory=list)
    header_row: int | None = None
    values_to_check: int = 0  # landed values far from the report before them (value_checks.py)


class FileRejectedError(Exception):
    """The file cannot be read at all; `reason` says why, for a person."""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in PROGRESS_DDL:
        con.execute(ddl)
    value_checks.ensure_tables(con)


def delimiter_of(sample: str) -> str:
    """The delimiter of a CSV sample: comma, tab, semicolon (Excel in some locales) or bar."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _cells_table_from_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    encoding: str,
    scratch: Path,
    names: SpreadNames | None = None,
) -> tuple[HeaderMatch, str | None]:
    """Load a CSV's data rows into temp table `cells` (c0..cN, source_row, sheet and the columns
    of `_row_meta`) with DuckDB's reader. Returns the header found and the name of a transcoded
    copy to delete, if any."""
    lines = head_lines(path, encoding, 40)
    if not lines:
        raise FileRejectedError("the file is empty")
    try:
        rows = list(csv.reader(io.StringIO("".join(lines)), delimiter=delimiter_of("".join(lines))))
    except csv.Error as exc:
        raise FileRejectedError(f"the file cannot be parsed as CSV: {exc}") from exc
    match = find_header(rows, names)
    if match is None:
        raise FileRejectedError(
            "no header row: none of the first rows names the columns 报告期 (period), "
            "城市/地区 (geography), 指标 (indicator) and 数值 (value), or a column per "
            "indicator beside 城市/地区 (地区, 技术合同成交额) or per geography beside 指标 "
            "(指标, 黄石, 鄂州)"
        )
    match = resolve_title(con, match)
    delimiter = delimiter_of("".join(lines[match.row_index :]))
    utf8 = path
    transcoded = None
    if encoding not in ("utf-8", "utf-8-sig"):
        transcoded = scratch / f"transcoded-{uuid.uuid4().hex}.csv"
        transcode_to_utf8(path, encoding, transcoded)
        utf8 = transcoded
    # The header's physical line: rows before it may span several lines only in odd files, so
    # count lines, not records, up to the header.
    header_line = _physical_line_of_record(lines, match.row_index, delimiter)
    width = max(len(match.headers), 1)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    first_row = match.row_index + 2
    # A form's footer below the table (注：…, 填表人：…; headers.footer_rows) is no row; its
    # report date (报出日期：2026年11月5日) dates the rows when no column or title does.
    footer = _footer(utf8, delimiter)
    match = dated_by_footer(match, footer)
    meta = _row_meta(match, match.value_fields, match.title_fields, match.title_year is not None)
    if len(lines) < 40 and len(lines) <= header_line + 1:
        # Nothing after the header: DuckDB's reader would have nothing to sniff.
        cells = ", ".join(f"cast(null as varchar) as c{i}" for i in range(width))
        nulls = ", ".join(f"cast(null as varchar) as {name}" for name, _ in meta)
        con.execute(
            f"create or replace temp table cells as select {cells}, "
            f"cast(null as integer) as source_row, cast(null as varchar) as sheet, {nulls} "
            "where false"
        )
        return match, str(transcoded) if transcoded else None
    # DuckDB reads in parallel unless a quoted field may hold a line break, which only the
    # sequential reader handles together with padding short rows.
    parallel = "false" if contains_byte(utf8, b'"') else "true"
    # Identifiers c0..cN are ours; the path and delimiter are bound through quote_literal as
    # read_csv takes no prepared parameters; nothing from the file's content enters the SQL.
    # The dialect is known (the delimiter sniffed above, quotes doubled): DuckDB's own sniffer,
    # which expects every line as wide as the header, is off — it refused a whole file over one
    # short line below the table (注：数据为快报数) without naming it.
    con.execute(
        f"""
        create or replace temp table cells as
        select * from read_csv(
            {quote_literal(str(utf8))},
            header = false,
            skip = {header_line + 1},
            columns = {columns},
            delim = {quote_literal(delimiter)},
            quote = '"',
            escape = '"',
            null_padding = true,
            strict_mode = false,
            ignore_errors = false,
            max_line_size = 4194304,
            parallel = {parallel},
            auto_detect = false
        )
        """  # noqa: S608
    )
    # The header written again below (on each printed page, or files pasted together) is no
    # data row, as the header itself is not: its period and value cells name their columns.
    # (A header that lacks one rejects the file, its rows kept as read.) Identifiers c0..cN
    # only; the header's names are bound.
    named = [f for f in ("period", *match.value_fields[:1]) if f in match.positions]
    repeated = " and ".join(f"trim(c{match.positions[f]}) = ?" for f in named) or "false"
    # So is a row that repeats, cell for cell, a row above the header (a printed page's title,
    # 单位：亿元) or of a header over two or three rows (names over their bases or units). None in
    # a file of a header row alone: no cost at scale.
    above = rows[: match.row_index + 1 if match.header_rows > 1 else match.row_index]
    again = {w for w in map(written_row, above) if w and len(w) <= width}
    # Nor is the footer, its cells beyond the header's dropped by the reader as they are here.
    again |= {written_row(cells[:width]) for cells in footer} - {()}
    each = " and ".join(f"coalesce(trim(c{i}), '') = ?" for i in range(width))
    repeated += "".join(f" or ({each})" for _ in again)
    bound_meta = ", ".join(f"cast(? as varchar) as {name}" for name, _ in meta)
    con.execute(
        "create or replace temp table cells as "  # noqa: S608
        "select *, cast(rowid + ? as integer) as source_row, cast(null as varchar) as sheet, "
        f"{bound_meta} from cells where not coalesce({repeated}, false)",
        [
            first_row,
            *(value for _, value in meta),
            *(match.headers[match.positions[f]].strip("\ufeff \t") for f in named),
            *(cell for w in sorted(again) for cell in w + ("",) * (width - len(w))),
        ],
    )
    return match, str(transcoded) if transcoded else None


def _footer(path: Path, delimiter: str) -> list[list[str]]:
    """The rows of a form's footer at the end of a UTF-8 CSV, as read."""
    try:
        rows = list(
            csv.reader(io.StringIO("".join(tail_lines(path, "utf-8"))), delimiter=delimiter)
        )
    except csv.Error:  # the tail began inside a quoted cell
        return []
    return rows[len(rows) - footer_rows(rows) :]


def _physical_line_of_record(lines: list[str], record_index: int, delimiter: str) -> int:
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    try:
        for index, _ in enumerate(reader):
            if index == record_index:
                return reader.line_num - 1
    except csv.Error:
        pass
    return record_index


def spread_names(con: duckdb.DuckDBPyConnection) -> dict[str, frozenset[str]]:
    """The names a table may spread over its value columns, by field: the lookup keys of the
    catalog's indicators and geographies (`headers.SPREAD_FIELDS`), and of the units a column's
    header may note after the name."""
    tables = {
        "indicator": "raw.indicator_aliases",
        "geography": "raw.geography_aliases",
        "unit": "raw.unit_aliases",
    }
    names: dict[str, frozenset[str]] = {}
    for field_name, table in tables.items():
        if not table_exists(con, *table.split(".")):
            names[field_name] = frozenset()
            continue
        sql = f"select distinct alias_key from {table}"  # noqa: S608 - ours
        names[field_name] = frozenset(spread_key(key) for (key,) in con.execute(sql).fetchall())
    return names


def resolve_title(con: duckdb.DuckDBPyConnection, match: HeaderMatch) -> HeaderMatch:
    """The header with the geography its title names, when the title gives the geography and no
    column does: the name after its label as written, else the one catalog geography the
    reporter's text names (黄石市科技局: 黄石市), else the title's other text's (the longest name
    at each place: 武汉都市圈, not 武汉; an area and one of its members, as a plan's title and
    the city reporting under it: the member). A title that names none, or several, gives none:
    the header lacks the geography, and the title's problems say why."""
    title = match.title
    if title is None or "geography" not in match.title_fields or title.geography is not None:
        return match
    aliases = con.execute(
        "select alias, alias_key, geo_id from raw.geography_aliases where length(alias_key) > 1"
    ).fetchall()
    parent = dict(con.execute("select geo_id, parent_geo_id from raw.geographies").fetchall())
    for text in title.geography_texts:
        key = lookup_key(text.text)
        found = [(key.find(k), len(k), alias, geo) for alias, k, geo in aliases if k in key]
        # A name within a longer one found in the same text (武汉 in 武汉都市圈) is not one.
        spans = [(start, start + size) for start, size, _, _ in found]
        named = {
            geo: alias
            for start, size, alias, geo in found
            if not any(
                s <= start and start + size <= e and (s, e) != (start, start + size)
                for s, e in spans
            )
        }
        # The plan's area and one of its members (武汉都市圈…（黄石市）): the member's report.
        members = {geo: alias for geo, alias in named.items() if geo not in parent.values()}
        if (
            len(named) > 1
            and len(members) == 1
            and all(geo in members or geo == parent.get(next(iter(members))) for geo in named)
        ):
            named = members
        if len(named) == 1:
            (alias,) = named.values()
            geography = TitleValue(alias, text.row_index, labelled=False)
            return replace(match, title=replace(title, geography=geography))
        if len(named) > 1:
            problem = f"the title names several geographies ({', '.join(sorted(named.values()))})"
            break
    else:
        problem = "the title names no geography of reference/geographies.csv"
    return replace(
        match, title=replace(title, geography_texts=(), problems=(*title.problems, problem))
    )


# The fields a title may give for every row of its table (titles.py).
TITLE_FIELDS = ("period", "geography", "unit", "reported_on")


def _row_meta(
    match: HeaderMatch,
    value_fields: Sequence[str] = VALUE_FIELDS,
    title_fields: Sequence[str] = TITLE_FIELDS,
    year: bool = True,
) -> list[tuple[str, str | None]]:
    """The constant columns `cells` carries row by row on the row's header, (name, value): those
    of its value columns `value_fields` and of its title's `title_fields`, and with `year` the
    one year its title names for period cells without it (`title_year`: 9月 is 2026年9月)."""
    meta = _value_meta(match, value_fields) + _title_meta(match, title_fields)
    return [*meta, ("title_year", match.title_year)] if year else meta


def _title_meta(
    match: HeaderMatch, fields: Sequence[str] = TITLE_FIELDS
) -> list[tuple[str, str | None]]:
    """The columns `cells` carries on the `fields` the title gives (period, geography, unit,
    report date): what it gives (`title_<field>`), and where (`title_<field>_from`: "the title,
    row 2"). In a form with a value column per basis, a title's months from January
    (2026年1-10月) are the month's report's period (本月: October) and the running total's
    (本年累计: January to October). A CSV carries those its title gives only (constant columns:
    `_value_meta`); a workbook's sheets, every one."""
    meta: list[tuple[str, str | None]] = []
    for f in fields:
        value = getattr(match.title, f, None) if f in match.title_fields else None
        text = value.text if value is not None else None
        if f == "period" and text is not None and match.is_by_basis:
            text = last_month_of_year_to_date(text)
        meta += [
            (f"title_{f}", text),
            (f"title_{f}_from", value.where if value else None),
        ]
    return meta


def _title_hint(match: HeaderMatch) -> str:
    """For a header that lacks the period or geography below a title (or a spread table's, with
    none above it), why the title gave neither, and how a form gives them above its header; else
    nothing."""
    if not {"period", "geography"} & set(match.missing):
        return ""
    if match.title is None and not match.spread:
        return ""
    problems = match.title.problems if match.title is not None else ()
    return "".join(f" ({problem})" for problem in problems) + (
        "; a form may give its period and geography above its header instead, after their "
        "labels: 报告期：2026年10月, 地区：黄石"
    )


def _undated_hint(match: HeaderMatch) -> str:
    """For a header that lacks the period, its columns that name parts of a year without the year
    (8月, 一季度) — a table by month whose title names no one year —, and how to give it."""
    if "period" not in match.missing:
        return ""
    undated = [h for h in match.unread_columns if is_part_of_year(h)]
    if not undated:
        return ""
    return (
        f" (columns {', '.join(undated)} name parts of a year without the year, and the rows "
        "above the header name no one year: write 2026年8月, or the year in the title)"
    )


def _value_meta(
    match: HeaderMatch, fields: Sequence[str] = VALUE_FIELDS
) -> list[tuple[str, str | None]]:
    """The columns `cells` carries, row by row, on the value columns `fields` of the row's header:
    `header_<field>`, the column's header as written (null where the header has no such column),
    `note_<field>`, what it notes in brackets (数值（亿元）: the values' unit) and, for a value
    column of a basis, `name_<field>`, its header without the note (本年累计: the basis) — of a
    spread table's, the name it spreads, and `basis_<field>`, the basis written below it. A CSV
    carries those of its own value columns only: each is a constant column of every row, and at
    9M rows each costs ~0.1 s."""
    meta: list[tuple[str, str | None]] = []
    for f in fields:
        present = f in match.positions
        meta += [
            (f"header_{f}", match.header_of(f) if present else None),
            (f"note_{f}", match.notes.get(f)),
        ]
        if f != "value":
            meta.append((f"name_{f}", match.name_of(f) if present else None))
        if spread_field(f):
            meta.append((f"basis_{f}", match.bases.get(f)))
    return meta


def _cells_table_from_sheets(
    con: duckdb.DuckDBPyConnection, sheets: list[SheetRows]
) -> HeaderMatch:
    """Load every report sheet of a workbook into temp table `cells`, columns aligned by field so
    that sheets with different column orders combine; a spread table's value columns by the name
    they spread (a 技术合同成交额 column is one field in every sheet)."""
    sheets, spread = _spread_by_name(sheets)
    fields = [*FIELDS, *BASIS_VALUE_FIELDS, *spread]
    value_fields = [*VALUE_FIELDS, *spread]
    data: dict[str, list[object]] = {f"c{i}": [] for i in range(len(fields))}
    data["source_row"] = []
    data["sheet"] = []
    meta_names = [name for name, _ in _row_meta(sheets[0].header, value_fields)]
    for name in meta_names:
        data[name] = []
    for sheet in sheets:
        meta = _row_meta(sheet.header, value_fields)
        for excel_row, cells in sheet.rows:
            for i, f in enumerate(fields):
                pos = sheet.header.positions.get(f)
                data[f"c{i}"].append(cells[pos] if pos is not None and pos < len(cells) else None)
            data["source_row"].append(excel_row)
            data["sheet"].append(sheet.sheet)
            for name, value in meta:
                data[name].append(value)
    table = pa.table(
        {
            **{f"c{i}": pa.array(data[f"c{i}"], pa.string()) for i in range(len(fields))},
            "source_row": pa.array(data["source_row"], pa.int32()),
            "sheet": pa.array(data["sheet"], pa.string()),
            **{name: pa.array(data[name], pa.string()) for name in meta_names},
        }
    )
    con.register("_sheet_cells", table)
    try:
        con.execute("create or replace temp table cells as select * from _sheet_cells")
    finally:
        con.unregister("_sheet_cells")
    # The sheets' value columns: each sheet's are in its rows' `_row_meta` columns.
    present = {f for sheet in sheets for f in sheet.header.positions}
    positions = {f: i for i, f in enumerate(fields) if f not in value_fields or f in present}
    notes = {f: n for sheet in sheets for f, n in sheet.header.notes.items()}
    bases = {f: b for sheet in sheets for f, b in sheet.header.bases.items()}
    labels = {f: spread[f] for f in spread} | FIELD_LABELS
    unread: dict[str, dict[str, None]] = {}
    for sheet in sheets:
        for way, headers in sheet.header.unread_by_spread.items():
            unread.setdefault(way, {}).update(dict.fromkeys(headers))
    return HeaderMatch(
        sheets[0].header.row_index,
        positions,
        tuple(labels[f] for f in fields),
        notes,
        unread={way: tuple(headers) for way, headers in unread.items()},
        bases=bases,
    )


def _spread_by_name(sheets: list[SheetRows]) -> tuple[list[SheetRows], dict[str, str]]:
    """The sheets with their spread tables' value columns renamed by the name each spreads, one
    field per name across the workbook, and those fields with a header of theirs."""
    fields: dict[tuple[str | None, str, str | None], str] = {}
    headers: dict[str, str] = {}
    renamed = []
    for sheet in sheets:
        match = sheet.header
        if not match.spread:
            renamed.append(sheet)
            continue
        names: dict[str, str] = {}
        for f in match.spread_fields:
            basis = match.bases.get(f)
            key = (match.spread, spread_key(match.name_of(f)), basis and lookup_key(basis))
            if key not in fields:
                fields[key] = f"spread_{match.spread}_{len(fields)}"
                headers[fields[key]] = match.header_of(f)
            names[f] = fields[key]
        header = replace(
            match,
            positions={names.get(f, f): i for f, i in match.positions.items()},
            notes={names.get(f, f): n for f, n in match.notes.items()},
            names={names[f]: match.name_of(f) for f in match.spread_fields},
            bases={names[f]: b for f, b in match.bases.items()},
        )
        renamed.append(replace(sheet, header=header))
    return renamed, headers


def _cells_columns(con: duckdb.DuckDBPyConnection, file_no: int) -> set[str]:
    """The columns of `cells_<file_no>`."""
    sql = f"select * from cells_{file_no} limit 0"  # noqa: S608 - an integer
    return {d[0] for d in con.execute(sql).description}


def _incoming_select(match: HeaderMatch, file_no: int, columns: set[str]) -> str:
    """The canonical fields of `cells_<file_no>` (whose columns are `columns`), blank rows
    dropped (a blank line is no row). A row with a value column per basis (本月 | 本年累计) is a
    report per column, its basis the column's name, and so is a row of a spread table, its
    indicator or geography the column's name; the reports of a row of 数值 have none
    (source_column null). A period or geography the title gives is every row's that gives none."""
    present = [f"c{match.positions[f]}" for f in match.positions]
    not_blank = " or ".join(f"nullif(trim({c}), '') is not null" for c in present)
    parts = []
    for vf in match.value_fields:
        selects = []
        for f in FIELDS:
            pos = match.positions.get(vf if f == "value" else f)
            cell = f"nullif(trim(c{pos}), '')" if pos is not None else "cast(null as varchar)"
            if f == "unit":
                # 数值（亿元）: the header's unit where the row gives none.
                cell = f"coalesce({cell}, note_{vf})"
            elif (f == "basis" and vf in BASIS_VALUE_FIELDS) or f == spread_field(vf):
                cell = f"name_{vf}"
            elif f == "basis" and spread_field(vf):
                cell = f"coalesce(basis_{vf}, {cell})"
            if f == "period" and "title_year" in columns:
                # 9月 under a title of one year, 2026年: 2026年9月.
                cell = (
                    f"case when title_year is not null and regexp_full_match(pt_halfwidth({cell}), "
                    f"{sql_string_literal(PART_OF_YEAR)}) then title_year || '年' || {cell} "
                    f"else {cell} end"
                )
            if f"title_{f}" in columns:
                cell = f"coalesce({cell}, title_{f})"
            selects.append(f"{cell} as {RAW_COLUMNS[f]}")
        source_column = f"header_{vf}" if vf != "value" else "cast(null as varchar)"
        # Identifiers only (c0..cN, our column names, an integer); no value from the file.
        parts.append(
            f"select {file_no} as file_no, source_row, sheet, "  # noqa: S608
            f"{source_column} as source_column, {', '.join(selects)} "
            f"from cells_{file_no} where header_{vf} is not null and ({not_blank})"
        )
    return " union all ".join(parts)


def _drop_headings(con: duckdb.DuckDBPyConnection, match: HeaderMatch, file_no: int) -> None:
    """Delete from `cells_<file_no>` a summary table's section headings (一、成果转化,
    （二）企业培育: no row, as a title is not): a row whose one cell with text is numbered as a
    list's item (headers.ITEM_MARK) and is no indicator or geography with its number off (1.黄石
    is a city that reports nothing), its value cells empty. Their emptiness is tested first:
    DuckDB skips a file's rows of figures on its column statistics (6 ms at 9M rows)."""
    texts = [f"nullif(trim(c{match.positions[f]}), '')" for f in match.positions]
    empty = " and ".join(f"c{match.positions[vf]} is null" for vf in match.value_fields)
    mark = sql_string_literal(ITEM_MARK)
    first = f"pt_lookup_key(coalesce({', '.join(texts)}))"
    one = " + ".join(f"({t} is not null)::int" for t in texts)
    con.execute(
        f"delete from cells_{file_no} where {empty} and {one} = 1 "  # noqa: S608 - c0..cN, ours
        f"and regexp_matches({first}, {mark}) and regexp_replace({first}, {mark}, '') not in "
        "(select alias_key from raw.indicator_aliases "
        "union all select alias_key from raw.geography_aliases)"
    )


def _raw_record_sql(match: HeaderMatch, first_param: int) -> tuple[str, list[str]]:
    """A JSON object of every cell of the row under its own header, keys bound as parameters
    numbered from `first_param`."""
    parts, params = [], []
    for i, header in enumerate(match.headers):
        parts.append(f"?{first_param + i}, cells.c{i}")
        params.append(header or f"column {i + 1}")
    return f"json_object({', '.join(parts)})", params


def _create_reasons(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create or replace temp table reasons "
        "(reason_code varchar, column_label varchar, field varchar, problem varchar, "
        "expected varchar)"
    )
    con.executemany("insert into reasons values (?, ?, ?, ?, ?)", reason_rows())


# The unknown names a quarantine message suggests a catalog name for, and how many distinct
# spellings of one file are compared with the catalog, the first by name: a file of garbage must
# not cost a cross join of millions (200 against the bench's 12,000 geography names: 0.3 s).
NEAR_NAME_REASONS = {
    "geography_unknown": ("geography_raw", "raw.geography_aliases"),
    "indicator_unknown": ("indicator_raw", "raw.indicator_aliases"),
    "unit_unknown": ("unit_raw", "raw.unit_aliases"),
}
NEAR_NAME_MAX_SPELLINGS = 200
# Jaro-Winkler similarity of the lookup keys from which a catalog name is offered: '黄石石' →
# '黄石' (0.91), '技术合同成交额x' → '技术合同成交额' (0.98); below it, nothing is offered.
NEAR_NAME_MIN_SIMILARITY = 0.85


def _near_names(con: duckdb.DuckDBPyConnection, file_no: int) -> None:
    """Temp table `near_names` (reason_code, got, near): for each unknown geography, indicator or
    unit of file `file_no`, the catalog name nearest to it, when one is near enough — what the
    sender most likely meant, for the quarantine message. Hand-written: neither DuckDB nor dbt
    suggests names; DuckDB gives the similarity."""
    spellings = " union all ".join(
        # Codes and columns are this module's constants.
        f"select distinct '{code}' as reason_code, {column} as got from parsed "  # noqa: S608
        f"where file_no = ? and (reason_code = '{code}' "
        f"or list_contains(other_reason_codes, '{code}'))"
        for code, (column, _) in NEAR_NAME_REASONS.items()
    )
    names = " union all ".join(
        f"select '{code}' as reason_code, alias, alias_key from {table}"  # noqa: S608
        for code, (_, table) in NEAR_NAME_REASONS.items()
    )
    con.execute(
        f"""
        create or replace temp table near_names as
        with unknown as (
            select *, pt_lookup_key(got) as got_key
            from ({spellings})
            where got is not null
            order by reason_code, got
            limit {NEAR_NAME_MAX_SPELLINGS}
        ),
        scored as (
            select
                unknown.reason_code,
                unknown.got,
                names.alias,
                jaro_winkler_similarity(unknown.got_key, names.alias_key) as similarity
            from unknown
            inner join ({names}) as names on unknown.reason_code = names.reason_code
        )
        select reason_code, got, first(alias order by similarity desc, alias) as near
        from scored
        where similarity >= {NEAR_NAME_MIN_SIMILARITY}
        group by reason_code, got
        """,  # noqa: S608 - codes, columns, tables and numbers are this module's constants
        [file_no] * len(NEAR_NAME_REASONS),
    )


# How many other rows of the same key a conflicting or duplicate row's message names.
SAME_KEY_SHOWN = 3


def _same_key_rows(con: duckdb.DuckDBPyConnection, file_no: int, any_repeated: bool) -> None:
    """Temp table `same_key` (source_row, sheet, source_column, others): for each row of file
    `file_no`
    quarantined as conflicting_rows or duplicate_row, the first other rows of the file with its
    geography, indicator and period, and what they give (`row 3 gives '2.7'`) — what the sender
    must reconcile. Hand-written: the rules only flag the rows. Each flagged row is joined to the
    first rows of its key only, numbered by a window (a file of 500,000 rows each sent twice:
    0.65 s, against 0.9–1.3 s for a list of each key's rows filtered row by row)."""
    con.execute(
        f"""
        create or replace temp table same_key as
        with numbered as (
            select
                source_row, sheet, source_column, basis, geo_id, indicator_id, period_start,
                period_end, is_reported, value_raw, reason_code,
                row_number() over (
                    key_rows order by source_row, sheet, basis = 'ytd', source_column
                ) as key_rank,
                -- The whole key, not a running count (a window with an order ends at its row).
                count(*) filter (where reason_code is not null) over key_rows as flagged_in_key
            from parsed
            where {str(any_repeated).lower()} and file_no = ?
                and (reason_code is null or reason_code in ('conflicting_rows', 'duplicate_row'))
            window key_rows as (
                partition by geo_id, indicator_id, period_start, period_end, is_reported
            )
        ),

        kept as (
            -- The flagged rows, and the first rows of their keys to name.
            select *
            from numbered
            where
                flagged_in_key > 0
                and (key_rank <= {SAME_KEY_SHOWN + 1} or reason_code is not null)
        )

        select
            flagged.source_row,
            flagged.sheet,
            flagged.source_column,
            array_to_string(
                list(
                    concat_ws(
                        ' ', 'sheet ' || other.sheet, 'row ' || other.source_row,
                        '(' || other.source_column || ')',
                        'gives ' || coalesce('''' || other.value_raw || '''', 'a blank')
                    )
                    order by other.key_rank
                )[1:{SAME_KEY_SHOWN}],
                ', '
            ) as others
        from kept as flagged
        inner join kept as other
            on flagged.geo_id = other.geo_id
            and flagged.indicator_id = other.indicator_id
            and flagged.period_start = other.period_start
            and flagged.period_end = other.period_end
            and flagged.is_reported = other.is_reported
            and other.key_rank <= {SAME_KEY_SHOWN + 1}
            and other.key_rank <> flagged.key_rank
        where flagged.reason_code is not null
        group by flagged.source_row, flagged.sheet, flagged.source_column
        """,  # noqa: S608 - a boolean and integers of ours; the file number is a parameter
        [file_no],
    )


def _land(
    con: duckdb.DuckDBPyConnection,
    file: ProgressFile,
    sha: str,
    match: HeaderMatch,
    file_no: int,
    loaded_at: dt.datetime,
    run_id: str,
) -> tuple[int, int, int]:
    """Insert the parsed rows of file `file_no` of the batch (inside the caller's transaction);
    returns (rows in, loaded, quarantined)."""
    common = [file.relative, sha, loaded_at, run_id]
    # In the order the rules query gives them, unsorted: a table has no order (readers order by
    # source_row), and sorting 9M rows on the way in cost 3 s.
    con.execute(
        """
        insert into raw.progress_rows
        select
            ? as source_file, ? as file_sha256, sheet, source_row, ? as loaded_at, ? as run_id,
            period_raw, geography_raw, indicator_raw, value_raw, unit_raw, basis_raw, reporter,
            reported_on_raw, note, geo_id, indicator_id, period_grain, basis, period_start,
            period_end, value, unit, value_as_reported, unit_as_reported, reported_on, is_reported,
            source_column
        from parsed
        where reason_code is null and file_no = ?
        """,
        [*common, file_no],
    )
    rows_in, loaded, quarantined, repeated = con.execute(
        "select count(*), count(*) filter (where reason_code is null), "
        "count(*) filter (where reason_code is not null), "
        "count(*) filter (where reason_code in ('conflicting_rows', 'duplicate_row')) "
        "from parsed where file_no = ?",
        [file_no],
    ).fetchone()  # type: ignore[misc]
    if not quarantined:  # the quarantine query joins every row back to its cells: 0.9 s at 9M
        return int(rows_in), int(loaded), int(quarantined)
    _near_names(con, file_no)
    _same_key_rows(con, file_no, bool(repeated))
    record_sql, record_params = _raw_record_sql(match, first_param=len(common) + 2)
    raw_field = {f: RAW_COLUMNS[f] for f in FIELDS}
    value_of_field = (
        "case reasons.field "
        + " ".join(f"when '{f}' then parsed.{c}" for f, c in raw_field.items())
        + " end"
    )
    # A value's column is its own header in a form with a column per basis (本月 | 本年累计),
    # indicator, geography or period; a period or geography read from the title says so.
    columns = _cells_columns(con, file_no)
    from_title = "".join(
        f"when reasons.field = '{f}' and cells.title_{f} is not null "
        f"and parsed.{RAW_COLUMNS[f]} is not distinct from cells.title_{f} "
        f"then reasons.column_label || ' (from ' || cells.title_{f}_from || ')' "
        for f in TITLE_FIELDS
        if f"title_{f}_from" in columns
    )
    column_label = (
        "case when reasons.field = 'value' then coalesce(parsed.source_column, "
        f"reasons.column_label) {from_title}else reasons.column_label end"
    )
    con.execute(
        f"""
        insert into dq.quarantine (
            source_file, file_sha256, sheet, source_row, column_name, reason_code, reason,
            raw_record, loaded_at, run_id, other_reason_codes, source_column
        )
        select
            ?1 as source_file,
            ?2 as file_sha256,
            parsed.sheet,
            parsed.source_row,
            {column_label} as column_name,
            parsed.reason_code,
            concat_ws(', ',
                ?1,
                case when parsed.sheet is not null then 'sheet ' || parsed.sheet end,
                'row ' || parsed.source_row || case when reasons.field <> 'value'
                    then coalesce(' (' || parsed.source_column || ')', '') else '' end,
                'column ' || {column_label}
            ) || ': ' || reasons.problem
                || coalesce(
                    ' (got ''' || {value_of_field} || ''''
                        || coalesce('; ' || same_key.others, '') || ')',
                    ' (blank)'
                )
                || '; expected ' || reasons.expected
                || coalesce('; did you mean ''' || near_names.near || '''?', '')
                || coalesce(' — also ' || also.problems, '') as reason,
            {record_sql} as raw_record,
            ?3 as loaded_at,
            ?4 as run_id,
            parsed.other_reason_codes,
            parsed.source_column
        from parsed
        inner join reasons on parsed.reason_code = reasons.reason_code
        inner join cells_{file_no} as cells on parsed.source_row = cells.source_row
            and parsed.sheet is not distinct from cells.sheet
        left join near_names on parsed.reason_code = near_names.reason_code
            and {value_of_field} = near_names.got
        left join same_key on parsed.source_row = same_key.source_row
            and parsed.sheet is not distinct from same_key.sheet
            and parsed.source_column is not distinct from same_key.source_column
        left join (
            -- The row's other broken rules (other_reason_codes), each with what it got.
            select
                parsed.source_row,
                parsed.sheet,
                string_agg(
                    'column ' || {column_label} || ': ' || reasons.problem
                        || coalesce(
                            ' (got ''' || {value_of_field} || ''''
                                || coalesce('; did you mean ''' || near_names.near || '''?', '')
                                || ')',
                            ' (blank)'
                        ),
                    '; ' order by parsed.position
                ) as problems,
                parsed.source_column
            from (
                select
                    *,
                    unnest(other_reason_codes) as other_reason_code,
                    generate_subscripts(other_reason_codes, 1) as position
                from parsed
                where file_no = ?5 and len(other_reason_codes) > 0
            ) as parsed
            inner join reasons on parsed.other_reason_code = reasons.reason_code
            left join near_names on parsed.other_reason_code = near_names.reason_code
                and {value_of_field} = near_names.got
            group by parsed.source_row, parsed.sheet, parsed.source_column
        ) as also on parsed.source_row = also.source_row
            and parsed.sheet is not distinct from also.sheet
            and parsed.source_column is not distinct from also.source_column
        where parsed.file_no = ?5
        order by parsed.source_row, parsed.source_column
        """,  # noqa: S608 - identifiers and CASE labels are ours; values are parameters
        [*common, file_no, *record_params],
    )
    return int(rows_in), int(loaded), int(quarantined)


def _quarantine_unjudged(
    con: duckdb.DuckDBPyConnection, staged: _Staged, loaded_at: dt.datetime, run_id: str
) -> int:
    """Quarantine, verbatim, every data row of a file rejected for its header (inside the
    caller's transaction): the rules cannot judge a row without its period or value, and
    DESIGN.md keeps every rejected row. Returns how many."""
    match = staged.unjudged
    assert match is not None
    lacking = [FIELD_LABELS[f] for f in match.missing]
    if staged.header_problem is not None:
        code, column = "header_refused", FIELD_LABELS["value"]
        problem = f"the file was rejected, {staged.header_problem}"
    else:
        code, column = "columns_missing", lacking[0]
        problem = (
            f"the file was rejected, its header lacks {', '.join(lacking)}{_title_hint(match)}"
            f"{_undated_hint(match)}; "
            f"expected a header naming {', '.join(FIELD_LABELS[f] for f in REQUIRED_FIELDS)} "
            "(any alias, any order)"
        )
    common = [staged.file.relative, staged.sha, loaded_at, run_id, column, problem, code]
    record_sql, record_params = _raw_record_sql(match, first_param=len(common) + 1)
    not_blank = " or ".join(
        f"nullif(trim(c{i}), '') is not null" for i in range(len(match.headers))
    )
    ((inserted,),) = con.execute(
        f"""
        insert into dq.quarantine (
            source_file, file_sha256, sheet, source_row, column_name, reason_code, reason,
            raw_record, loaded_at, run_id, other_reason_codes
        )
        select
            ?1, ?2, cells.sheet, cells.source_row, ?5, ?7,
            concat_ws(', ',
                ?1,
                case when cells.sheet is not null then 'sheet ' || cells.sheet end,
                'row ' || cells.source_row
            ) || ': ' || ?6,
            {record_sql}, ?3, ?4, []
        from cells_{staged.file_no} as cells
        where {not_blank}
        order by cells.source_row
        """,  # noqa: S608 - identifiers are ours (c0..cN, an integer); values are parameters
        [*common, *record_params],
    ).fetchall()
    return int(inserted)


def _status(
    rows_in: int, loaded: int, quarantined: int, per_column: str | None = None
) -> tuple[str, str | None]:
    """The file version's status and reason. The rows of a form with a value column per basis
    or a spread table (`per_column`: what each value column is) are its values: a row of 本月 and
    本年累计 is two reports, each landed or quarantined."""
    rows = f"values ({per_column})" if per_column else "rows"
    if rows_in == 0:
        return "rejected", "the file has a header but no data rows"
    if quarantined == 0:
        return "loaded", None
    if loaded == 0:
        return "rejected", f"every one of its {rows_in} {rows} broke a rule (see dq.quarantine)"
    return "partially_loaded", f"{quarantined} of {rows_in} {rows} broke a rule (see dq.quarantine)"


def _with_unread(
    con: duckdb.DuckDBPyConnection, reason: str | None, match: HeaderMatch
) -> str | None:
    """A spread table's reason, with the columns it does not read: a column whose header is not
    a name of the catalog may be an indicator or geography misspelt, so it is said, not dropped
    in silence — with the catalog's nearest name, as for a row's unknown name. A workbook's
    sheets spread their own ways: each way's columns are said apart."""
    said = [_unread_said(con, spread, unread) for spread, unread in match.unread_by_spread.items()]
    return "; ".join([reason, *said] if reason else said) or None


def _unread_said(con: duckdb.DuckDBPyConnection, spread: str, unread: list[str]) -> str:
    """What a table spread over `spread`'s columns says of its columns not read."""
    catalog, table = {
        "indicator": ("an indicator of the plan catalog", "raw.indicator_aliases"),
        "geography": ("a geography of reference/geographies.csv", "raw.geography_aliases"),
        "period": ("a period spelled whole (2025年, 2026年10月, 2026-10)", None),
    }[spread]
    near: dict[str, str] = {}
    if table is not None:
        # A name of the catalog noted otherwise than with a unit (技术合同成交额（上年同期）) is
        # other figures, not a misspelling. The table is one of the two above.
        near = dict(
            con.execute(
                rf"""
                with got as (
                    select got, pt_lookup_key(got) as got_key,
                        regexp_replace(pt_lookup_key(got), '\(([^()]+)\)$', '') as name_key
                    from unnest(?::varchar[]) as t(got)
                )
                select got, first(alias order by similarity desc, alias)
                from (
                    select got.got, aliases.alias,
                        jaro_winkler_similarity(got.got_key, aliases.alias_key) as similarity
                    from got cross join {table} as aliases
                    where got.name_key not in (select alias_key from {table})
                )
                where similarity >= ?
                group by got
                """,  # noqa: S608 - the table is ours
                [unread, NEAR_NAME_MIN_SIMILARITY],
            ).fetchall()
        )
    named = ", ".join(f"{h} (did you mean {near[h]}?)" if h in near else h for h in unread)
    return f"columns not read, their headers not {catalog}: {named}"


def _record_manifest(
    con: duckdb.DuckDBPyConnection,
    file: ProgressFile,
    outcome: FileOutcome,
    loaded_at: dt.datetime,
    run_id: str,
) -> None:
    con.execute(
        "insert into raw.file_manifest values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            outcome.source_file,
            outcome.file_sha256,
            file.size,
            modified_at(file),
            file.path.suffix.lower().lstrip(".") or None,
            outcome.encoding,
            ", ".join(outcome.sheets) or None,
            outcome.header_row,
            outcome.status,
            outcome.rows_in,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.reason,
            loaded_at,
            run_id,
        ],
    )


@dataclass
class _Staged:
    """A file version read into the batch (`match` set), or rejected while reading."""

    file: ProgressFile
    sha: str
    outcome: FileOutcome
    match: HeaderMatch | None
    file_no: int
    rows: int = 0
    # A header that lacks a required column: the file is rejected, its rows quarantined as read.
    unjudged: HeaderMatch | None = None
    # Why the header is refused when it names every column (reason_code header_refused).
    header_problem: str | None = None


def read_file(
    con: duckdb.DuckDBPyConnection,
    file: ProgressFile,
    sha: str,
    file_no: int,
    raw_dir: Path,
    scratch: Path,
    max_xlsx_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    names: SpreadNames | None = None,
) -> _Staged:
    """Read one file version into temp table `cells_<file_no>`; a file that cannot be read comes
    back rejected, with the reason. `names`: the catalog's names a table may spread over its
    columns (`spread_names`, read once per run by the caller, else here).

    Reading fills temporary tables outside any transaction (DuckDB numbers the rows of a table in
    file order only once they are committed)."""
    outcome = FileOutcome(file.relative, sha, "loaded")
    try:
        match, by_basis_problem = _read_into_cells(
            con, file, raw_dir, scratch, max_xlsx_bytes, outcome, names or spread_names(con)
        )
        con.execute(f"alter table cells rename to cells_{file_no}")
        if match.missing:
            outcome.status = "rejected"
            outcome.reason = "missing required column(s): " + ", ".join(
                FIELD_LABELS[m] for m in match.missing
            )
            outcome.reason += _title_hint(match) + _undated_hint(match)
            return _Staged(file, sha, outcome, None, file_no, unjudged=match)
        problem = by_basis_problem or _value_note_problem(con, file_no, match.value_fields)
        if problem is not None:
            outcome.status, outcome.reason = "rejected", problem
            return _Staged(
                file, sha, outcome, None, file_no, unjudged=match, header_problem=problem
            )
        count_sql = f"select count(*) from cells_{file_no}"  # noqa: S608 - an integer
        rows = con.execute(count_sql).fetchall()[0][0]
        return _Staged(file, sha, outcome, match, file_no, int(rows))
    except FileRejectedError as exc:
        outcome.status, outcome.reason = "rejected", str(exc)
        return _Staged(file, sha, outcome, None, file_no)
    finally:
        for leftover in scratch.glob("transcoded-*.csv"):
            leftover.unlink(missing_ok=True)


def _value_note_problem(
    con: duckdb.DuckDBPyConnection, file_no: int, value_fields: Sequence[str]
) -> str | None:
    """A value column found only through a note in brackets that is not a unit (数值(上年同期),
    本年累计(上年同期): last year's figures) must not be read as this period's values: why, or
    None."""
    notes = " union all ".join(
        # Identifiers of ours (the value fields) and an integer.
        f"select header_{f} as header, note_{f} as note from cells_{file_no}"  # noqa: S608
        for f in value_fields
    )
    found = con.execute(
        f"select distinct header, note from ({notes}) "  # noqa: S608 - ours, above
        "where note is not null and pt_lookup_key(note) not in "
        "(select alias_key from raw.unit_aliases) order by 1"
    ).fetchall()
    if not found:
        return None
    return (
        f"the value column {found[0][0]!r} notes {found[0][1]!r} in brackets, which is not a "
        "unit in reference/units.csv, so its figures may not be this period's; expected 数值 "
        "(or 本月, 本年累计) with no note, or with the values' unit: 数值（亿元）"
    )


def land_batch(
    con: duckdb.DuckDBPyConnection, batch: list[_Staged], run_id: str
) -> list[FileOutcome]:
    """Apply the rules to every row of the batch in one query, then land each file version: all
    of its rows and its manifest row in one transaction, or none.

    Why batches: the rules are one large query whose planning costs ~20 ms however few its rows
    are; run per file, a folder of 33 small reports spent a second on it (docs/performance.md).
    The rules judge duplicates and conflicts within each file (`file_no`), as they did file by
    file."""
    readable = [staged for staged in batch if staged.match is not None]
    kind = "view" if len(readable) == 1 else "table"
    if readable:
        for staged in readable:
            if staged.match is not None and staged.match.value_fields:
                _drop_headings(con, staged.match, staged.file_no)
        selects = [
            _incoming_select(s.match, s.file_no, _cells_columns(con, s.file_no))
            for s in readable
            if s.match is not None
        ]
        # The rules read `incoming` seven times. One file: a view, so that millions of rows are
        # not copied. Several (a batch holds at most BATCH_ROWS): a table, so that the union of
        # their views is not planned and scanned seven times over.
        con.execute(f"create or replace temp {kind} incoming as " + " union all ".join(selects))
        con.execute(PARSE_SQL)
        _create_reasons(con)
    outcomes = []
    for staged in batch:
        outcome = staged.outcome
        loaded_at = dt.datetime.now(dt.UTC)
        con.execute("begin")
        try:
            if staged.match is not None:
                counts = _land(
                    con, staged.file, staged.sha, staged.match, staged.file_no, loaded_at, run_id
                )
                outcome.rows_in, outcome.rows_loaded, outcome.rows_quarantined = counts
                outcome.status, outcome.reason = _status(*counts, staged.match.per_column)
                outcome.reason = _with_unread(con, outcome.reason, staged.match)
            elif staged.unjudged is not None:
                quarantined = _quarantine_unjudged(con, staged, loaded_at, run_id)
                outcome.rows_in = outcome.rows_quarantined = quarantined
                if quarantined:
                    outcome.reason = f"{outcome.reason}; {quarantined} row(s) quarantined as read"
            _record_manifest(con, staged.file, outcome, loaded_at, run_id)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        outcomes.append(outcome)
    if readable:
        con.execute(f"drop {kind} incoming")
    for staged in batch:
        con.execute(f"drop table if exists cells_{staged.file_no}")
    return outcomes


def _read_into_cells(
    con: duckdb.DuckDBPyConnection,
    file: ProgressFile,
    raw_dir: Path,
    scratch: Path,
    max_xlsx_bytes: int,
    outcome: FileOutcome,
    names: SpreadNames,
) -> tuple[HeaderMatch, str | None]:
    """Fill temp table `cells` from the file; raises FileRejectedError when it cannot be read.
    Returns the header and, if its value columns cannot be told apart, why
    (`HeaderMatch.by_basis_problem`)."""
    unsafe = unsafe_reason(file, raw_dir)
    if unsafe:
        raise FileRejectedError(f"refused, not read: {unsafe}")
    try:
        reader = reader_for(file.path)  # formats.py: by the name, and a workbook's bytes
    except UnreadableFormatError as exc:
        raise FileRejectedError(str(exc)) from exc
    if reader == "csv":
        try:
            outcome.encoding = detect_encoding(file.path)
        except EncodingError as exc:
            raise FileRejectedError(str(exc)) from exc
        try:
            match, transcoded = _cells_table_from_csv(
                con, file.path, outcome.encoding, scratch, names
            )
        except duckdb.Error as exc:
            # DuckDB's CSV reader names the line and the problem (e.g. a field too large).
            message = str(exc).splitlines()[0][:500]
            raise FileRejectedError(f"the file cannot be parsed as CSV: {message}") from exc
        if transcoded:
            Path(transcoded).unlink(missing_ok=True)
        outcome.header_row = match.row_index + 1
        return match, match.by_basis_problem
    # Each format's reader gives its sheets' cells; their tables are read alike (sheet_tables).
    sheets_of: dict[str, Callable[[Path, int], Iterator[SheetCells]]] = {
        "xlsx": xlsx_sheets,
        "xls": xls_sheets,
        "html": html_sheets,
        "xml": xml_sheets,
    }
    try:
        parts = list(sheet_tables(sheets_of[reader](file.path, max_xlsx_bytes), names))
    except XlsxError as exc:
        wps = f"; {WPS_OWN_FORMAT}" if file.path.suffix.lower() in WPS_SUFFIXES else ""
        raise FileRejectedError(f"{exc}{wps}") from exc
    sheets = [p for p in parts if isinstance(p, SheetRows)]
    skipped = [p for p in parts if isinstance(p, SkippedSheet)]
    if not sheets:
        detail = "; ".join(f"sheet {s.sheet!r}: {s.reason}" for s in skipped)
        raise FileRejectedError(f"no sheet holds a report ({detail or 'the workbook is empty'})")
    outcome.sheets = list(dict.fromkeys(s.sheet for s in sheets))
    outcome.header_row = sheets[0].header.row_index + 1
    sheets = [replace(s, header=resolve_title(con, s.header)) for s in sheets]
    problems = [s.header.by_basis_problem for s in sheets if s.header.by_basis_problem]
    return _cells_table_from_sheets(con, sheets), problems[0] if problems else None


def _same_as(source_file: str) -> str:
    """The manifest's reason for a copy of content landed already."""
    return (
        f"the same content as {source_file}, landed already: nothing new to land (its rows are "
        "that file's; withdrawing that file withdraws them)"
    )


def ingest_progress(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    scratch: Path,
    run_id: str,
    max_xlsx_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Land every new or changed file under raw/progress/; returns what happened to each."""
    ensure_tables(con)
    raw_dir = raw_dir.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    known = set(con.execute("select source_file, file_sha256 from raw.file_manifest").fetchall())
    # Content already landed under another path (a report saved twice, "report (1).csv"; a file
    # moved to another folder) is not landed again: its rows would be revisions of themselves.
    # Content none of whose rows landed is read again (the rules may read it now), and so is content
    # withdrawn (raw/withdrawals.csv, as the last run left it): sent anew, it is a new report.
    withdrawn = (
        "select source_file, file_sha256 from raw.withdrawals"
        if table_exists(con, "raw", "withdrawals")
        else "select null as source_file, null as file_sha256 where false"
    )
    landed = dict(
        con.execute(
            "select file_sha256, min(source_file) from raw.file_manifest "  # noqa: S608 - constant
            f"anti join ({withdrawn}) as w using (source_file, file_sha256) "
            "where rows_loaded > 0 group by all"
        ).fetchall()
    )
    # Hashing every file of the folder at every run costs what the whole history weighs (336 MB:
    # 0.25 s at 9M reports). Like rsync's and git's quick check, a file with the size and
    # modification time it had when last hashed has that hash — provided it was hashed at least
    # QUICK_CHECK_MARGIN after that time: on a file system with coarse times a second write in
    # the same tick keeps the time, so a hash taken within the margin is taken again, and kept
    # from then on. A file rewritten with the same size and its old time put back is taken as
    # unchanged: `touch` it to have it read. A link's own time says nothing of its target's.
    con.execute(FILE_HASHES_DDL)
    hashes = {
        row[0]: row[1:]
        for row in con.execute(
            "select source_file, file_size, file_modified_at, file_sha256, hashed_at "
            "from dq.file_hashes"
        ).fetchall()
    }
    hashed: list[tuple[str, int, dt.datetime, str, dt.datetime]] = []

    def sha_of(file: ProgressFile) -> str:
        stamp = modified_at(file)
        last = hashes.get(file.relative)
        if last is not None and not file.path.is_symlink():
            size, modified, sha, hashed_at = last
            if size == file.size and modified == stamp and stamp < hashed_at - QUICK_CHECK_MARGIN:
                return str(sha)
        now = dt.datetime.now(dt.UTC)
        sha = sha256_of(file.path)
        hashed.append((file.relative, file.size, stamp, sha, now))
        return sha

    outcomes: list[FileOutcome] = []
    batch: list[_Staged] = []
    names = spread_names(con)

    def land() -> None:
        for outcome in land_batch(con, batch, run_id):
            outcomes.append(outcome)
            log.info(
                "%s: %s (%d in, %d loaded, %d quarantined)%s",
                outcome.source_file,
                outcome.status,
                outcome.rows_in,
                outcome.rows_loaded,
                outcome.rows_quarantined,
                f": {outcome.reason}" if outcome.reason else "",
            )
            if on_file:
                on_file(outcome)
        batch.clear()

    for file in discover(raw_dir):
        # A refused path is never read, so never hashed.
        unread = unsafe_reason(file, raw_dir) is not None
        sha = "unread:" + file.relative if unread else sha_of(file)
        if (file.relative, sha) in known:
            continue
        known.add((file.relative, sha))
        if sha in landed:
            outcome = FileOutcome(file.relative, sha, "loaded", reason=_same_as(landed[sha]))
            batch.append(_Staged(file, sha, outcome, None, len(batch)))
            continue
        staged = read_file(con, file, sha, len(batch), raw_dir, scratch, max_xlsx_bytes, names)
        batch.append(staged)
        if staged.match is not None and not unread:
            landed[sha] = file.relative
        if len(batch) >= BATCH_FILES or sum(s.rows for s in batch) >= BATCH_ROWS:
            land()
    if batch:
        land()
    # Once for the run, over every version landed and not checked yet (value_checks.py).
    checked = value_checks.check_values(con, dt.datetime.now(dt.UTC), run_id)
    for outcome in outcomes:
        outcome.values_to_check = checked.get(outcome.source_file, 0)
    if hashed:
        con.executemany("insert or replace into dq.file_hashes values (?, ?, ?, ?, ?)", hashed)
    return outcomes
