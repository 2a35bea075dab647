"""The period and the geography a report gives above its header instead of in columns.

A statistics bureau's monthly form has no 报告期 or 城市 column: its title says the month
(`2026年10月科技创新指标完成情况`), and a line below it the office that fills it in
(`填报单位（盖章）：黄石市科技局　　报告期：2026年10月`). Every row of the table is then that
period's and that geography's. Hand-written: neither DuckDB's reader nor openpyxl reads a form's
title.

What is read, from the rows above the header:
- a field after its label, `报告期：2026年10月`, `地区：黄石` (any alias of the column, a colon, the
  text up to the next gap of two spaces or the cell's end; or the next cell when the label's is
  bare);
- else, for the period, one spelling of a month, a quarter, a half-year or the months from January
  (`2026年1-10月`), or a whole year (`2025年度`, `2025年全年`), in the title's text. A year alone
  is not taken from free text: titles name the years a plan spans (`2026—2028年`, as the last of
  them, `2028年度`, is not either). Two different spellings are no period;
- the unit after its label (`单位：万元`), and the report's date after its
  (`填报日期：2026年11月5日`), for a table with no such column;
- for the geography, the texts that may name it, most telling first: the field after its label,
  the reporter after theirs (`黄石市科技局`), the title's other text. Which catalog geography they
  name is looked up by ingest.py (`resolve_title`), not here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dagster_project.lib.progress.headers import FIELD_ALIASES, UNIT_LABELS, HeaderMatch
from dagster_project.lib.text import lookup_key, to_halfwidth

# The labels read above a header, by field: the column's own aliases and the form's words.
TITLE_LABELS: dict[str, tuple[str, ...]] = {
    "period": (*FIELD_ALIASES["period"], "所属期", "所属时期", "报表期", "数据期"),
    "geography": (*FIELD_ALIASES["geography"], "所属地区", "行政区划"),
    "reporter": (*FIELD_ALIASES["reporter"], "填报机关", "报送机关", "统计单位"),
    # The unit of a table with no unit column: 单位：万元 above it, as on most statistical tables.
    "unit": UNIT_LABELS,
    # Read so that its date is not taken for the period.
    "reported_on": FIELD_ALIASES["reported_on"],
}
_LABEL_OF = {lookup_key(alias): f for f, aliases in TITLE_LABELS.items() for alias in aliases}
# A label, a note in brackets after it (填报单位（盖章）), a colon, the rest.
_LABELLED = re.compile(r"^\s*([^:()]{1,12}?)\s*(\([^()]*\))?\s*:\s*(.*)$")
# Segments of a title cell: runs of two or more spaces (a form's gap) or a tab.
_GAP = re.compile(r"\s{2,}|\t")
# A printed form's date left as it was printed, blank (填报日期：    年  月  日, 报告期：  年  月):
# no value, in its cell or the next.
_BLANK_DATE = re.compile(r"^[\s年月日季度号/\-.:]*$")
_YEAR = r"(?<!\d)(20\d{2}|19\d{2})\s*年?\s*"
_DASH = r"\s*[-—–~～〜至到]\s*"
# The months from January to a month (2026年1-10月), and the first quarters (2026年前三季度): found
# in a title's text, and read as their last month or quarter in a form by basis.
_FROM_JANUARY = _YEAR + r"(?:1|01|一)\s*月?" + _DASH + r"(\d{1,2})\s*月"
_FIRST_QUARTERS = _YEAR + r"前\s*([三两二四234])\s*个?\s*季度"
# A year named as a whole (2025年度, 2025年全年): not the last of the years a plan spans
# (2026—2028年度), and not a year whose part follows (2026年度第三季度, 2026年度1-9月).
_WHOLE_YEAR = (
    r"(?<![-—–~～〜至到])(?<![-—–~～〜至到]\s)(?<!\d)(20\d{2}|19\d{2})\s*"
    r"(?:年\s*度|年?\s*全\s*年)(?!\s*(?:第|前|[一二三四1-4]\s*季|[上下]\s*半年|\d))"
)
# The spellings of a period found in free text, each a whole spelling the rules read (rules.py).
_PERIODS_IN_TEXT = (
    re.compile(_FROM_JANUARY + r"(?!\s*\d{1,2}\s*[日号])"),
    re.compile(_FIRST_QUARTERS),
    re.compile(_YEAR + r"第?\s*[一二三四1-4]\s*季度"),
    re.compile(_YEAR + r"[上下]\s*半年"),
    re.compile(_YEAR + r"\d{1,2}\s*月(?!\s*\d{1,2}\s*[日号])(?:份|末)?"),
    re.compile(r"(?<!\d)(20\d{2})-(0[1-9]|1[0-2])(?![-\d])"),
    re.compile(r"(?<!\d)(20\d{2})\s*[Qq]\s*[1-4](?!\d)"),
    re.compile(_WHOLE_YEAR),
)


# A period spelled whole as a column's header (指标 | 2024年 | 2025年; 指标 | 2026年1月 |
# 2026年2月): a spelling found in a title's text, or a year with its 年 (a header names no plan's
# span). A month without its year (1月) is none.
_PERIOD_HEADERS = (*_PERIODS_IN_TEXT, re.compile(r"(20\d{2}|19\d{2})\s*年"))


def is_period(header: str) -> bool:
    """Whether a column's header is a period's spelling, whole."""
    text = to_halfwidth(header).strip()
    return any(p.fullmatch(text) for p in _PERIOD_HEADERS)


# A part of a year without the year, as a column's header or a period column's cell under a
# title that names it (黄石市2026年科技指标月度情况: 1月 | 2月 | 1-10月 | 一季度 | 上半年).
PART_OF_YEAR = (
    r"\d{1,2}\s*月份?|1\s*[-—–~～〜至]\s*\d{1,2}\s*月"
    r"|第?\s*[一二三四1-4]\s*季度|[Qq][1-4]|[上下]\s*半年"
)
_PART_OF_YEAR = re.compile(PART_OF_YEAR)
# A year the rows above a header name: not one of the years a plan spans (2026—2028年), not a
# date's (填报日期：2026年11月5日).
_YEAR_NAMED = re.compile(
    r"(?<![-—–~～〜至到\d])(?<![-—–~～〜至到]\s)(20\d{2}|19\d{2})\s*年"
    r"(?!\s*[-—–~～〜至到])(?!\s*\d{1,2}\s*月\s*\d{1,2}\s*[日号])"
)


def is_part_of_year(header: str) -> bool:
    """Whether a column's header names a part of a year without the year (3月, 一季度)."""
    return _PART_OF_YEAR.fullmatch(to_halfwidth(header).strip()) is not None


def part_of_year(header: str, rows: Sequence[Sequence[str | None]]) -> str | None:
    """A column's header that names a part of a year without the year (3月, 一季度), with the one
    year the rows above it (`rows`) name: 2026年3月. None when it names no such part, or the rows
    above name no year or several."""
    if not is_part_of_year(header):
        return None
    year = _one_year(_segments(rows))
    return f"{year.text}年{to_halfwidth(header).strip()}" if year is not None else None


def _one_year(pieces: list[tuple[int, str]]) -> TitleValue | None:
    """The one year the pieces of text name (the first place it is named), or None when they
    name none or several (`_YEAR_NAMED`: not a plan's span, not a date's)."""
    years = {(m[1], index) for index, piece in pieces for m in _YEAR_NAMED.finditer(piece)}
    if len({year for year, _ in years}) != 1:
        return None
    text, index = min(years, key=lambda found: found[1])
    return TitleValue(text, index, labelled=False)


@dataclass(frozen=True)
class TitleValue:
    text: str  # as written: '2026年10月', '黄石', '黄石市科技局'
    row_index: int  # 0-based index of its row among the rows searched
    labelled: bool  # written after its label (报告期：…), not found in free text
    # Where it was read, when not in the rows above the header: "the footer, row 14".
    place: str | None = None

    @property
    def where(self) -> str:
        """Where it was read, for a message: "the title, row 2"."""
        return self.place or f"the title, row {self.row_index + 1}"


@dataclass(frozen=True)
class Title:
    """What the rows above a header give: the period, the geography's name after its label, and
    the texts in which to look for a geography's name (the reporter's, the title's)."""

    period: TitleValue | None = None
    geography: TitleValue | None = None
    unit: TitleValue | None = None
    geography_texts: tuple[TitleValue, ...] = ()
    # Why a field the header lacks is not taken from the title (several periods in it, no
    # geography of the catalog), for the file's message.
    problems: tuple[str, ...] = ()
    # The report's date after its label (填报日期：2026年11月5日), for a table with no such column.
    reported_on: TitleValue | None = None
    # The one year the rows name (黄石市2026年科技创新指标月度报表), for a period written without
    # it (9月, 1-10月, 三季度): in a column's header, or in a period column's cells.
    year: TitleValue | None = None


def _segments(rows: Sequence[Sequence[str | None]]) -> list[tuple[int, str]]:
    """(row index, text) of every non-blank piece of the rows, cell by cell, split at gaps."""
    pieces = []
    for index, row in enumerate(rows):
        for cell in row:
            if cell is None:
                continue
            for piece in _GAP.split(to_halfwidth(str(cell)).strip()):
                if piece.strip():
                    pieces.append((index, piece.strip()))
    return pieces


def read_title(rows: Sequence[Sequence[str | None]]) -> Title:
    """The period and geography the rows above a header give (`rows`: those rows)."""
    pieces = _segments(rows)
    labelled: dict[str, TitleValue] = {}
    free: list[tuple[int, str]] = []
    taken = -1  # the piece read as the value of a bare label before it
    for position, (index, piece) in enumerate(pieces):
        if position == taken:
            continue
        match = _LABELLED.match(piece)
        field = _LABEL_OF.get(lookup_key(match[1])) if match else None
        if match is None or field is None:
            free.append((index, piece))
            continue
        value = match[3].strip()
        if not value and position + 1 < len(pieces) and pieces[position + 1][0] == index:
            # 报告期： | 2026年10月: the label's cell bare, its value in the next one.
            value, taken = pieces[position + 1][1], position + 1
        if field in ("period", "reported_on") and _BLANK_DATE.match(value):
            value = ""
        if value and field not in labelled:
            labelled[field] = TitleValue(value, index, labelled=True)
    period = labelled.get("period")
    problems: tuple[str, ...] = ()
    if period is None:
        found = [
            (piece, m.start(), m.end(), index, m[0].strip())
            for piece, (index, text) in enumerate(free)
            for p in _PERIODS_IN_TEXT
            for m in p.finditer(text)
        ]
        # The longest spelling at a place: 2026年1月-10月 holds 2026年1月.
        spellings = {
            (index, text)
            for piece, start, end, index, text in found
            if not any(
                other == piece and s <= start and end <= e and (s, e) != (start, end)
                for other, s, e, _, _ in found
            )
        }
        distinct = sorted({lookup_key(text) for _, text in spellings})
        if len(distinct) == 1:
            index, text = min(spellings)
            period = TitleValue(text, index, labelled=False)
        elif len(distinct) > 1:
            problems = (
                "the title names several periods ("
                + ", ".join(sorted({text for _, text in spellings}))
                + ")",
            )
    texts = []
    if "reporter" in labelled:
        texts.append(labelled["reporter"])
    texts += [TitleValue(text, index, labelled=False) for index, text in free]
    return Title(
        period,
        labelled.get("geography"),
        labelled.get("unit"),
        tuple(texts),
        problems,
        reported_on=labelled.get("reported_on"),
        year=_one_year(pieces),
    )


_YTD_MONTHS = re.compile(_FROM_JANUARY + r"(?:份|末)?\s*")
_YTD_QUARTERS = re.compile(_FIRST_QUARTERS + r"\s*")
_QUARTERS = {"两": 2, "二": 2, "2": 2, "三": 3, "3": 3, "四": 4, "4": 4}


def last_month_of_year_to_date(text: str) -> str:
    """The last month (or quarter) of a period of the months from January (2026年1-10月 →
    2026年10月; 2026年前三季度 → 2026年3季度), else `text` as it is: the period of a form's title
    whose columns are the month's own value and the year's running total to it."""
    plain = to_halfwidth(text).strip()
    if (months := _YTD_MONTHS.fullmatch(plain)) is not None:
        return f"{months[1]}年{int(months[2])}月"
    if (quarters := _YTD_QUARTERS.fullmatch(plain)) is not None:
        return f"{quarters[1]}年{_QUARTERS[quarters[2]]}季度"
    return text


def dated_by_footer(
    match: HeaderMatch, footer: Sequence[Sequence[str | None]], rows: Sequence[int] | None = None
) -> HeaderMatch:
    """`match` with the report date of a form's footer below its table (填表人：张三  报出日期：
    2026年11月5日) when neither a column nor its title dates it: a form dates itself above its
    header or below its table. `rows`: the footer rows' numbers in the file, when known, to say
    where."""
    title = match.title
    if not footer or "reported_on" in match.positions:
        return match
    if title is not None and title.reported_on is not None:
        return match
    found = read_title(footer).reported_on
    if found is None:
        return match
    where = f"the footer, row {rows[found.row_index]}" if rows else "the footer below the table"
    return replace(match, title=replace(title or Title(), reported_on=replace(found, place=where)))
