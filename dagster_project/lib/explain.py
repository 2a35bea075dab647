"""`plan-tracker explain TARGET_ID`: how a target's status today was reached, step by step, from
the published warehouse — the target and its sentence, the actual and where its data end, the
expected path, pace against the bands, the projection, the reports behind the actual (file and
row) and the members' parts. The plan office's "why is this one red?", answered from the marts
with the lineage DESIGN.md promises, without writing SQL. Given a geography instead (its id or
Chinese name): where it stands — its own targets, its parts of its areas' targets, the reports
it owes (explain_geography).

Hand-written: the marts hold every figure, but no tool of the stack tells one target's story.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import yaml

from dagster_project.lib.paths import DBT_DIR
from dagster_project.lib.progress.value_checks import OPEN_VALUE_CHECKS_SQL
from dagster_project.lib.sql import OFFICE_TIMEZONE, if_column, members_part_sql, table_exists
from dagster_project.lib.status_log import WORST_FIRST

SHOWN_REPORTS = 8
SHOWN_MEMBERS = 10
SHOWN_CHANGES = 5
COMPARATOR_WORDS = {
    ">": "more than",
    ">=": "at least",
    "=": "exactly",
    "<=": "at most",
    "<": "less than",
}
MEASURE_WORDS = {
    "level": "its latest level",
    "cumulative": "its total since the plan start",
    "year_to_date": "the year's own total",
}
START_WORDS = {
    "baseline": "the catalog's baseline",
    "zero": "zero: a count of new things",
    "first_report": "its first report",
}


class UnknownTargetError(LookupError):
    """No such target; the message names the nearest ids."""


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    cur = con.execute(sql, params)
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def _all(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _n(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _dbt_vars() -> dict[str, Any]:
    project = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project.get("vars", {}))


def bands() -> tuple[float, float]:
    """The status bands the dbt project judges pace with (dbt_project.yml vars)."""
    dbt_vars = _dbt_vars()
    return float(dbt_vars["on_track_ratio"]), float(dbt_vars["at_risk_ratio"])


def stale_after_months() -> int:
    """How far behind the reports due data may end and still give a status (dbt_project.yml)."""
    return int(_dbt_vars()["stale_after_months"])


def explain(published_db: Path, target_id: str) -> str:
    """The story of `target_id`'s latest row, as lines of text — or, given a geography (its id
    or Chinese name) instead, where that geography stands (explain_geography); UnknownTargetError
    if neither."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        geo_id = _geography_named(con, target_id)
        try:
            if geo_id is not None and not _is_target(con, target_id):
                return explain_geography(con, geo_id)
            return explain_target(con, target_id)
        except UnknownTargetError as error:
            raise UnknownTargetError(f"{error} (warehouse {published_db})") from None


def _is_target(con: duckdb.DuckDBPyConnection, target_id: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from marts.fct_target where target_id = ?", [target_id]
        ).fetchall()[0][0]
    )


def _geography_named(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The geography whose id or Chinese name is `name`, if one is."""
    rows = con.execute(
        "select geo_id from marts.dim_geography where geo_id = ? or name_zh = ? order by geo_id",
        [name, name],
    ).fetchall()
    return rows[0][0] if rows else None


def explain_target(con: duckdb.DuckDBPyConnection, target_id: str) -> str:
    """`explain` on an open connection to a published warehouse (the scorecard page's)."""
    # Columns added since older code published a warehouse the command may be reading.
    behind = if_column(
        con,
        "fct_target_vs_actual",
        "is_data_behind",
        "v.data_due_through_date, v.is_data_behind,",
        "",
    )
    at_start = if_column(con, "fct_target_vs_actual", "is_at_path_start", "v.is_at_path_start,", "")
    stale = if_column(
        con,
        "fct_target_vs_actual",
        "is_data_stale",
        "v.is_data_stale, "
        "date_diff('month', v.data_through_date, v.data_due_through_date) as months_behind,",
        "",
    )
    reported_by = if_column(con, "dim_indicator", "reported_by", "i.reported_by,", "")
    t = _one(
        con,
        f"""
        select
            t.*, {behind} {at_start} {stale} {reported_by}
            v.as_of_date, v.month_end, v.deadline_date, v.path_start_date,
            v.path_start_source, v.expected_value, v.actual_value, v.data_through_date,
            v.value_source, v.children_reported, v.children_expected, v.pace_ratio,
            v.status, v.is_final, v.is_final_overdue, v.final_reports_due_date,
            v.projected_value, v.projected_status, v.path_start_value as row_start_value,
            i.name_zh as indicator_zh, g.name_zh as geo_zh, p.name_zh as plan_zh,
            a.name_zh as action_zh
        from marts.fct_target as t
        inner join marts.fct_target_vs_actual as v
            on t.target_id = v.target_id and v.is_latest
        inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
        inner join marts.dim_geography as g on t.geo_id = g.geo_id
        inner join marts.dim_plan as p on t.plan_id = p.plan_id
        inner join marts.dim_action as a on t.action_id = a.action_id
        where t.target_id = ?
        """,  # noqa: S608 - constant column names
        [target_id],
    )
    if t is None:
        known = [r[0] for r in con.execute("select target_id from marts.fct_target").fetchall()]
        # The nearest target ids, or geography ids and names: explain takes either.
        places = [
            name
            for row in con.execute("select geo_id, name_zh from marts.dim_geography").fetchall()
            for name in row
        ]
        near = difflib.get_close_matches(target_id, known + places, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        judged = (
            " (it has no row judged yet: its plan may not have begun)" if target_id in known else ""
        )
        raise UnknownTargetError(
            f"no target {target_id!r} is judged{judged}, nor is it a geography{hint}"
        )
    lines = _target_lines(t)
    lines += _waiting_lines(con, t)
    lines += _history_lines(con, target_id)
    lines += _reports_lines(con, t)
    lines += _member_lines(con, t)
    return "\n".join(lines)


def _target_lines(t: dict[str, Any]) -> list[str]:
    unit = t["unit"]
    on_track, at_risk = bands()
    lines = [
        f"{t['target_id']} · {t['indicator_zh']} · {t['geo_zh']} ({t['geo_id']})",
        f"  plan    {t['plan_zh']} · {t['action_zh']}",
        f"  target  {COMPARATOR_WORDS[t['comparator']]} {_n(t['target_value'])} {unit} by "
        f"{t['due_date']} ({t['cadence']}; measured by {MEASURE_WORDS[t['measure']]})",
        f"  source  “{t['source_quote_zh']}” ({t['source_document'] or t['source_file']}, "
        f"{t['source_path']})",
    ]
    if t["part_of_target_id"]:
        lines.append(f"  part of {t['part_of_target_id']} (分解目标)")
    if t["cadence"] == "per_year":
        lines.append(f"  this year's deadline {t['deadline_date']}")
    lines.append(
        f"  as of   {t['as_of_date']:%Y-%m-%d}, judged where its data end: "
        f"{t['data_through_date'] or 'no data yet'}"
    )
    if t.get("is_data_behind"):
        lines.append(
            f"  behind  the reports due through {t['data_due_through_date']} are not all in "
            "(fct_target_vs_actual.is_data_behind): the status stands where the data end"
        )
    if t.get("is_data_stale"):
        lines.append(
            f"  stale   the data end {t['months_behind']} months before the reports due through "
            f"{t['data_due_through_date']}, more than the {stale_after_months()} a status may "
            "stand on (stale_after_months; fct_target_vs_actual.is_data_stale): no status on them"
        )
    if t["actual_value"] is None:
        lines.append("  actual  none: no report counts towards it yet, so the status is no_data")
    else:
        source = {
            "reported": f"reported by {t['geo_zh']} itself",
            "rolled_up": f"the sum of its members' ({t['children_reported']} of "
            f"{t['children_expected']} reported)",
            "carried": "carried from its last report",
        }.get(t["value_source"], t["value_source"])
        lines.append(f"  actual  {_n(t['actual_value'])} {unit} ({source})")
    # A per-year target's path and projection run to its year's end, not the plan's.
    until = t["deadline_date"] if t["cadence"] == "per_year" else t["due_date"]
    if t["expected_value"] is not None:
        start = (
            f"from {_n(t['row_start_value'])} "
            f"({START_WORDS.get(t['path_start_source'], t['path_start_source'])}, "
            f"{t['path_start_date']}) "
            if t["row_start_value"] is not None
            else "from its first reported year's annual rate "
        )
        # Expected is read where the data end, or with none at the row's as-of date (judged_at).
        read_on = t["data_through_date"] or t["as_of_date"]
        read_at = t["data_through_date"] or f"{t['as_of_date']:%Y-%m-%d}, its as-of date"
        lines.append(
            f"  path    {start}to {_n(t['target_value'])} by {until}: "
            f"{_n(t['expected_value'])} {unit} expected by {read_at}{_year_share(t, read_on)}"
        )
    lines.append(f"  status  {t['status']}: {_why(t, on_track, at_risk)}")
    if t["is_final"]:
        lines.append(
            f"  outlook final: its deadline {t['deadline_date']} has passed with data reaching it"
        )
    elif t["projected_value"] is not None and t.get("is_data_stale"):
        lines.append(
            f"  outlook no_data: nothing is projected from data this far behind (at the pace "
            f"where they end, {_n(t['projected_value'])} {unit} by {until})"
        )
    elif t["projected_value"] is not None:
        if (
            t["measure"] == "year_to_date"
            and t["cadence"] == "by_due_date"
            and t.get("is_at_path_start")
        ):
            # int_targets_evaluated: an annual target in its path's first year has no trend
            # yet; its projection is this year's annual rate, held to the due year.
            basis = "if this year's annual rate holds (no growth to measure yet)"
        else:
            basis = "at the pace so far"
        lines.append(
            f"  outlook {_n(t['projected_value'])} {unit} by {until} {basis} "
            f"→ {t['projected_status']}"
        )
    return lines


def _stale_mark(part: dict[str, Any]) -> str:
    """Why a member's part is no_data when its data are too far behind (is_data_stale; absent
    from a warehouse published before the column existed)."""
    if not part.get("is_data_stale"):
        return ""
    return " (its own data too far behind the reports due to judge)"


def _year_share(t: dict[str, Any], day: dt.date) -> str:
    """For a year's own total, the share of the year its expected value is (dbt macro
    year_fraction: day of the year over the year's days) and the year's whole amount: 224.38 by
    30 September is 273/365 of 300."""
    if t["measure"] != "year_to_date" or not t["expected_value"]:
        return ""
    elapsed = day.timetuple().tm_yday
    days = dt.date(day.year, 12, 31).timetuple().tm_yday
    return f" ({elapsed}/{days} of the year's {_n(t['expected_value'] * days / elapsed)})"


def _why(t: dict[str, Any], on_track: float, at_risk: float) -> str:
    """Which rule of int_targets_evaluated gave the status."""
    if t["actual_value"] is None:
        return "no actual"
    if t["status"] == "achieved":
        return f"{_n(t['actual_value'])} already meets {t['comparator']} {_n(t['target_value'])}"
    if t["is_final"]:
        return (
            f"missed — {_n(t['actual_value'])} against {t['comparator']} "
            f"{_n(t['target_value'])} at its deadline, {t['deadline_date']}"
        )
    if t["is_final_overdue"]:
        return (
            f"its deadline {t['deadline_date']} has passed, its reports were due "
            f"{t['final_reports_due_date']}, and the data stop short of it: the outcome is unknown"
        )
    if t.get("is_data_stale"):
        pace = (
            f"; where they end, pace {t['pace_ratio']:.2f}" if t["pace_ratio"] is not None else ""
        )
        return (
            f"its data end {t['data_through_date']}, too far behind the reports due to say "
            f"where it stands today — the reports owed since are to be chased{pace}"
        )
    if t["pace_ratio"] is None:
        return "no pace: the path has not started where the data end"
    if t["row_start_value"] is None and t.get("is_at_path_start"):
        # An annual target whose path starts at its first reported year's rate, this year's.
        return (
            f"pace {t['pace_ratio']:.2f}: no progress to measure yet — this year's own rate is "
            "its path's start (its first reported year; no baseline in the catalog), and so this "
            f"year's expected value; on_track from {on_track:.2f}, at_risk from {at_risk:.2f}"
        )
    if t["measure"] == "year_to_date":
        # int_targets_evaluated: a year's own total is paced against the year's expected share,
        # whatever amount the path starts from (a baseline year's, or zero for a per-year count).
        return (
            f"pace {t['pace_ratio']:.2f} = {_n(t['actual_value'])} / {_n(t['expected_value'])}, "
            f"the year's total against its expected share by {t['data_through_date']}; "
            f"on_track from {on_track:.2f}, at_risk from {at_risk:.2f}"
        )
    if t["row_start_value"] is None:
        return (
            f"pace {t['pace_ratio']:.2f}, the share of the expected progress made; on_track "
            f"from {on_track:.2f}, at_risk from {at_risk:.2f}"
        )
    start = t["row_start_value"]
    if abs(t["expected_value"] - start) < 1e-12:
        # int_targets_evaluated: where the path has not moved from its start (a first report is
        # its own start), the pace is 1 if the actual holds the start and 0 if not — no ratio.
        held = "holds" if t["pace_ratio"] >= 1 else "falls short of"
        return (
            f"pace {t['pace_ratio']:.2f}: no progress is expected yet, the path stands at its "
            f"start, {_n(start)}, which the actual {held}; on_track from {on_track:.2f}, "
            f"at_risk from {at_risk:.2f}"
        )
    return (
        f"pace {t['pace_ratio']:.2f} = ({_n(t['actual_value'])} − {_n(t['row_start_value'])}) / "
        f"({_n(t['expected_value'])} − {_n(t['row_start_value'])}); on_track from {on_track:.2f}, "
        f"at_risk from {at_risk:.2f}"
    )


def _history_lines(con: duckdb.DuckDBPyConnection, target_id: str) -> list[str]:
    """The target's statuses as the publications showed them, one line each time it changed
    (marts.target_status_log, lib/status_log.py): since when it stands where it is."""
    if not table_exists(con, "marts", "target_status_log"):
        return []
    rows = _all(
        con,
        f"""
        select
            strftime(timezone('{OFFICE_TIMEZONE}', published_at), '%Y-%m-%d %H:%M')
                as published,
            as_of_date, status, projected_status, previous_status,
            count(*) over () as total
        from marts.target_status_log
        where target_id = ?
        order by published_at desc
        limit ?
        """,  # noqa: S608 - the time zone is a constant
        [target_id, SHOWN_CHANGES],
    )
    if not rows:
        return []
    lines = [
        f"  history as published (marts.target_status_log; {len(rows)} of {rows[0]['total']}, "
        "newest first, Beijing time):"
    ]
    for number, r in enumerate(rows):
        since = "since " if number == 0 else ""
        first = " · first published" if r["previous_status"] is None else ""
        lines.append(
            f"    {since}{r['published']} (as of {r['as_of_date']}): {r['status']}, projection "
            f"{r['projected_status'] or '—'}{first}"
        )
    return lines


def _reports_lines(con: duckdb.DuckDBPyConnection, t: dict[str, Any]) -> list[str]:
    """The reports the actual stands on: the latest revision of each period of the target's
    geography (its members' for a rolled-up value) from the plan's start to where the data end."""
    if t["data_through_date"] is None:
        return []
    geographies = "v.geo_id = ?"
    if t["value_source"] == "rolled_up":
        geographies = "v.geo_id in (select geo_id from marts.dim_geography where parent_geo_id = ?)"
    reports = _all(
        con,
        f"""
        select v.*, g.name_zh as geo_zh, count(*) over () as total
        from marts.fct_actual as v
        inner join marts.dim_geography as g on v.geo_id = g.geo_id
        where {geographies} and v.indicator_id = ?
            and v.period_end <= ? and v.period_end > ?
        order by v.period_end desc, v.geo_id, v.period_start
        limit ?
        """,  # noqa: S608 - one of two fixed conditions; values are parameters
        [t["geo_id"], t["indicator_id"], t["data_through_date"], _window_start(t), SHOWN_REPORTS],
    )
    if not reports:
        return []
    lines = [
        f"  reports (marts.fct_actual, the latest revision of each period; "
        f"{len(reports)} of {reports[0]['total']:,}, newest first):"
    ]
    for r in reports:
        value = "not reported (blank)" if r["value"] is None else f"{_n(r['value'])} {r['unit']}"
        where = f"{r['source_file']}" + (f" sheet {r['sheet']}" if r["sheet"] else "")
        lines.append(
            f"    {r['geo_zh']} {r['period_start']}..{r['period_end']} {value} · revision "
            f"{r['revision']} of {r['revision_count']}, reported {r['reported_on'] or 'undated'} "
            f"· {where} row {r['source_row']}"
            + (f" ({r['source_column']})" if r["source_column"] else "")
        )
    return lines


def _window_start(t: dict[str, Any]) -> dt.date:
    """The day before the first period shown: a flow's periods since the plan start (a per-year
    or annual total, since its year's start); a level's reports from a year before the plan."""
    day = dt.timedelta(days=1)
    if t["measure"] == "cumulative":
        return t["start_date"] - day
    if t["measure"] == "year_to_date":
        return t["data_through_date"].replace(month=1, day=1) - day
    return t["start_date"] - dt.timedelta(days=366)


def _waiting_lines(con: duckdb.DuckDBPyConnection, t: dict[str, Any]) -> list[str]:
    """An area's sum is read where its earliest member's data end (int_targets_evaluated): when
    some members' data reach further, the members it waits for (at most SHOWN_MEMBERS) — why
    reports already sent do not move the area yet."""
    if t["value_source"] != "rolled_up" or t["data_through_date"] is None:
        return []
    members = con.execute(
        """
        select g.name_zh, max(a.period_end) as through
        from marts.fct_actual as a
        inner join marts.dim_geography as g on a.geo_id = g.geo_id
        where g.parent_geo_id = ? and a.indicator_id = ? and a.period_end <= ?
        group by g.geo_id, g.name_zh
        order by through, g.geo_id
        """,
        [t["geo_id"], t["indicator_id"], t["as_of_date"]],
    ).fetchall()
    latest = max((through for _, through in members), default=None)
    if latest is None or latest <= t["data_through_date"]:
        return []
    waiting = [(name, through) for name, through in members if through < latest]
    shown = ", ".join(f"{name} (through {through})" for name, through in waiting[:SHOWN_MEMBERS])
    more = f" and {len(waiting) - SHOWN_MEMBERS} more" if len(waiting) > SHOWN_MEMBERS else ""
    return [
        f"  waiting for {len(waiting)} of {len(members)} members, {shown}{more}: the sum is read "
        f"where their data end; the others' reach {latest}"
    ]


def _part_basis(part: dict[str, Any]) -> str:
    """What a member's part of an area target (a row of fct_target_contribution) is judged on."""
    if part["expected_basis"] == "member_target":
        return f"its own target {part['member_target_id']}"
    if part["first_share"] is not None:
        # One of thousands of counties has a share well below 0.1 %: not shown as 0.0 %.
        share = part["first_share"]
        shown = f"{share:.1%}" if abs(share) >= 0.001 or share == 0 else f"{share * 100:.2g}%"
        return f"its first share {shown} ({part['first_share_month']})"
    return "no share yet"


def _member_lines(con: duckdb.DuckDBPyConnection, t: dict[str, Any]) -> list[str]:
    """The members furthest behind their part (at most SHOWN_MEMBERS: an area of a province has
    thousands), then how the others stand, and who has no figure of its own yet."""
    members = _all(
        con,
        """
        select c.*, g.name_zh as geo_zh
        from marts.fct_target_contribution as c
        inner join marts.dim_geography as g on c.geo_id = g.geo_id
        where c.target_id = ?
        order by c.actual_value / nullif(c.expected_value, 0), c.geo_id
        """,
        [t["target_id"]],
    )
    if not members:
        return []
    judged = [m for m in members if m["actual_value"] is not None]
    silent = [m["geo_zh"] for m in members if m["actual_value"] is None]
    lines = ["  members (marts.fct_target_contribution, furthest behind first):"]
    for m in judged[:SHOWN_MEMBERS]:
        lines.append(
            f"    {m['geo_zh']} {_n(m['actual_value'])} of {_n(m['expected_value'])} expected "
            f"({_part_basis(m)}) → {m['status']}{_stale_mark(m)}"
        )
    rest = judged[SHOWN_MEMBERS:]
    if rest:
        counts = Counter(m["status"] for m in rest)
        lines.append(
            f"    and {len(rest)} more: "
            + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        )
    if silent and t.get("reported_by") == "area":
        # The area reports the figure itself: the members owe none (int_expected_reports).
        lines.append(
            f"    no member has a figure of its own ({len(silent)} of {len(members)}): the area "
            "reports it itself (dim_indicator.reported_by)"
        )
    elif silent:
        shown = ", ".join(silent[:SHOWN_MEMBERS])
        more = f" and {len(silent) - SHOWN_MEMBERS} more" if len(silent) > SHOWN_MEMBERS else ""
        lines.append(f"    no figure of its own yet: {shown}{more}")
    # Who owes the reports due (absent from a warehouse published before the column existed).
    owing = [m for m in members if m.get("is_data_behind")]
    if owing:
        shown = ", ".join(m["geo_zh"] for m in owing[:SHOWN_MEMBERS])
        more = f" and {len(owing) - SHOWN_MEMBERS} more" if len(owing) > SHOWN_MEMBERS else ""
        # One date but for a member's own target (分解目标) whose deadline comes sooner.
        dues = sorted({m["data_due_through_date"] for m in owing})
        due = f" through {dues[0]}" if len(dues) == 1 else ""
        lines.append(
            f"    {len(owing)} of {len(members)} behind the reports due{due}: {shown}{more} "
            "(fct_target_contribution.is_data_behind)"
        )
    return lines


def explain_geography(con: duckdb.DuckDBPyConnection, geo_id: str) -> str:
    """Where one geography stands: its own targets, its parts of its areas' targets (those it is
    judged on: fct_target_contribution.is_member_judged), which of them its reports owed hold
    back, and its reporting record with the reports it owes now — the plan office's "how is
    鄂州 doing, and what does it still owe?" from the marts, without writing SQL."""
    g = _one(
        con,
        """
        select g.*, p.name_zh as parent_zh
        from marts.dim_geography as g
        left join marts.dim_geography as p on g.parent_geo_id = p.geo_id
        where g.geo_id = ?
        """,
        [geo_id],
    )
    if g is None:
        raise UnknownTargetError(f"no geography {geo_id!r}")
    parent = f" · member of {g['parent_zh']} ({g['parent_geo_id']})" if g["parent_geo_id"] else ""
    lines = [f"{g['name_zh']} ({geo_id}) · {g['level']}{parent}"]
    lines += _own_target_lines(con, geo_id)
    lines += _part_lines(con, geo_id)
    lines += _record_lines(con, geo_id)
    return "\n".join(lines)


def _status_rank(status: str) -> int:
    """Worst first (status_log.WORST_FIRST): what the office chases, then what stands."""
    return WORST_FIRST.index(status) if status in WORST_FIRST else len(WORST_FIRST)


def _counts(rows: list[dict[str, Any]]) -> str:
    counts = Counter(r["status"] for r in rows)
    return " · ".join(
        f"{counts[s]} {s.replace('_', ' ')}" for s in sorted(counts, key=_status_rank)
    )


def _own_target_lines(con: duckdb.DuckDBPyConnection, geo_id: str) -> list[str]:
    behind = if_column(con, "fct_target_vs_actual", "is_data_behind", "v.is_data_behind", "false")
    at_start = if_column(
        con, "fct_target_vs_actual", "is_at_path_start", "v.is_at_path_start", "false"
    )
    stale = if_column(con, "fct_target_vs_actual", "is_data_stale", "v.is_data_stale", "false")
    targets = _all(
        con,
        f"""
        select v.target_id, i.name_zh as indicator_zh, v.status, v.pace_ratio,
            v.data_through_date, {behind} as is_data_behind, {at_start} as is_at_path_start,
            {stale} as is_data_stale
        from marts.fct_target_vs_actual as v
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        where v.geo_id = ? and v.is_latest
        order by v.target_id
        """,  # noqa: S608 - a column name chosen above
        [geo_id],
    )
    if not targets:
        return ["  targets of its own: none"]
    targets.sort(key=lambda t: (_status_rank(t["status"]), t["pace_ratio"] or 0, t["target_id"]))
    lines = [f"  targets of its own (marts.fct_target_vs_actual): {_counts(targets)}"]
    for t in targets:
        pace = f", pace {t['pace_ratio']:.2f}" if t["pace_ratio"] is not None else ""
        if t["is_at_path_start"]:
            pace += " only at its path's start"
        through = f"data through {t['data_through_date']}" if t["data_through_date"] else "no data"
        owed = ", behind the reports due" if t["is_data_behind"] else ""
        if t["is_data_stale"]:
            owed = ", too far behind the reports due to judge"
        lines.append(
            f"    {t['target_id']} {t['indicator_zh']}: {t['status']}{pace} ({through}{owed})"
        )
    return lines


def _part_lines(con: duckdb.DuckDBPyConnection, geo_id: str) -> list[str]:
    """Its parts of its areas' targets, worst first; the parts of figures its area reports
    itself are counted, not listed (no report of its own is owed for them)."""
    if not table_exists(con, "marts", "fct_target_contribution"):
        return []
    # The parts it is judged on, by the rule the heat map and the workbook use (older warehouses
    # included).
    judged = members_part_sql(con, "c", "i")
    behind = if_column(
        con, "fct_target_contribution", "is_data_behind", "c.is_data_behind", "false"
    )
    due = if_column(
        con, "fct_target_contribution", "data_due_through_date", "c.data_due_through_date", "null"
    )
    parts = _all(
        con,
        f"""
        select c.*, i.name_zh as indicator_zh, {judged} as judged, {behind} as behind,
            {due} as due_through
        from marts.fct_target_contribution as c
        inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
        where c.geo_id = ?
        order by c.target_id
        """,  # noqa: S608 - column names chosen above
        [geo_id],
    )
    if not parts:
        return []
    shown = [p for p in parts if p["judged"]]
    by_area = len(parts) - len(shown)
    shown.sort(
        key=lambda p: (
            _status_rank(p["status"]),
            (p["actual_value"] or 0) / (p["expected_value"] or 1),
            p["target_id"],
        )
    )
    area_own = f"; {by_area} more its area reports itself" if by_area else ""
    lines = [
        f"  parts of its areas' targets (marts.fct_target_contribution, worst first): "
        f"{len(shown)} judged{': ' + _counts(shown) if shown else ''}{area_own}"
    ]
    for p in shown[:SHOWN_MEMBERS]:
        lines.append(
            f"    {p['target_id']} {p['indicator_zh']}: {_n(p['actual_value'])} of "
            f"{_n(p['expected_value'])} expected ({_part_basis(p)}) → {p['status']}"
            f"{_stale_mark(p)}"
        )
    if len(shown) > SHOWN_MEMBERS:
        lines.append(f"    and {len(shown) - SHOWN_MEMBERS} more")
    owing = [p for p in parts if p["behind"]]
    if owing:
        dues = sorted({p["due_through"] for p in owing if p["due_through"] is not None})
        through = f" through {dues[-1]}" if dues else ""
        lines.append(
            f"  behind  its data stop short of the reports due{through} on {len(owing)} of them, "
            f"holding their areas back: {', '.join(p['target_id'] for p in owing[:SHOWN_MEMBERS])}"
            + (f" and {len(owing) - SHOWN_MEMBERS} more" if len(owing) > SHOWN_MEMBERS else "")
        )
    return lines


def _record_lines(con: duckdb.DuckDBPyConnection, geo_id: str) -> list[str]:
    """Its reporting record (scorecard_geography) and the reports it owes now, oldest first."""
    record = _one(
        con,
        "select reports_expected, reports_received, reports_late, reports_missing, "
        "latest_report_received_on from marts.scorecard_geography where geo_id = ?",
        [geo_id],
    )
    if record is None or not record["reports_expected"]:
        return ["  reports: none expected so far"]
    latest = record["latest_report_received_on"]
    lines = [
        f"  reports (marts.fct_report_completeness): {record['reports_expected']:,} expected so "
        f"far · {record['reports_received']:,} received ({record['reports_late']:,} late) · "
        f"{record['reports_missing']:,} missing" + (f"; latest received {latest}" if latest else "")
    ]
    owed = _all(
        con,
        """
        select c.period_start, c.period_end, c.report_due_date, i.name_zh as indicator_zh,
            count(*) over () as total
        from marts.fct_report_completeness as c
        inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
        where c.geo_id = ? and not c.is_received
        order by c.period_end, c.indicator_id
        limit ?
        """,
        [geo_id, SHOWN_REPORTS],
    )
    if owed:
        items = "; ".join(
            f"{o['indicator_zh']} {o['period_start']}..{o['period_end']} "
            f"(due {o['report_due_date']})"
            for o in owed
        )
        more = f" and {owed[0]['total'] - len(owed)} more" if owed[0]["total"] > len(owed) else ""
        lines.append(
            f"    owed, oldest first: {items}{more} (`plan-tracker templates` writes them out to "
            "fill in)"
        )
    return lines + _to_check_lines(con, geo_id)


def _to_check_lines(con: duckdb.DuckDBPyConnection, geo_id: str) -> list[str]:
    """Its values landed far from the report before them that still count, farthest first."""
    if not table_exists(con, "dq", "value_checks"):
        return []
    checks = _all(
        con,
        f"""
        select message, count(*) over () as total
        from ({OPEN_VALUE_CHECKS_SQL}) as v
        where geo_id = ?
        order by greatest(factor, 1 / factor) desc, indicator_id, period_end
        limit ?
        """,  # noqa: S608 - a constant
        [geo_id, SHOWN_REPORTS],
    )
    if not checks:
        return []
    lines = [f"    values to check (dq.value_checks): {checks[0]['total']}, farthest first"]
    lines += [f"      {c['message']}" for c in checks]
    if checks[0]["total"] > len(checks):
        lines.append(f"      and {checks[0]['total'] - len(checks)} more")
    return lines
