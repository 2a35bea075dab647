"""Progress-report columns: the aliases people use for them, and finding the header row.

Reports come with Chinese or English headers in any order, sometimes below a title and a note.
The header row is the first row (of the first `HEADER_SEARCH_ROWS`) in which the four required
columns are all recognised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dagster_project.lib.text import lookup_key, to_halfwidth

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
    ),
    "indicator": ("indicator", "indicator_id", "metric", "指标", "指标名称", "指标项", "考核指标"),
    "value": ("value", "数值", "数据", "值", "完成值", "实际值", "完成数"),
    "unit": ("unit", "单位", "计量单位"),
    "basis": ("basis", "口径", "统计口径", "数据口径"),
    "reporter": ("reporter", "填报单位", "报送单位", "填报部门"),
    "reported_on": ("reported_on", "report_date", "填报日期", "报送日期", "填报时间"),
    "note": ("note", "notes", "备注", "说明"),
}
REQUIRED_FIELDS: tuple[str, ...] = ("period", "geography", "indicator", "value")
FIELDS: tuple[str, ...] = tuple(FIELD_ALIASES)
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
}

_KEY_TO_FIELD = {lookup_key(alias): f for f, aliases in FIELD_ALIASES.items() for alias in aliases}
# A header with a note in brackets after its name: 数值（亿元）, 填报日期(年-月-日).
_BRACKETED = re.compile(r"^(.+?)\s*\(([^()]+)\)$")


def field_for_header(header: str | None) -> str | None:
    """The canonical field a header names, or None when it names none."""
    return split_header(header)[0]


def split_header(header: str | None) -> tuple[str | None, str | None]:
    """The canonical field a header names, and what it says in brackets after the name, if the
    name alone is what names the field (数值（亿元） → value, 亿元: the values' unit)."""
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
    # The unit in brackets after the value column's name (数值（亿元）): a row's unit when its
    # own unit cell is blank or the file has no unit column.
    value_unit: str | None = None

    @property
    def missing(self) -> list[str]:
        return [f for f in REQUIRED_FIELDS if f not in self.positions]


def find_header(rows: Sequence[Sequence[str | None]]) -> HeaderMatch | None:
    """The header row among `rows`: the first with every required field, else the row with the
    most recognised fields (at least two), so that the error can name what is missing."""
    best: HeaderMatch | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        value_unit = None
        for col, cell in enumerate(row):
            field, note = split_header(str(cell) if cell is not None else None)
            if field and field not in positions:
                positions[field] = col
                value_unit = note if field == "value" else value_unit
        headers = tuple("" if c is None else str(c) for c in row)
        match = HeaderMatch(index, positions, headers, value_unit)
        if not match.missing:
            return match
        if len(positions) >= 2 and (best is None or len(positions) > len(best.positions)):
            best = match
    return best
