"""The scorecard as an Excel workbook, `report/scorecard.xlsx` beside the page (`make report`):
what a plan office forwards, prints, sorts and annotates — its working tool — with the same
figures as the page, read from the published warehouse.

Sheets: 说明 About (the publication, the rules), 目标 Targets (each target's status today and
since when), 成员 Members (each member's part of an area target), 地区 Geographies (each
geography's targets, parts and reporting record: marts.scorecard_geography), 缺报 Missing (the
reports owed), 待核对 To check (values far from the report before them: dq.value_checks),
状态变化 Changes (marts.target_status_log). Headers in Chinese and English;
numbers stay numbers; a status cell has the page's colour. A sheet that would pass MAX_ROWS rows
(at a province's scale the missing reports run to millions, beyond Excel's 1,048,576) keeps the
first, worst first, and says so on the About sheet.

Written with openpyxl in write-only mode (rows streamed to the file, not held as cell objects).
Text from the warehouse goes in as text, never as a formula: a name beginning with `=` stays a
name (formula injection).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from dagster_project.lib import status_log
from dagster_project.lib.explain import bands
from dagster_project.lib.paths import write_atomically
from dagster_project.lib.progress.value_checks import OPEN_VALUE_CHECKS_SQL
from dagster_project.lib.report import STATUS_COLOURS, STATUS_LABELS
from dagster_project.lib.sql import (
    OFFICE_TIMEZONE,
    column_exists,
    if_column,
    members_part_sql,
    table_exists,
)
from dagster_project.lib.status_log import worst_first_sql

MAX_ROWS = 20_000
# Excel reads a string beginning with these as a formula.
_FORMULA_START = ("=", "+", "-", "@")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")


@dataclass
class Sheet:
    title: str
    headers: list[str]
    rows: list[tuple[Any, ...]]
    widths: list[int]
    total: int = 0  # rows before MAX_ROWS
    status_columns: set[int] = field(default_factory=set)  # columns holding a status id

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def _query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> tuple[list[tuple[Any, ...]], int]:
    """The first MAX_ROWS rows of `sql` (in its order), and how many it has."""
    rows = con.execute(f"{sql} limit {MAX_ROWS + 1}", list(params)).fetchall()
    if len(rows) <= MAX_ROWS:
        return rows, len(rows)
    [(total,)] = con.execute(f"select count(*) from ({sql})", list(params)).fetchall()  # noqa: S608
    return rows[:MAX_ROWS], total


def _targets(con: duckdb.DuckDBPyConnection) -> Sheet:
    logged = status_log.latest_sql(con)
    # What the data should reach, where they are behind it or too far behind to judge (empty
    # from a warehouse published before the columns existed).
    stale = if_column(con, "fct_target_vs_actual", "is_data_stale", " or v.is_data_stale", "")
    # No projection from data too far behind, whose projected status is no data (as the page).
    projected = if_column(
        con,
        "fct_target_vs_actual",
        "is_data_stale",
        "case when not v.is_data_stale then v.projected_value end",
        "v.projected_value",
    )
    due_through = if_column(
        con,
        "fct_target_vs_actual",
        "is_data_behind",
        f"case when v.is_data_behind{stale} then v.data_due_through_date end",
    )
    # On track only at its path's start (no baseline): no progress to measure yet.
    at_start = if_column(
        con,
        "fct_target_vs_actual",
        "is_at_path_start",
        "case when v.is_at_path_start then '起点 start' end",
    )
    rows, total = _query(
        con,
        f"""
        with logged as ({logged})
        select
            p.name_zh, a.name_zh, i.name_zh, g.name_zh,
            v.comparator, v.target_value, v.unit, v.due_date,
            v.actual_value, v.expected_value, v.pace_ratio, v.status,
            {projected}, v.projected_status, v.data_through_date, {due_through},
            {at_start},
            case when logged.logged_status = v.status then logged.status_since end,
            t.source_quote_zh, v.target_id
        from marts.fct_target_vs_actual as v
        inner join marts.fct_target as t on v.target_id = t.target_id
        inner join marts.dim_plan as p on v.plan_id = p.plan_id
        inner join marts.dim_action as a on v.action_id = a.action_id
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        inner join marts.dim_geography as g on v.geo_id = g.geo_id
        left join logged on v.target_id = logged.target_id
        where v.is_latest
        order by v.plan_id, a.action_seq, v.target_id
        """,  # noqa: S608 - one of two constant queries
    )
    return Sheet(
        "目标 Targets",
        [
            "规划 plan",
            "行动 action",
            "指标 indicator",
            "地区 geography",
            "比较 comparator",
            "目标 target",
            "单位 unit",
            "截止 due",
            "实际 actual",
            "应达 expected",
            "进度 pace",
            "状态 status",
            "预测 projected",
            "预测状态 projected status",
            "数据截至 data through",
            "待更新·应报至 behind, due through",
            "进度起点 at path start",
            "状态自 status since",
            "原文 source",
            "target_id",
        ],
        rows,
        [24, 16, 24, 14, 8, 10, 8, 11, 12, 12, 8, 16, 12, 16, 13, 15, 11, 13, 60, 30],
        total,
        {11, 13},
    )


def _members(con: duckdb.DuckDBPyConnection) -> Sheet:
    # A member's own data behind its area's reports due (empty from a warehouse published before
    # the column existed).
    due_through = if_column(
        con,
        "fct_target_contribution",
        "is_data_behind",
        "case when c.is_data_behind then c.data_due_through_date end",
    )
    rows, total = _query(
        con,
        f"""
        select
            c.target_id, i.name_zh, area.name_zh, member.name_zh, c.actual_value,
            c.expected_value, c.status, c.expected_basis, c.member_target_id,
            c.data_through_date, {due_through}
        from marts.fct_target_contribution as c
        inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
        inner join marts.dim_geography as area on c.area_geo_id = area.geo_id
        inner join marts.dim_geography as member on c.geo_id = member.geo_id
        -- Not the parts the area reports itself, owed by no member (lib/sql.py).
        where {members_part_sql(con, "c", "i")}
        order by c.target_id, {worst_first_sql("c.status")}, c.geo_id
        """,  # noqa: S608 - constants
    )
    return Sheet(
        "成员 Members",
        [
            "target_id",
            "指标 indicator",
            "区域 area",
            "成员 member",
            "实际 actual",
            "应达 expected",
            "状态 status",
            "依据 basis",
            "分解目标 member target",
            "数据截至 data through",
            "待更新·应报至 behind, due through",
        ],
        rows,
        [30, 24, 14, 14, 12, 12, 16, 14, 30, 13, 16],
        total,
        {6},
    )


def _geographies(con: duckdb.DuckDBPyConnection) -> Sheet:
    """A row per geography (marts.scorecard_geography): its own targets, its parts of its areas'
    targets judged, how many of either its data hold back, its reporting record — most reports
    missing first, the office's chasing list."""
    # Counts added since older code published the warehouse read: blank there, and no second
    # sort key (a constant there would be read as a column position).
    own_behind = if_column(
        con, "scorecard_geography", "own_data_behind_count", "s.own_data_behind_count"
    )
    has_parts_behind = column_exists(
        con, "marts", "scorecard_geography", "contribution_data_behind_count"
    )
    parts_behind = "s.contribution_data_behind_count" if has_parts_behind else "null"
    behind_order = "s.contribution_data_behind_count" if has_parts_behind else "s.reports_missing"
    rows, total = _query(
        con,
        f"""
        select
            s.name_zh, s.geo_id, s.geo_level, area.name_zh, s.own_target_count,
            s.own_on_track_count, s.own_lagging_count, {own_behind}, s.contribution_count,
            s.contribution_on_track_count, s.contribution_lagging_count,
            s.contribution_no_data_count, {parts_behind}, s.reports_expected,
            s.reports_received, s.reports_late, s.reports_missing, s.latest_report_received_on
        from marts.scorecard_geography as s
        left join marts.dim_geography as area on s.parent_geo_id = area.geo_id
        order by s.reports_missing desc, {behind_order} desc, s.geo_id
        """,  # noqa: S608 - constants
    )
    return Sheet(
        "地区 Geographies",
        [
            "地区 geography",
            "geo_id",
            "层级 level",
            "所属 area",
            "本级目标 own targets",
            "其中正常 on track",
            "其中落后 lagging",
            "其中数据待更新 behind",
            "参与考核的区域目标 parts judged",
            "其中正常 on track",
            "其中落后 lagging",
            "其中无数据 no data",
            "其中拖后区域 holding back",
            "应报 expected",
            "已收 received",
            "逾期 late",
            "缺报 missing",
            "最近报送 latest received",
        ],
        rows,
        [14, 16, 10, 14, 10, 10, 10, 12, 12, 10, 10, 10, 12, 10, 10, 10, 10, 13],
        total,
    )


def _missing(con: duckdb.DuckDBPyConnection) -> Sheet:
    rows, total = _query(
        con,
        """
        select
            g.name_zh, i.name_zh, c.period_start, c.period_end, c.report_due_date, c.days_late,
            c.geo_id, c.indicator_id
        from marts.fct_report_completeness as c
        inner join marts.dim_geography as g on c.geo_id = g.geo_id
        inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
        where c.report_status = 'missing'
        order by c.days_late desc, c.geo_id, c.indicator_id, c.period_start
        """,
    )
    return Sheet(
        "缺报 Missing",
        [
            "地区 geography",
            "指标 indicator",
            "期初 period start",
            "期末 period end",
            "应报日 due",
            "逾期天数 days late",
            "geo_id",
            "indicator_id",
        ],
        rows,
        [14, 24, 12, 12, 12, 10, 16, 30],
        total,
    )


def _to_check(con: duckdb.DuckDBPyConnection) -> Sheet | None:
    """The values landed far from the report before them (dq.value_checks) that still count:
    each the marts' latest report of its period, neither corrected since nor withdrawn, named
    once (by its last check), farthest first — what to ask the senders."""
    if not table_exists(con, "dq", "value_checks"):
        return None
    rows, total = _query(
        con,
        f"""
        select
            g.name_zh, i.name_zh, v.period_start, v.period_end, v.value, v.unit,
            v.previous_period_end, v.previous_value, v.factor, v.source_file, v.sheet,
            v.source_row, v.source_column, v.previous_source_file, v.previous_source_row, v.geo_id,
            v.indicator_id
        from ({OPEN_VALUE_CHECKS_SQL}) as v
        inner join marts.dim_geography as g on v.geo_id = g.geo_id
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        order by greatest(v.factor, 1 / v.factor) desc, v.geo_id, v.indicator_id, v.period_end
        """,  # noqa: S608 - a constant
    )
    return Sheet(
        "待核对 To check",
        [
            "地区 geography",
            "指标 indicator",
            "期初 period start",
            "期末 period end",
            "数值 value",
            "单位 unit",
            "前一报告期末 previous period end",
            "前一报告数值 previous value",
            "倍数 factor",
            "文件 file",
            "工作表 sheet",
            "行 row",
            "列 column",
            "前一报告文件 previous file",
            "前一报告行 previous row",
            "geo_id",
            "indicator_id",
        ],
        rows,
        [14, 24, 12, 12, 12, 8, 14, 14, 10, 40, 10, 8, 12, 40, 8, 16, 30],
        total,
    )


def _changes(con: duckdb.DuckDBPyConnection) -> Sheet | None:
    if not table_exists(con, "marts", "target_status_log"):
        return None
    rows, total = _query(
        con,
        f"""
        select
            strftime(timezone('{OFFICE_TIMEZONE}', log.published_at), '%Y-%m-%d %H:%M'),
            log.as_of_date, log.target_id, i.name_zh, log.previous_status, log.status,
            log.previous_projected_status, log.projected_status, log.pace_ratio
        from marts.target_status_log as log
        inner join marts.fct_target as t on log.target_id = t.target_id
        inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
        order by log.published_at desc, log.target_id
        """,  # noqa: S608 - constants
    )
    return Sheet(
        "状态变化 Changes",
        [
            "发布 published (北京时间)",
            "评估日期 as of",
            "target_id",
            "指标 indicator",
            "原状态 was",
            "状态 status",
            "原预测 projection was",
            "预测状态 projected status",
            "进度 pace",
        ],
        rows,
        [18, 12, 30, 24, 16, 16, 16, 16, 8],
        total,
        {4, 5, 6, 7},
    )


def _about(con: duckdb.DuckDBPyConnection, sheets: list[Sheet]) -> Sheet:
    published = con.execute(
        f"""
        select
            run_id, strftime(timezone('{OFFICE_TIMEZONE}', published_at), '%Y-%m-%d %H:%M:%S'),
            code_version
        from marts.publish_log
        order by published_at desc
        limit 1
        """  # noqa: S608 - constants
    ).fetchall()
    run_id, published_at, code = published[0] if published else ("(not published)", None, None)
    [(as_of,)] = con.execute(
        "select max(as_of_date) from marts.fct_target_vs_actual where is_latest"
    ).fetchall()
    on_track, at_risk = bands()
    rows: list[tuple[Any, ...]] = [
        ("规划目标进度看板 Plan tracker scorecard", ""),
        ("发布时间 published (北京时间 Beijing)", published_at),
        ("运行 run", run_id),
        ("版本 code", code),
        ("评估日期 as of", as_of),
        (
            "状态 status",
            f"进度 pace = 实际进展 / 应达进展 (share of the expected progress made); 正常 on track "
            f"≥ {on_track:.2f}, 有风险 at risk ≥ {at_risk:.2f}, 滞后 off track below; 已完成 "
            "achieved: the target is met; 无数据 no data: no report counts yet, or the data "
            "end too far behind the reports due to judge (数据停滞: more than stale_after_months, "
            "12 by default, before the date under 待更新·应报至)",
        ),
        (
            "数据待更新 behind",
            "a date under 待更新·应报至: the reports due through it are not all in, so the status "
            "stands where the data end (数据截至 data through), not today; on the Members sheet, "
            "the member's own reports (it owes one)",
        ),
        (
            "成员 Members",
            "each member's part of its areas' targets, but for the figures an area reports "
            "itself, which no member owes (fct_target_contribution.is_member_judged false)",
        ),
        (
            "地区 Geographies",
            "a row per geography (marts.scorecard_geography): its own targets, the parts of its "
            "areas' targets it is judged on, how many of either its data hold back, its reports "
            "— most missing first; `make explain TARGET=<geography>` tells one in full",
        ),
        (
            "待核对 To check",
            "values landed ten times above or below the report before them (a thousand times "
            "for an amount per period): a slip of the unit (万元 under 亿元), a fraction for a "
            "percent, a digit typed twice? They count as reported until corrected or withdrawn "
            "(dq.value_checks)",
        ),
        (
            "进度起点 at path start",
            "起点 start under 进度起点: on track only by being its own path's start — with no "
            "baseline in the catalog the path starts at the first report (an annual target: its "
            "first reported year's rate), so there is no progress to measure yet",
        ),
        ("来源 source", "the published warehouse: marts.fct_target_vs_actual and the marts beside"),
    ]
    for sheet in sheets:
        if sheet.truncated:
            rows.append(
                (
                    f"{sheet.title}",
                    f"the first {len(sheet.rows):,} of {sheet.total:,} rows, worst first; "
                    "every row is in the warehouse",
                )
            )
    rows.append(
        (
            "示例数据 illustrative",
            "the 2026 reports bundled with plan-tracker are invented (README)",
        )
    )
    return Sheet("说明 About", ["项目 item", "内容 value"], rows, [34, 110])


def sheets(con: duckdb.DuckDBPyConnection) -> list[Sheet]:
    """Every sheet of the workbook, About first, from an open published warehouse."""
    body = [_targets(con), _members(con), _geographies(con), _missing(con)]
    body += [sheet for sheet in (_to_check(con), _changes(con)) if sheet is not None]
    return [_about(con, body), *body]


def _cell(ws: WriteOnlyWorksheet, value: Any, status: bool = False) -> WriteOnlyCell | Any:
    if status and isinstance(value, str) and value in STATUS_LABELS:
        cell = WriteOnlyCell(ws, value=STATUS_LABELS[value])
        colour = STATUS_COLOURS[value].lstrip("#").upper()
        cell.fill = PatternFill("solid", fgColor=colour)
        cell.font = Font(color="FFFFFF", bold=True)
        return cell
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # text, not a formula
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, float):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "#,##0.00"
        return cell
    return value


def write(sheet_list: list[Sheet], path: Path) -> None:
    workbook = Workbook(write_only=True)
    for sheet in sheet_list:
        ws = workbook.create_sheet(sheet.title)
        ws.freeze_panes = "A2"
        for number, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(number)].width = width
        header = []
        for text in sheet.headers:
            cell = WriteOnlyCell(ws, value=text)
            cell.font = _HEADER_FONT
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append(
                [
                    _cell(ws, value, status=index in sheet.status_columns)
                    for index, value in enumerate(row)
                ]
            )
        if sheet.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.headers))}{len(sheet.rows) + 1}"
    workbook.save(path)


def write_workbook(published_db: Path, report_dir: Path) -> Path:
    """Write `report_dir/scorecard.xlsx` from the published warehouse (read-only), atomically."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        sheet_list = sheets(con)
    return write_atomically(report_dir / "scorecard.xlsx", lambda tmp: write(sheet_list, tmp))
