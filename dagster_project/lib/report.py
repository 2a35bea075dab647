"""The offline scorecard page: one self-contained HTML file (inline CSS and SVG, no script and no
request beyond the file itself), bilingual, readable on an intranet without internet access.

Every piece of text that comes from the warehouse (and so, ultimately, from input files) goes
through `esc` (html.escape with quotes): a city named `<script>` stays text.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib import status_log
from dagster_project.lib.explain import explain_target
from dagster_project.lib.paths import write_atomically
from dagster_project.lib.sql import OFFICE_TIMEZONE, if_column, members_part_sql
from dagster_project.lib.status_log import WORST_FIRST

STATUS_COLOURS = {
    "achieved": "#1a7f37",
    "on_track": "#2da44e",
    "at_risk": "#d4a72c",
    "off_track": "#cf222e",
    "no_data": "#8c959f",
}
STATUS_LABELS = {
    "achieved": "已完成 achieved",
    "on_track": "正常 on track",
    "at_risk": "有风险 at risk",
    "off_track": "滞后 off track",
    "no_data": "无数据 no data",
}
STATUS_ORDER = list(WORST_FIRST)
# A status standing on data behind the reports due (is_data_behind): not 滞后, which is off track.
BEHIND_LABEL = "数据待更新 data behind"
# On track only by being its own path's start (is_at_path_start): no baseline in the catalog.
AT_START_LABEL = "起点 at its path's start (无基数 no baseline)"
# A deadline passed with the data reaching it (fct_target_vs_actual.is_final): off track is
# its outcome, missed, no longer a pace.
MISSED_LABEL = "未完成 missed"
# No status on data too far behind the reports due (is_data_stale; stale_after_months).
STALE_LABEL = "数据停滞 data too far behind"
# A deadline passed whose reports, due since, do not reach it (is_final_overdue).
OVERDUE_LABEL = "逾期未报 reports overdue, due"


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def _label(status: str | None, is_final: bool = False) -> str:
    if is_final and status == "off_track":
        return MISSED_LABEL
    return STATUS_LABELS.get(status or "", status or "")


def _badge(status: str | None, is_final: bool = False) -> str:
    status = status or "no_data"
    return (
        f'<span class="badge" style="background:{STATUS_COLOURS.get(status, "#8c959f")}">'
        f"{esc(_label(status, is_final))}</span>"
    )


def _outlook(t: dict[str, Any]) -> str:
    """Under the status: the projection's, or for a deadline with its outcome, that it is final."""
    if t["is_final"]:
        return "已到期 deadline passed: final"
    if t["is_final_overdue"]:
        # Its reports due and not in (fct_target_vs_actual.is_final_overdue): no outcome yet.
        return f"已到期 deadline passed: {OVERDUE_LABEL} {esc(t['final_reports_due_date'])}"
    return f"预测 {esc(STATUS_LABELS.get(t['projected_status'], ''))}"


# The targets whose status the page explains in full (lib/explain.py): those that need the
# office's attention. Not every target: at a province's scale an explanation reads thousands of
# members' rows.
EXPLAINED = ("off_track", "at_risk", "no_data")


def _why(con: duckdb.DuckDBPyConnection, t: dict[str, Any]) -> str:
    """How a lagging target's status was reached, folded under it: `make explain`'s text."""
    if t["status"] not in EXPLAINED:
        return ""
    text = explain_target(con, t["target_id"])
    return f'<details class="why"><summary>为什么 why</summary><pre>{esc(text)}</pre></details>'


def _since(t: dict[str, Any], latest_run: str | None) -> str:
    """Under the status: since when the publications have shown it (marts.target_status_log,
    lib/status_log.py), or what it and its projection were if this publication changed them."""
    if t["logged_status"] is None or t["logged_status"] != t["status"]:
        return ""  # no log yet, or a look back (which logs nothing)
    changes = []
    if t["logged_run"] == latest_run and t["previous_status"] is not None:
        if t["previous_status"] != t["status"]:
            changes.append(f"本次变化 changed from {esc(_label(t['previous_status']))}")
        if t["previous_projected_status"] != t["projected_status"]:
            changes.append(f"预测原为 projection was {esc(_label(t['previous_projected_status']))}")
    if not any(c.startswith("本次") for c in changes):
        changes.insert(0, f"自 since {esc(t['status_since'])}")
    return "<br><small>" + " · ".join(changes) + "</small>"


def _behind(t: dict[str, Any]) -> str:
    """Under the status: the data stop short of the reports due (fct_target_vs_actual.
    is_data_behind), so the status stands where they end, not today; for an area, the members
    whose reports it waits for. Not from a warehouse published before the column existed."""
    if not t.get("is_data_behind"):
        return ""
    owed = ""
    if t.get("owing_count"):
        # An area's sum waits for these members' reports: who to chase.
        names = "、".join(esc(name) for name in t["owing_names"])
        more = t["owing_count"] - len(t["owing_names"])
        owed = f" · 待报 owed by {names}" + (f" 等 and {more} more" if more else "")
    return (
        f"<br><small>{BEHIND_LABEL}: 应报至 due through {esc(t['data_due_through_date'])}"
        f"{owed}</small>"
    )


def _stale(t: dict[str, Any]) -> str:
    """Under a no_data status whose data exist but end too far behind the reports due
    (fct_target_vs_actual.is_data_stale): where they end and what is owed since. Not from a
    warehouse published before the column existed."""
    if not t.get("is_data_stale"):
        return ""
    return (
        f"<br><small>{STALE_LABEL}: 数据截至 data through {esc(t['data_through_date'])} · "
        f"应报至 due through {esc(t['data_due_through_date'])}</small>"
    )


def _at_start(t: dict[str, Any]) -> str:
    """Under an on-track status that is only its path's start (fct_target_vs_actual.
    is_at_path_start: no baseline, the path starts at the data): no progress to measure yet. Not
    from a warehouse published before the column existed."""
    if not t.get("is_at_path_start"):
        return ""
    return f"<br><small>{AT_START_LABEL}: 尚无可比进度 no progress to measure yet</small>"


def _at_start_count(plan: dict[str, Any]) -> str:
    """Beside the plan's reports: how many of its on-track targets are only at their path's
    start (scorecard_plan.at_path_start_count; absent from an older warehouse)."""
    if not plan.get("at_path_start_count"):
        return ""
    return f" · {AT_START_LABEL}: {esc(plan['at_path_start_count'])} 个目标 targets"


def _behind_count(plan: dict[str, Any]) -> str:
    """Beside the plan's reports: how many of its statuses stand on data behind the reports due
    (scorecard_plan.data_behind_count; absent from a warehouse published before it existed)."""
    if not plan.get("data_behind_count"):
        return ""
    return f" · {BEHIND_LABEL}: {esc(plan['data_behind_count'])} 个目标 targets"


def _stale_count(plan: dict[str, Any]) -> str:
    """Beside the plan's reports: how many of its no-data targets have data, too far behind the
    reports due to judge (scorecard_plan.data_stale_count; absent from an older warehouse)."""
    if not plan.get("data_stale_count"):
        return ""
    return f" · {STALE_LABEL}: {esc(plan['data_stale_count'])} 个目标 targets"


def _part_of(t: dict[str, Any]) -> str:
    """A 分解目标 names the area target it is a part of (fct_target.part_of_target_id)."""
    if not t["part_of_target_id"]:
        return ""
    return f" · 分解自 part of {esc(t['part_of_target_id'])}"


def _last_year(t: dict[str, Any]) -> str:
    """A per-year target's result for the year before, under this year's status (in January,
    before a report of the new year, that status is no data)."""
    if t["last_year"] is None:
        return ""
    actual = "" if t["last_year_actual"] is None else f" {_fmt(t['last_year_actual'])}"
    if actual and t["last_year_status"] == "no_data":
        # Its reports due and not all in: what is known is not the year's result.
        actual = f" ({_fmt(t['last_year_actual'])} through {t['last_year_through']})"
    if t["last_year_overdue"]:
        actual += f" · {OVERDUE_LABEL} {t['last_year_reports_due']}"
    return (
        f"<br><small>{esc(t['last_year'])} 全年 year: "
        f"{esc(_label(t['last_year_status'], t['last_year_final']))}{esc(actual)}</small>"
    )


def _projection(t: dict[str, Any]) -> float | None:
    """The projection shown: none from data too far behind to judge (is_data_stale), whose
    projected_status is no_data — a ring at the old trend's end would say otherwise (explain
    still tells where those data pointed)."""
    return None if t.get("is_data_stale") else t["projected_value"]


def _target_bar(t: dict[str, Any]) -> str:
    """Actual bar (status colour), expected marker, target line and projection marker."""
    values = [
        v
        for v in (t["target_value"], t["actual_value"], t["expected_value"], _projection(t))
        if v is not None
    ]
    top = max([*values, 1e-9]) * 1.1
    width = 520

    def x(v: float) -> float:
        return max(0.0, min(width, v / top * width))

    parts = [
        f'<svg class="bar" viewBox="0 0 {width} 34" width="{width}" height="34" role="img">',
        f'<rect x="0" y="8" width="{width}" height="16" fill="#eaeef2"/>',
    ]
    if t["actual_value"] is not None:
        parts.append(
            f'<rect x="0" y="8" width="{x(t["actual_value"]):.1f}" height="16" '
            f'fill="{STATUS_COLOURS.get(t["status"], "#8c959f")}"/>'
        )
    if t["expected_value"] is not None:
        parts.append(
            f'<line x1="{x(t["expected_value"]):.1f}" x2="{x(t["expected_value"]):.1f}" y1="3" '
            f'y2="29" stroke="#24292f" stroke-width="2" stroke-dasharray="3,2">'
            f"<title>应达 expected {esc(_fmt(t['expected_value']))}</title></line>"
        )
    parts.append(
        f'<line x1="{x(t["target_value"]):.1f}" x2="{x(t["target_value"]):.1f}" y1="0" y2="32" '
        f'stroke="#0969da" stroke-width="3"><title>目标 target '
        f"{esc(_fmt(t['target_value']))}</title></line>"
    )
    projected = _projection(t)
    if projected is not None:
        parts.append(
            f'<circle cx="{x(projected):.1f}" cy="16" r="5" fill="none" '
            f'stroke="#8250df" stroke-width="2"><title>预测 projected '
            f"{esc(_fmt(projected))}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _plan_section(
    con: duckdb.DuckDBPyConnection, plan: dict[str, Any], latest_run: str | None
) -> str:
    logged = status_log.latest_sql(con)
    # Who owes the reports an area target's data wait for: its members behind
    # (fct_target_contribution.is_data_behind), the first three by id; none from a warehouse
    # published before the column existed.
    owing = if_column(
        con,
        "fct_target_contribution",
        "is_data_behind",
        """
        select c.target_id, count(*) as owing_count,
            list(g.name_zh order by c.geo_id)[1:3] as owing_names
        from marts.fct_target_contribution as c
        inner join marts.dim_geography as g on c.geo_id = g.geo_id
        where c.is_data_behind
        group by c.target_id
        """,
        "select null as target_id, 0 as owing_count, [] as owing_names",
    )
    targets = _rows(
        con,
        f"""
        with logged as ({logged}), owing as ({owing})
        select v.*, t.source_quote_zh, t.source_quote_en, t.part_of_target_id,
            owing.owing_count, owing.owing_names,
            logged.logged_status, logged.previous_status, logged.previous_projected_status,
            logged.logged_run, logged.status_since,
            i.name_zh as indicator_zh,
            i.name_en as indicator_en, g.name_zh as geo_zh, a.name_zh as action_zh,
            a.action_seq, year(last_year.month_end) as last_year,
            last_year.status as last_year_status, last_year.is_final as last_year_final,
            last_year.actual_value as last_year_actual,
            last_year.data_through_date as last_year_through,
            last_year.is_final_overdue as last_year_overdue,
            last_year.final_reports_due_date as last_year_reports_due
        from marts.fct_target_vs_actual as v
        inner join marts.fct_target as t on v.target_id = t.target_id
        -- A per-year target starts again each year: beside this year's status, last year's.
        left join marts.fct_target_vs_actual as last_year
            on v.cadence = 'per_year' and last_year.target_id = v.target_id
            and last_year.month_end = make_date(year(v.month_end) - 1, 12, 31)
        inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
        inner join marts.dim_geography as g on t.geo_id = g.geo_id
        inner join marts.dim_action as a on t.action_id = a.action_id
        left join logged on v.target_id = logged.target_id
        left join owing on v.target_id = owing.target_id
        where v.is_latest and v.plan_id = ?
        order by a.action_seq, t.target_id
        """,  # noqa: S608 - one of two constant queries
        [plan["plan_id"]],
    )
    counts = " ".join(
        f"{_badge(s)} {plan[s + '_count']}"
        for s in ["achieved", "on_track", "at_risk", "off_track", "no_data"]
    )
    out = [
        f'<section class="plan"><h2>{esc(plan["name_zh"])}<br>'
        f"<small>{esc(plan['name_en'])}</small></h2>",
        f'<p class="counts">{counts}</p>',
        f'<p class="meta">报送 reports: {esc(plan["reports_received"])} 已收 received · '
        f"{esc(plan['reports_late'])} 逾期 late · {esc(plan['reports_missing'])} 缺报 missing · "
        f"最近报送 latest {esc(plan['latest_report_received_on'])}{_behind_count(plan)}"
        f"{_stale_count(plan)}{_at_start_count(plan)}</p>",
    ]
    if not targets:
        (begins,) = con.execute(
            "select horizon_start_date from marts.dim_plan where plan_id = ?", [plan["plan_id"]]
        ).fetchone() or (None,)
        out.append(
            f'<p class="meta">规划 {esc(begins)} 开始，尚无目标可评估 · begins {esc(begins)}: '
            f"no target judged as of {esc(plan['as_of_date'])}</p>"
        )
    out += [
        '<table class="targets"><thead><tr><th>行动 action</th><th>指标 indicator</th>'
        "<th>进度 progress (bar: actual · dashed: expected · blue: target · ring: projection)</th>"
        "<th>状态 status</th><th>原文 source</th></tr></thead><tbody>",
    ]
    for t in targets:
        numbers = (
            f"实际 {esc(_fmt(t['actual_value']))} / 应达 {esc(_fmt(t['expected_value']))} / "
            f"目标 {esc(t['comparator'])} {esc(_fmt(t['target_value']))} {esc(t['unit'])} "
            f"({esc(t['due_date'])}) · 预测 {esc(_fmt(_projection(t)))}"
        )
        if t["data_through_date"] is not None:
            # The status is judged at the date the data reach, which may be months back (or,
            # in January, the year before's total): say which.
            numbers += f" · 数据截至 data through {esc(t['data_through_date'])}"

        out.append(
            f'<tr title="{esc(t["source_quote_zh"])}"><td>{esc(t["action_zh"])}</td>'
            f"<td>{esc(t['indicator_zh'])}<br><small>{esc(t['indicator_en'])} · "
            f"{esc(t['geo_zh'])}{_part_of(t)}</small></td>"
            f"<td>{_target_bar(t)}<br><small>{numbers}</small></td>"
            f"<td>{_badge(t['status'], t['is_final'])}<br><small>{_outlook(t)}</small>"
            f"{_behind(t)}{_stale(t)}{_at_start(t)}{_since(t, latest_run)}{_last_year(t)}"
            f"{_why(con, t)}</td>"
            f'<td class="quote">{esc(t["source_quote_zh"])}<br>'
            f"<small>{esc(t['source_quote_en'])}</small></td></tr>"
        )
    out.append("</tbody></table></section>")
    return "".join(out)


def _heat_map(con: duckdb.DuckDBPyConnection) -> str:
    """City × action, each cell the worst status of the city's targets and parts of its areas'
    targets, marked 待 where one of them stands on data behind the reports due (a member's own
    data, fct_target_contribution.is_data_behind; a city's own target's, fct_target_vs_actual's,
    or its data too far behind to judge, is_data_stale):
    the city owes a report. Unmarked from a warehouse published before the columns existed."""
    behind_member, behind_own = (
        if_column(con, table, "is_data_behind", f"{alias}.is_data_behind", "false")
        for alias, table in (("c", "fct_target_contribution"), ("v", "fct_target_vs_actual"))
    )
    # A city's own target without a status on data too far behind (is_data_stale) is its
    # reports owed too (a member's part so is behind as well).
    behind_own += if_column(con, "fct_target_vs_actual", "is_data_stale", " or v.is_data_stale", "")
    # A part the area reports itself leaves the member's cell blank (lib/sql.py).
    theirs = members_part_sql(con, "c", "i")
    cells = _rows(
        con,
        f"""
        select c.geo_id, g.name_zh as geo_zh, c.action_id, a.name_zh as action_zh, a.plan_id,
            a.action_seq, c.status, {behind_member} as is_data_behind, {theirs} as is_theirs
        from marts.fct_target_contribution as c
        inner join marts.dim_geography as g on c.geo_id = g.geo_id
        inner join marts.dim_action as a on c.action_id = a.action_id
        inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
        union all
        select v.geo_id, g.name_zh, v.action_id, a.name_zh, a.plan_id, a.action_seq, v.status,
            {behind_own}, true
        from marts.fct_target_vs_actual as v
        inner join marts.dim_geography as g on v.geo_id = g.geo_id
        inner join marts.dim_action as a on v.action_id = a.action_id
        where v.is_latest and g.level not in ('metro_area', 'corridor')
        """,  # noqa: S608 - column names chosen above
    )
    worst: dict[tuple[str, str], str] = {}
    behind: set[tuple[str, str]] = set()
    # A row per plan and city: a city of both plans (武汉: a member of the metro area, and the
    # geography of a corridor target) has a row in each plan's table.
    geos: dict[tuple[str, str], str] = {}
    actions: dict[str, tuple[str, int, str]] = {}
    for c in cells:
        # Every city and action has its row and column, blank cells included.
        geos[(c["plan_id"], c["geo_id"])] = c["geo_zh"]
        actions[c["action_id"]] = (c["action_zh"], c["action_seq"], c["plan_id"])
        if not c["is_theirs"]:
            continue
        key = (c["geo_id"], c["action_id"])
        current = worst.get(key)
        if current is None or STATUS_ORDER.index(c["status"]) < STATUS_ORDER.index(current):
            worst[key] = c["status"]
        if c["is_data_behind"]:
            behind.add(key)
    out = [
        "<section><h2>城市 × 行动 状态热力图<br><small>City × action status (worst target; members"
        " judged on their share of the area's path; blank: no part of its own, as where the area"
        " reports the figure itself)</small></h2>"
    ]
    for plan_id in sorted({p for p, _ in geos}):
        cols = sorted(
            (a for a, v in actions.items() if v[2] == plan_id), key=lambda a: actions[a][1]
        )
        rows = sorted(g for p, g in geos if p == plan_id)
        out.append('<table class="heat"><thead><tr><th></th>')
        out += [f"<th>{esc(actions[a][0])}</th>" for a in cols]
        out.append("</tr></thead><tbody>")
        for g in rows:
            out.append(f"<tr><th>{esc(geos[(plan_id, g)])}</th>")
            for a in cols:
                status = worst.get((g, a))
                colour = STATUS_COLOURS.get(status or "", "#ffffff")
                label = STATUS_LABELS.get(status or "", "")
                if (g, a) in behind:
                    out.append(
                        f'<td style="background:{colour}" title="{esc(label)} · {BEHIND_LABEL}">'
                        "待</td>"
                    )
                else:
                    out.append(f'<td style="background:{colour}" title="{esc(label)}"></td>')
            out.append("</tr>")
        out.append("</tbody></table>")
    legend = " ".join(
        _badge(s) for s in ["achieved", "on_track", "at_risk", "off_track", "no_data"]
    )
    marked = f" · 待 = {BEHIND_LABEL}" if behind else ""
    out.append(f"<p>{legend}{marked}</p></section>")
    return "".join(out)


def _line_chart(title: str, series: dict[str, list[tuple[dt.date, float]]]) -> str:
    points = [p for s in series.values() for p in s]
    if not points:
        return ""
    dates = sorted({d for d, _ in points})
    lo, hi = dates[0], dates[-1]
    span = max((hi - lo).days, 1)
    top = max(v for _, v in points) * 1.1 or 1
    w, h, pad = 360, 160, 30
    palette = [
        "#0969da",
        "#cf222e",
        "#1a7f37",
        "#8250df",
        "#bf8700",
        "#1b7c83",
        "#e16f24",
        "#6e7781",
        "#a475f9",
    ]
    svg = [
        f'<figure class="trend"><figcaption>{esc(title)}</figcaption>'
        f'<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">'
        f'<line x1="{pad}" y1="{h - pad}" x2="{w}" y2="{h - pad}" stroke="#d0d7de"/>'
        f'<text x="{pad}" y="{h - 8}" font-size="10">{esc(lo)}</text>'
        f'<text x="{w - 70}" y="{h - 8}" font-size="10">{esc(hi)}</text>'
        f'<text x="0" y="12" font-size="10">{esc(_fmt(top))}</text>'
    ]
    legend = []
    for n, (name, pts) in enumerate(sorted(series.items())):
        colour = palette[n % len(palette)]
        coords = " ".join(
            f"{pad + (d - lo).days / span * (w - pad - 5):.1f},"
            f"{h - pad - v / top * (h - pad - 15):.1f}"
            for d, v in sorted(pts)
        )
        svg.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}">'
            f"<title>{esc(name)}</title></polyline>"
        )
        legend.append(f'<span style="color:{colour}">■ {esc(name)}</span>')
    svg.append("</svg><div class='legend'>" + " ".join(legend) + "</div></figure>")
    return "".join(svg)


def _trends(con: duckdb.DuckDBPyConnection) -> str:
    rows = _rows(
        con,
        """
        with area_indicators as (
            select distinct t.indicator_id, t.geo_id as area_geo_id
            from marts.fct_target as t
            inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
            where i.is_additive
        )

        select i.name_zh, i.name_en, i.unit, g.name_zh as geo_zh, m.month_end, m.value
        from intermediate.int_measures_monthly as m
        inner join marts.dim_geography as g on m.geo_id = g.geo_id
        inner join area_indicators as a
            on m.indicator_id = a.indicator_id and g.parent_geo_id = a.area_geo_id
        inner join marts.dim_indicator as i on m.indicator_id = i.indicator_id
        where m.value_source = 'reported' and m.month_end >= date '2026-01-01'
        order by i.name_zh, g.name_zh, m.month_end
        """,
    )
    charts: dict[str, dict[str, list[tuple[dt.date, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in rows:
        title = f"{r['name_zh']} {r['name_en']} ({r['unit']})"
        charts[title][r["geo_zh"]].append((r["month_end"], r["value"]))
    body = "".join(_line_chart(t, s) for t, s in charts.items())
    return (
        "<section><h2>分城市指标走势<br><small>Indicator trends by city (year to date for flows, "
        f"level for stocks)</small></h2><div class='grid'>{body}</div></section>"
    )


def _completeness(con: duckdb.DuckDBPyConnection) -> str:
    rows = _rows(
        con,
        """
        select g.name_zh as geo_zh, strftime(c.period_end, '%Y-%m') as month, c.report_status,
            count(*) as n
        from marts.fct_report_completeness as c
        inner join marts.dim_geography as g on c.geo_id = g.geo_id
        group by all
        """,
    )
    months = sorted({r["month"] for r in rows})
    grid: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        grid[r["geo_zh"]][r["month"]][r["report_status"]] = r["n"]
    out = [
        "<section><h2>报送完整性<br><small>Who has not reported what, per month: 缺 missing · "
        "迟 late · ✓ all on time</small></h2><table class='complete'><thead><tr><th></th>"
    ]
    out += [f"<th>{esc(m)}</th>" for m in months]
    out.append("</tr></thead><tbody>")
    for geo in sorted(grid):
        out.append(f"<tr><th>{esc(geo)}</th>")
        for m in months:
            cell = grid[geo].get(m, {})
            missing, late = cell.get("missing", 0), cell.get("late", 0)
            colour = (
                "#ffebe9" if missing else ("#fff8c5" if late else "#dafbe1" if cell else "#fff")
            )
            # Chinese characters, which every font the office's machines have can show (an
            # emoji such as ⏱ is a box where no emoji font is installed).
            text = f"缺{missing} 迟{late}" if missing or late else ("✓" if cell else "")
            out.append(f'<td style="background:{colour}">{esc(text)}</td>')
        out.append("</tr>")
    out.append("</tbody></table></section>")
    return "".join(out)


def _quality(con: duckdb.DuckDBPyConnection) -> str:
    checks = _rows(
        con,
        """
        select stage, check_kind, count(*) as checks, count(*) filter (where success) as passed
        from dq.check_results
        where run_id = (select run_id from dq.check_results order by checked_at desc limit 1)
        group by all order by stage, check_kind
        """,
    )
    files = _rows(
        con,
        "select status, count(*) as n, sum(rows_in) as rows_in, sum(rows_quarantined) as q "
        "from raw.file_manifest group by all order by status",
    )
    quarantine = _rows(
        con,
        "select source_file, source_row, reason_code, reason from dq.quarantine "
        "order by loaded_at desc, source_file, source_row limit 50",
    )
    out = [
        "<section><h2>数据质量<br><small>Data quality (last run's checks, files, rejected "
        "rows)</small></h2><table><thead><tr><th>阶段 stage</th><th>类型 kind</th>"
        "<th>检查 checks</th><th>通过 passed</th></tr></thead><tbody>"
    ]
    out += [
        f"<tr><td>{esc(c['stage'])}</td><td>{esc(c['check_kind'])}</td><td>{esc(c['checks'])}</td>"
        f"<td>{esc(c['passed'])}</td></tr>"
        for c in checks
    ]
    out.append(
        "</tbody></table><table><thead><tr><th>文件状态 file status</th><th>文件 files</th>"
        "<th>行 rows in</th><th>拒收 quarantined</th></tr></thead><tbody>"
    )
    out += [
        f"<tr><td>{esc(f['status'])}</td><td>{esc(f['n'])}</td><td>{esc(f['rows_in'])}</td>"
        f"<td>{esc(f['q'])}</td></tr>"
        for f in files
    ]
    out.append(
        "</tbody></table><table class='quarantine'><thead><tr><th>拒收原因 why rows were "
        "rejected</th></tr></thead><tbody>"
    )
    out += [f"<tr><td>{esc(q['reason'])}</td></tr>" for q in quarantine]
    out.append("</tbody></table>")
    out.append(_withdrawn(con))
    out.append("</section>")
    return "".join(out)


def _withdrawn(con: duckdb.DuckDBPyConnection) -> str:
    """The files withdrawn by raw/withdrawals.csv (lib/progress/withdrawals.py), if any."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'raw' and table_name = 'withdrawals'"
    ).fetchall():
        return ""  # published before the ledger existed
    withdrawn = _rows(
        con,
        """
        select
            w.ledger_row, w.source_file, w.every_version, w.reason, w.withdrawn_on,
            min(w.file_sha256) as file_sha256, sum(m.rows_loaded) as rows_loaded
        from raw.withdrawals as w
        inner join raw.file_manifest as m using (source_file, file_sha256)
        group by all
        order by w.ledger_row
        """,
    )
    if not withdrawn:
        return ""
    out = [
        "<table class='withdrawn'><thead><tr><th>撤回文件 withdrawn file</th><th>版本 version</th>"
        "<th>行 rows</th><th>原因 reason</th><th>撤回日期 withdrawn on</th></tr></thead><tbody>"
    ]
    out += [
        f"<tr><td>{esc(w['source_file'])}</td>"
        f"<td>{esc('全部 every version' if w['every_version'] else w['file_sha256'][:12])}</td>"
        f"<td>{esc(w['rows_loaded'])}</td><td>{esc(w['reason'])}</td>"
        f"<td>{esc(w['withdrawn_on'] or '—')}</td></tr>"
        for w in withdrawn
    ]
    out.append("</tbody></table>")
    return "".join(out)


CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:24px;
color:#24292f;max-width:1400px}
h1{font-size:24px}h2{font-size:19px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h2 small,h1 small{font-weight:normal;color:#57606a;font-size:13px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #d0d7de;padding:4px 6px;
font-size:12px;vertical-align:top;text-align:left}
.badge{color:#fff;border-radius:10px;padding:1px 8px;font-size:11px;white-space:nowrap}
.quote{max-width:320px;color:#57606a}
.heat td{width:34px;height:20px;text-align:center;color:#fff;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.trend{margin:0}.trend figcaption{font-size:12px}
.legend{font-size:10px;max-width:360px}.meta,.counts{font-size:13px}
.why pre{white-space:pre-wrap;font-size:11px;max-width:560px;margin:4px 0}
@media print{.plan{page-break-after:always}}
"""


def render(con: duckdb.DuckDBPyConnection) -> str:
    publish = _rows(
        con,
        # In the plan office's time, as its readers keep it (lib/sql.py).
        """
        select
            run_id,
            strftime(timezone(?, published_at), '%Y-%m-%d %H:%M:%S') || ' 北京时间 Beijing'
                as published_at,
            code_version
        from marts.publish_log as log
        order by log.published_at desc
        limit 1
        """,
        [OFFICE_TIMEZONE],
    )
    latest = (
        publish[0]
        if publish
        else {"run_id": "(not published)", "published_at": None, "code_version": None}
    )
    plans = _rows(con, "select * from marts.scorecard_plan order by plan_id")
    sections: Iterable[str] = [
        *(_plan_section(con, p, latest.get("run_id")) for p in plans),
        _heat_map(con),
        _trends(con),
        _completeness(con),
        _quality(con),
    ]
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        "<title>规划目标进度 Plan tracker scorecard</title>"
        f"<style>{CSS}</style></head><body>"
        "<h1>规划目标进度看板<br><small>Plan tracker scorecard</small></h1>"
        f"<p class='meta'>发布时间 published {esc(latest['published_at'])} · 运行 run "
        f"{esc(latest['run_id'])} · 版本 code {esc(latest['code_version'])} · 评估日期 as of "
        f"{esc(plans[0]['as_of_date'] if plans else '')}</p>"
        + "".join(sections)
        + "<p class='meta'>Illustrative 2026 reports are invented test data (示例数据), "
        "see README.</p>"
        "</body></html>"
    )


def write_report(published_db: Path, report_dir: Path) -> Path:
    """Render the page from the published warehouse (read-only) and write it atomically."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        page = render(con)
    return write_atomically(
        report_dir / "index.html", lambda tmp: tmp.write_text(page, encoding="utf-8")
    )
