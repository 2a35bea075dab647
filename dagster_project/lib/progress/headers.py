"""Progress-report columns: the aliases people use for them, and finding the header row.

Reports come with Chinese or English headers in any order, sometimes below a title and a note.
The header row is the first row (of the first `HEADER_SEARCH_ROWS`) in which the four required
columns are all recognised — the period and geography possibly in the title above it, the values
possibly in a column per basis (本月 | 本年累计), or spread over a column per indicator, per
geography or per period (`SPREAD_FIELDS`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from dagster_project.lib.text import lookup_key, to_halfwidth

if TYPE_CHECKING:
    from dagster_project.lib.progress.titles import Title

HEADER_SEARCH_ROWS = 30

# Canonical field -> the header spellings accepted for it (compared by lookup_key).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "period": (
        "period",
        "报告期",
        "报告期间",
        "统计期",
        "统计期间",
        "期间",
        "时间",
        "月份",
        "统计时间",
        "年月",
        "月度",
        "统计月份",
        "报告月份",
        "年份",
        "年度",
        "统计年度",
    ),
    "geography": (
        "geography",
        "geo",
        "geo_id",
        "city",
        "region",
        "城市",
        "地区",
        "城市/地区",
        "地区/城市",
        "区域",
        "市州",
        "地区名称",
        "城市名称",
        # As a province's and a city's tables head their rows of cities, counties and districts.
        "地市",
        "市(州)",
        "市州名称",
        "县(市、区)",
        "县(市区)",
        "县市区",
        "区县",
        "区(县)",
        "行政区",
    ),
    "indicator": ("indicator", "indicator_id", "metric", "指标", "指标名称", "指标项", "考核指标"),
    "value": ("value", "数值", "数据", "值", "完成值", "实际值", "完成数"),
    "unit": ("unit", "单位", "计量单位"),
    "basis": ("basis", "口径", "统计口径", "数据口径"),
    "reporter": ("reporter", "填报单位", "报送单位", "填报部门"),
    "reported_on": (
        "reported_on",
        "report_date",
        "填报日期",
        "报送日期",
        "填报时间",
        "填表日期",
        "报出日期",
    ),
    "note": ("note", "notes", "备注", "说明"),
}
REQUIRED_FIELDS: tuple[str, ...] = ("period", "geography", "indicator", "value")
FIELDS: tuple[str, ...] = tuple(FIELD_ALIASES)

# The words of the basis (口径): the period's own value, or the year's running total. Written in a
# 口径 column's cells, or as the header of a value column of that basis (below).
BASIS_PERIOD = (
    *("当期", "当月", "当季", "本期", "本月", "本季", "当年", "period", "current"),
    *("本季度", "当季度", "本月数", "当月数", "本期数", "本季数", "本月完成", "当月完成"),
    *("本期完成", "本季完成", "this month", "this quarter", "this period"),
)
BASIS_YTD = (
    *("累计", "累计值", "累计数", "年累计", "本年累计", "自年初累计", "ytd", "cumulative"),
    *("本年累计数", "本年累计值", "年初至今", "年初累计", "年初至本月累计", "自年初起累计"),
    *("1-本月累计", "1~本月累计", "1—本月累计", "1至本月累计", "1-本月", "1至本月"),
    *("累计完成", "本年累计完成", "year to date", "year-to-date"),
)
# A statistics bureau's form gives the period's own value and the year's running total side by
# side, each in a column of its own (指标名称 | 计量单位 | 本月 | 1-本月累计), in place of 数值
# and 口径: each of its rows holds a report per such column, whose basis the column's header
# names. The basis words that name another column (period) or say nothing of a value (当年,
# current) are no such header.
BASIS_VALUE_FIELDS: dict[str, tuple[str, ...]] = {
    "value_period": tuple(w for w in BASIS_PERIOD if w not in ("period", "当年", "current")),
    "value_ytd": BASIS_YTD,
}
# Every column that holds values: 数值, or the value columns of a basis.
VALUE_FIELDS: tuple[str, ...] = ("value", *BASIS_VALUE_FIELDS)
# A table may instead spread its values over columns that each name an indicator (地区 |
# 技术合同成交额（亿元） | 规上高企（家）: a row per geography, or per period of one geography), a
# geography (指标名称 | 计量单位 | 黄石 | 鄂州: a row per indicator) or a period (指标名称 |
# 2024年 | 2025年), in place of 指标, 城市 or 报告期 and 数值: each row then holds a report per
# such column, the column's indicator, geography or period. Such a column is a value field of
# its own, `spread_<field>_<n>`; the names a header may spread are the catalog's (`SpreadNames`:
# lookup keys by field, and the units' under "unit"), which only the ingest knows, and the
# periods' spellings.
SPREAD_FIELDS: tuple[str, ...] = ("indicator", "geography", "period")
SpreadNames = Mapping[str, Collection[str]]
_SPREAD = re.compile(r"^spread_(indicator|geography|period)_\d+$")
# A list's mark before an indicator's name is not part of it: a row's number in a summary table
# (1.技术合同成交额, 2、…, (1)…, (一)…, 一、…, ①…) or a sub-item's mark in a statistical one
# (其中：新能源汽车产量, #新能源汽车产量) — in a row's cell (rules.py) as in a column's header.
# Matched on lookup keys (half-width: （1） is (1)). A row of a numbered name that is no
# indicator, its values blank, is a section's heading (一、成果转化; ingest.py).
_ORDINAL = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"
# A list's number: 1. 2、 3． (1) （一） ①.
_LIST_NUMBER = rf"({_ORDINAL}[.、．]|[(（]{_ORDINAL}[)）]|[①-⑳])"
ITEM_MARK = rf"^(其中[:：]?|[#＃]|{_LIST_NUMBER})+"
_ITEM_MARK = re.compile(ITEM_MARK)
# A form's footer below its table (表尾): its notes (注：数据为快报数, 说明：…, 数据来源：…, each
# numbered note under them) and who filled it in, checked and signed it, when (填表人：张三
# 审核人：李四  报出日期：2026年11月5日, 单位负责人（签章）：).
_FOOTER_LABEL = re.compile(
    r"^(注|说明|附注|备注|(资料|数据)来源|(单位|部门|统计|填报)?负责人|(填表|填报|制表|审核|复核|统计|联系)人"
    r"|审核|复核|制表|分管领导|联系(电话|方式)|电话|手机|(填表|填报|报出|制表)日期|(填报)?单位)"
    r"[^:：]{0,10}[:：]"
)
_NOTE_ITEM = re.compile(rf"^{_LIST_NUMBER}\s*[^\d\s]")
# A note under the table with no label: a sentence alone in its row (本表数据为快报数，
# 以年报为准。). No indicator, geography or period ends with a full stop.
_NOTE_SENTENCE = re.compile(r"[\u4e00-\u9fff].*[。！]$")
# The labels of a unit: above a header (单位：万元, titles.py) or heading a row of units under it
# (计量单位 | 亿元 | 家).
UNIT_LABELS: tuple[str, ...] = (*FIELD_ALIASES["unit"], "金额单位", "数量单位")
_UNIT_LABELS = frozenset(lookup_key(a) for a in UNIT_LABELS)
_NUMBER = re.compile(r"^\s*[-+]?[\d,]*\.?\d+\s*$")


def spread_field(value_field: str) -> str | None:
    """The field a value column of a spread table names (indicator, geography, period), or
    None."""
    spread = _SPREAD.match(value_field)
    return spread[1] if spread else None


def one_line(header: str) -> str:
    """A header as one line: a header wrapped in its cell (1-本月⏎累计, Excel's Alt+Enter) is one
    name."""
    return "".join(line.strip() for line in header.strip("\ufeff \t").splitlines())


def spread_key(header: str) -> str:
    """The lookup key a spread table's column header is matched on."""
    return _ITEM_MARK.sub("", lookup_key(one_line(header)))


# Chinese labels used in messages, so a person recognises the column of their own form.
FIELD_LABELS: dict[str, str] = {
    "period": "报告期 period",
    "geography": "城市/地区 geography",
    "indicator": "指标 indicator",
    "value": "数值 value",
    "unit": "单位 unit",
    "basis": "口径 basis",
    "reporter": "填报单位 reporter",
    "reported_on": "填报日期 reported_on",
    "note": "备注 note",
    "value_period": "本月 period's value",
    "value_ytd": "累计 year-to-date value",
}

_KEY_TO_FIELD = {
    lookup_key(alias): f
    for f, aliases in (*FIELD_ALIASES.items(), *BASIS_VALUE_FIELDS.items())
    for alias in aliases
}
# A header with a note in brackets after its name: 数值（亿元）, 填报日期(年-月-日).
_BRACKETED = re.compile(r"^(.+?)\s*\(([^()]+)\)$")


def field_for_header(header: str | None) -> str | None:
    """The canonical field a header names, or None when it names none."""
    return split_header(header)[0]


def split_header(header: str | None) -> tuple[str | None, str | None]:
    """The canonical field a header names, and what it says in brackets after the name, if the
    name alone is what names the field (数值（亿元） → value, 亿元: the values' unit; 本月（亿元）
    → value_period, 亿元)."""
    if not header:
        return None, None
    field = _KEY_TO_FIELD.get(lookup_key(header))
    if field is not None:
        return field, None
    bracketed = _BRACKETED.match(to_halfwidth(header).strip())
    if bracketed is None:
        return None, None
    return _KEY_TO_FIELD.get(lookup_key(bracketed[1])), bracketed[2].strip() or None


@dataclass(frozen=True)
class HeaderMatch:
    row_index: int  # 0-based index of the header row among the rows searched
    positions: dict[str, int]  # canonical field -> 0-based column position
    headers: tuple[str, ...]  # the header row as written
    # What each value column's header says in brackets after its name (数值（亿元）: the values'
    # unit, a row's unit when its own unit cell is blank or the file has no unit column), by
    # value field.
    notes: dict[str, str] = field(default_factory=dict)
    # What the rows above the header give for a period, geography or unit it has no column for.
    title: Title | None = None
    # The headers of a spread table's columns that name no field, by the field its read columns
    # spread, when not those of `headers` (a workbook's sheets combined under one header of
    # fields, each sheet's table spread its own way).
    unread: dict[str, tuple[str, ...]] | None = None
    # A spread table's value columns under a header over two rows, each name over its bases
    # (技术合同成交额 over 本月 | 1-本月累计): the name (its note in `notes`) and the basis as
    # written, by value field.
    names: dict[str, str] = field(default_factory=dict)
    bases: dict[str, str] = field(default_factory=dict)
    # How many rows the header spans, `row_index` its last: 2 for names over their bases, or
    # over a row of units (3 for both).
    header_rows: int = 1

    @property
    def top_row_index(self) -> int:
        """The 0-based index of the header's first row among the rows searched."""
        return self.row_index - self.header_rows + 1

    @property
    def title_fields(self) -> list[str]:
        """The fields read from the title rather than from a column: period, geography, unit,
        report date."""
        if self.title is None:
            return []
        given = {
            "period": self.title.period is not None,
            "geography": self.title.geography is not None or bool(self.title.geography_texts),
            "unit": self.title.unit is not None,
            "reported_on": self.title.reported_on is not None,
        }
        return [f for f, is_given in given.items() if is_given and f not in self.positions]

    @property
    def title_year(self) -> str | None:
        """The one year the rows above a table with a period column name, for its cells that
        name a part of a year without it (9月, 1-10月, 三季度)."""
        if self.title is None or self.title.year is None or "period" not in self.positions:
            return None
        return self.title.year.text

    @property
    def value_unit(self) -> str | None:
        return self.notes.get("value")

    @property
    def spread_fields(self) -> list[str]:
        """The value columns of a spread table, in the header's order."""
        return sorted(
            (f for f in self.positions if spread_field(f)), key=lambda f: self.positions[f]
        )

    @property
    def spread(self) -> str | None:
        """The field a spread table's value columns name (indicator, geography, period), or
        None."""
        fields = self.spread_fields
        return spread_field(fields[0]) if fields else None

    @property
    def value_fields(self) -> list[str]:
        """The columns that hold values: 数值, the value columns of a basis (本月, 累计), or a
        spread table's."""
        return [f for f in VALUE_FIELDS if f in self.positions] + self.spread_fields

    @property
    def per_column(self) -> str | None:
        """For a table whose rows hold a report per value column, what each column is."""
        if self.spread:
            return f"a value per {self.spread} column" + (" and basis" if self.bases else "")
        if self.is_by_basis:
            return "a value per column of 本月, 累计"
        return None

    @property
    def unread_columns(self) -> list[str]:
        """The headers of the columns that name no field, as written."""
        if self.unread is not None:
            return [h for headers in self.unread.values() for h in headers]
        read = set(self.positions.values())
        return [one_line(h) for i, h in enumerate(self.headers) if i not in read and one_line(h)]

    @property
    def unread_by_spread(self) -> dict[str, list[str]]:
        """A spread table's columns not read, by the field its read columns spread."""
        if self.unread is not None:
            return {f: list(headers) for f, headers in self.unread.items() if headers}
        unread = self.unread_columns if self.spread else []
        return {self.spread: unread} if self.spread and unread else {}

    @property
    def is_by_basis(self) -> bool:
        """Whether the values are in columns of a basis (本月, 累计) rather than in 数值."""
        return bool(self.bases) or any(f in self.positions for f in BASIS_VALUE_FIELDS)

    @property
    def missing(self) -> list[str]:
        return [
            f
            for f in REQUIRED_FIELDS
            if f not in self.positions
            and f not in self.title_fields
            and f != self.spread
            and not (f == "value" and (self.is_by_basis or self.spread))
        ]

    def header_of(self, value_field: str) -> str:
        """A value column's header as written, on one line: a header wrapped in its cell
        (1-本月⏎累计, Excel's Alt+Enter) is one name."""
        return one_line(self.headers[self.positions[value_field]])

    def name_of(self, value_field: str) -> str:
        """A value column's header without its note in brackets (本年累计); under a header over
        two rows, the name above its basis."""
        if value_field in self.names:
            return self.names[value_field]
        header = to_halfwidth(self.header_of(value_field))
        bracketed = _BRACKETED.match(header)
        return bracketed[1].strip() if bracketed and value_field in self.notes else header

    @property
    def by_basis_problem(self) -> str | None:
        """Why value columns of a basis cannot be read beside the other columns, or None."""
        if not self.is_by_basis:
            return None
        named = "、".join(
            [self.headers[self.positions[f]] for f in BASIS_VALUE_FIELDS if f in self.positions]
            or dict.fromkeys(self.bases.values())
        )
        if "value" in self.positions:
            other = f"a value column ({self.headers[self.positions['value']]})"
        elif "basis" in self.positions:
            other = f"a basis column ({self.headers[self.positions['basis']]})"
        else:
            return None
        return (
            f"the header names {other} beside value columns of a basis ({named}), so which "
            "value a row reports cannot be told; expected either 数值 (with 口径), or a column "
            "per basis such as 本月 and 本年累计"
        )


def _spread_columns(
    headers: Sequence[str],
    positions: dict[str, int],
    names: SpreadNames,
    above: Sequence[Sequence[str | None]] = (),
) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    """A spread table's value columns among `headers` (those not naming a field), what each
    notes in brackets (技术合同成交额（亿元）: the unit) and the name of each whose header is not
    it (3月 under a title of 2026年: 2026年3月), when the header has no value column: the columns
    that each name an indicator when the header has no 指标 but has 城市 (or 报告期, the rows a
    geography's periods), else those that each name a geography when it has 指标 but no 城市, else
    those that each name a period when it has 指标 but no 报告期 (`above`: the rows above it, the
    year of a month written without it)."""
    # Imported here: titles.py reads the labels of this module's fields.
    from dagster_project.lib.progress.titles import is_period, part_of_year

    def named(spread: str, text: str) -> str | None:
        """The name `text` gives, else None."""
        if spread == "period":
            text = one_line(text)
            return text if is_period(text) else part_of_year(text, above)
        return text if spread_key(text) in names.get(spread, ()) else None

    # A row of data is no header: its value is a number (and a long table's row names an
    # indicator too, with nothing to say what each row is).
    if any(f in positions for f in VALUE_FIELDS) or any(_NUMBER.match(h) for h in headers):
        return {}, {}, {}
    for spread in SPREAD_FIELDS:
        # What each row is: a geography (or a period, of one geography) for a row of indicators;
        # an indicator for a row of geographies.
        by_row = ("geography", "period") if spread == "indicator" else ("indicator",)
        if spread in positions or not any(f in positions for f in by_row):
            continue
        columns: dict[str, int] = {}
        notes: dict[str, str] = {}
        written: dict[str, str] = {}
        for col, header in enumerate(headers):
            if col in positions.values() or not header.strip():
                continue
            name = f"spread_{spread}_{col}"
            if (as_named := named(spread, header)) is not None:
                columns[name] = col
                if as_named != header:
                    written[name] = as_named
                continue
            # A name with its unit (技术合同成交额（亿元）); with another note (（上年同期）: last
            # year's figures, beside this year's) a column of other figures, not read.
            bracketed = _BRACKETED.match(to_halfwidth(one_line(header)))
            if (
                bracketed
                and named(spread, bracketed[1])
                and lookup_key(bracketed[2]) in names.get("unit", ())
            ):
                columns[name] = col
                notes[name] = bracketed[2].strip()
        if columns:
            return columns, notes, written
    return {}, {}, {}


def written_row(cells: Sequence[str | None]) -> tuple[str, ...]:
    """A row as written, to tell a row written again: each cell trimmed (of a byte-order mark
    too), the blank cells after the last dropped."""
    row = [("" if c is None else str(c)).strip("\ufeff \t\r\n") for c in cells]
    while row and not row[-1]:
        row.pop()
    return tuple(row)


def footer_rows(rows: Sequence[Sequence[str | None]]) -> int:
    """How many of `rows`, at their end, are the form's footer below its table: from the first
    row each of whose cells is a footer's label with its text (注：…, 填表人：… 审核人：…), or
    that is a sentence alone (本表数据为快报数，以年报为准。), on, the rows after it blank, such
    rows, or numbered notes (1. …, （2）…). No data row, as a title row above the header is
    not."""
    start = len(rows)
    for index in range(len(rows) - 1, -1, -1):
        # A note merged across the table's columns reads in each cell it covers: one text.
        texts = list(dict.fromkeys(text for text in written_row(rows[index]) if text))
        sentence = len(texts) == 1 and _NOTE_SENTENCE.search(texts[0]) is not None
        if not texts or (len(texts) == 1 and _NOTE_ITEM.match(texts[0]) and not sentence):
            continue
        if not sentence and not _is_footer_row(texts):
            break
        start = index
    return len(rows) - start


def _is_footer_row(texts: list[str]) -> bool:
    """Whether each of a row's cells with text is a footer's label with its text, or the text
    of a bare label in the cell before (填表人： | 张三 | 报出日期： | 2026-11-06)."""
    bare = False
    for text in texts:
        if bare:
            bare = False
            continue
        label = _FOOTER_LABEL.match(text)
        if label is None:
            return False
        bare = not text[label.end() :].strip()
    return True


def _spread_by_basis(match: HeaderMatch, below: Sequence[str | None]) -> HeaderMatch:
    """A spread table's header over two rows when the row below names a basis under its value
    columns: each name over the columns of its bases (技术合同成交额（亿元） over 本月 |
    1-本月累计), merged across them (the name in each) or written over the first (blanks after
    it); a name with no basis below it stays one column. The header is then the row below, its
    columns named by both rows (技术合同成交额（亿元）/本月). Else `match` as it is."""
    basis_below = {}
    for col, cell in enumerate(below):
        found, _ = split_header(cell)
        if found in BASIS_VALUE_FIELDS and cell is not None:
            basis_below[col] = one_line(cell)
    spread_at = {match.positions[f]: f for f in match.spread_fields}
    if not basis_below or not spread_at:
        return match
    positions = {f: i for f, i in match.positions.items() if not spread_field(f)}
    notes = {f: n for f, n in match.notes.items() if not spread_field(f)}
    names, bases, written = {}, {}, {}
    owner = None
    for col in range(max(len(match.headers), len(below))):
        if col in spread_at:
            owner = spread_at[col]
        elif col < len(match.headers) and match.headers[col].strip():
            owner = None  # another column's header
        if owner is None or (col not in basis_below and col != match.positions[owner]):
            continue
        f = f"spread_{spread_field(owner)}_{col}"
        positions[f] = col
        names[f] = match.name_of(owner)
        if owner in match.notes:
            notes[f] = match.notes[owner]
        if col in basis_below:
            bases[f] = basis_below[col]
            written[col] = f"{match.header_of(owner)}/{basis_below[col]}"
    if not bases:
        return match
    upper = [one_line(h) for h in match.headers]
    lower = ["" if c is None else one_line(str(c)) for c in below]
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    headers = tuple(
        written.get(col, a if not b or a == b else b if not a else f"{a}/{b}")
        for col, (a, b) in enumerate(zip(upper, lower, strict=True))
    )
    return replace(
        match,
        row_index=match.row_index + 1,
        header_rows=match.header_rows + 1,
        positions=positions,
        headers=headers,
        notes=notes,
        names=names,
        bases=bases,
    )


def _spread_units_below(
    match: HeaderMatch, below: Sequence[str | None], names: SpreadNames
) -> HeaderMatch:
    """A row of units under a table's indicator columns (地区 | 技术合同成交额 | 规上高企 over
    计量单位 | 亿元 | 家, or over （亿元） | （家））: each column's unit, and the header the two
    rows (a unit under a column not read, a name misspelt, goes with it). Else `match` as it is:
    a row with anything but units and their label in it is data."""
    units: dict[int, str] = {}
    for col, cell in enumerate(below):
        text = one_line(cell or "")
        key = lookup_key(text).strip("()")
        if not text or key in _UNIT_LABELS:
            continue
        if key not in names.get("unit", ()):
            return match
        units[col] = to_halfwidth(text).strip("() ")
    spread = {f: match.positions[f] for f in match.spread_fields}
    if not set(units) & set(spread.values()):
        return match
    notes = dict(match.notes)
    for f, col in spread.items():
        if col in units:
            notes.setdefault(f, units[col])
    return replace(
        match, row_index=match.row_index + 1, header_rows=match.header_rows + 1, notes=notes
    )


def find_header(
    rows: Sequence[Sequence[str | None]], names: SpreadNames | None = None
) -> HeaderMatch | None:
    """The header row among `rows`: the first with every required field — its period and
    geography may be given above it instead (titles.py), its indicators, geographies or periods
    spread over value columns of their own (`names`: `_spread_columns`) —, else the row with the
    most recognised fields (at least two), so that the error can name what is missing."""
    # Imported here: titles.py reads the labels of this module's fields.
    from dagster_project.lib.progress.titles import read_title

    best: HeaderMatch | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        notes: dict[str, str] = {}
        for col, cell in enumerate(row):
            found, note = split_header(str(cell) if cell is not None else None)
            if found and found not in positions:
                positions[found] = col
                if found in VALUE_FIELDS and note is not None:
                    notes[found] = note
        headers = tuple("" if c is None else str(c) for c in row)
        written: dict[str, str] = {}
        if names:
            spread, spread_notes, written = _spread_columns(headers, positions, names, rows[:index])
            positions.update(spread)
            notes.update(spread_notes)
        match = HeaderMatch(index, positions, headers, notes, names=written)
        if match.spread and index + 1 < len(rows):
            match = _spread_by_basis(match, rows[index + 1])
        if match.spread == "indicator" and match.row_index + 1 < len(rows) and names:
            match = _spread_units_below(match, rows[match.row_index + 1], names)
        if not match.missing:
            # The unit or the report date of a table with no such column may be said above it:
            # 单位：万元, 填报日期：2026年11月5日.
            if index and not {"unit", "reported_on"} <= set(positions):
                match = replace(match, title=read_title(rows[:index]))
            return match
        if index and set(match.missing) <= {"period", "geography"}:
            match = replace(match, title=read_title(rows[:index]))
            if not match.missing:
                return match
        if len(positions) >= 2 and (best is None or len(positions) > len(best.positions)):
            best = match
    return best
