"""The short terminal summary printed at the end of `make run`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dagster_project.lib.progress.files import discover
from dagster_project.lib.progress.withdrawals import (
    reverted_files,
    vanished_files,
    withdrawn_counts,
)
from dagster_project.lib.sql import OFFICE_TODAY_SQL, column_exists, if_column, table_exists
from dagster_project.lib.status_log import looked_back_from, worst_first_sql

SHOWN_FILES = 5
SHOWN_GEOGRAPHIES = 3
SHOWN_OVERDUE = 5
SHOWN_BEHIND = 5
SHOWN_QUARANTINED = 3
SHOWN_VALUE_CHECKS = 3
SHOWN_DATED_AHEAD = 3
SHOWN_CHANGES = 8


def _capped(items: list[str], shown: int, where: str) -> list[str]:
    """The first `shown` of a section's indented lines, then how many more and where they are."""
    more = [f"  and {len(items) - shown} more ({where})"] if len(items) > shown else []
    return items[:shown] + more


def _reports_line(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The reports expected so far (periods ended by the as-of date), and who has not sent theirs
    though due: what the office chases. Read from scorecard_geography, a row per geography
    whatever the history's size (fct_report_completeness holds 10M rows at scale)."""
    expected, received, late, missing = con.execute(
        "select sum(reports_expected), sum(reports_received), sum(reports_late), "
        "sum(reports_missing) from marts.scorecard_geography"
    ).fetchone() or (None, None, None, None)
    if not expected:
        return []
    line = (
        f"reports: {expected:,} expected so far · {received:,} received ({late:,} late) · "
        f"{missing:,} missing"
    )
    if missing:
        most = con.execute(
            "select name_zh, reports_missing from marts.scorecard_geography "
            "where reports_missing > 0 order by reports_missing desc, geo_id limit ?",
            [SHOWN_GEOGRAPHIES],
        ).fetchall()
        line += ", most from " + " · ".join(f"{name} {count:,}" for name, count in most)
    return [line + " (marts.fct_report_completeness)"]


def _status_change_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The targets whose status or projection this publication changed, from the log the
    publication keeps (lib/status_log.py): what moved since the office last looked, worst news
    first. Nothing for the first publication; a look back logs nothing, and says so."""
    if not table_exists(con, "marts", "target_status_log"):
        return []
    back = looked_back_from(con)
    if back is not None:
        [(current,)] = con.execute(
            "select max(as_of_date) from marts.fct_target_vs_actual where is_latest"
        ).fetchall()
        return [
            f"status log: not written by a look back (as of {current}, before {back}, "
            "the latest logged; marts.target_status_log)"
        ]
    latest = con.execute(
        "select run_id from marts.publish_log order by published_at desc limit 1"
    ).fetchall()
    if not latest:
        return []
    [(logged_before,)] = con.execute(
        "select count(*) from marts.target_status_log where run_id <> ?", [latest[0][0]]
    ).fetchall()
    if not logged_before:
        return []  # the first publication: every target is new
    # A move to no_data on data too far behind says so, not a pace those data had.
    stale = if_column(con, "fct_target_vs_actual", "is_data_stale", "v.is_data_stale", "false")
    rows = con.execute(
        f"""
        select
            log.target_id, i.name_zh, log.status, log.previous_status, log.projected_status,
            log.previous_projected_status, log.pace_ratio, coalesce({stale}, false)
        from marts.target_status_log as log
        inner join marts.fct_target as t on log.target_id = t.target_id
        inner join marts.dim_indicator as i on t.indicator_id = i.indicator_id
        left join marts.fct_target_vs_actual as v on log.target_id = v.target_id and v.is_latest
        where log.run_id = ?
        order by {worst_first_sql("log.status")}, log.target_id
        """,  # noqa: S608 - a constant sort key, a column name chosen above
        [latest[0][0]],
    ).fetchall()
    changed = [row for row in rows if row[3] is not None]
    first = len(rows) - len(changed)
    files = _files_behind(con, latest[0][0], [row[0] for row in changed[:SHOWN_CHANGES]])
    if not changed and not first:
        return ["status changes since the last publication: none"]
    lines = [
        f"status changes since the last publication: {len(changed)}"
        + (f" · {first} target(s) published for the first time" if first else "")
        + " (marts.target_status_log)"
    ]
    for (
        target_id,
        indicator,
        status,
        before,
        projected,
        projected_before,
        pace,
        is_stale,
    ) in changed[:SHOWN_CHANGES]:
        moves = []
        if status != before:
            why = f" (pace {pace:.2f})" if pace is not None else ""
            if is_stale:
                why = " (its data too far behind the reports due)"
            moves.append(f"{before} → {status}{why}")
        if projected != projected_before:
            moves.append(f"projection {projected_before} → {projected}")
        behind = files.get(target_id, [])
        landed = ""
        if behind:
            more = f" and {len(behind) - SHOWN_FILES} more" if len(behind) > SHOWN_FILES else ""
            landed = f"; landed this run: {', '.join(behind[:SHOWN_FILES])}{more}"
        lines.append(f"  {target_id} {indicator}: {' · '.join(moves)}{landed}")
    if len(changed) > SHOWN_CHANGES:
        lines.append(f"  and {len(changed) - SHOWN_CHANGES} more")
    return lines


def _files_behind(
    con: duckdb.DuckDBPyConnection, run_id: str, target_ids: list[str]
) -> dict[str, list[str]]:
    """For each target, the files this run landed with reports of its indicator for its
    geography or a member of it: what most likely moved it (a status also moves with the date,
    a withdrawal or the catalog, which no file shows)."""
    if not target_ids:
        return {}
    found: dict[str, list[str]] = {}
    for target_id, source_file in con.execute(
        """
        select distinct t.target_id, r.source_file
        from marts.fct_target as t
        inner join raw.progress_rows as r
            on t.indicator_id = r.indicator_id
            and (
                r.geo_id = t.geo_id
                or r.geo_id in (
                    select g.geo_id from marts.dim_geography as g where g.parent_geo_id = t.geo_id
                )
            )
        where t.target_id in (select unnest(?)) and r.run_id = ?
        order by t.target_id, r.source_file
        """,
        [target_ids, run_id],
    ).fetchall():
        found.setdefault(target_id, []).append(source_file)
    return found


def _overdue_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The deadlines passed with no outcome: their reports, due since, have not come and the
    target was not met before (fct_target_vs_actual.is_final_overdue, status no_data), the first
    thing the office chases after a deadline. Every deadline counts, a per-year target's earlier
    years too, not only the latest rows."""
    overdue = con.execute(
        """
        select
            v.target_id, i.name_zh, v.deadline_date, v.final_reports_due_date,
            v.data_through_date
        from marts.fct_target_vs_actual as v
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        where v.is_final_overdue and v.status = 'no_data'
        order by v.deadline_date, v.target_id
        """
    ).fetchall()
    if not overdue:
        return []
    items = [
        f"  {target_id} {indicator}: deadline {deadline}, reports due {due}, "
        + (f"data through {through}" if through else "no data")
        for target_id, indicator, deadline, due, through in overdue
    ]
    return [
        f"deadlines passed with no outcome (their reports due, not in): {len(overdue)}",
        *_capped(items, SHOWN_OVERDUE, "marts.fct_target_vs_actual"),
    ]


def _stale_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The targets left without a status because their data end too long before the reports due
    (fct_target_vs_actual.is_data_stale, more than the dbt variable stale_after_months): no_data,
    not the status of data long past — the reports to chase, longest silent first, with where
    those data stood. A warehouse published before the column existed has none."""
    if not column_exists(con, "marts", "fct_target_vs_actual", "is_data_stale"):
        return []
    stale = con.execute(
        """
        select
            v.target_id, i.name_zh, v.data_through_date, v.data_due_through_date,
            date_diff('month', v.data_through_date, v.data_due_through_date), v.pace_ratio
        from marts.fct_target_vs_actual as v
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        where v.is_latest and v.is_data_stale
        order by v.data_through_date, v.target_id
        """
    ).fetchall()
    items = [
        f"  {target_id} {indicator}: data through {through}, {months} months before the "
        f"reports due through {due}" + (f" (pace there {pace:.2f})" if pace is not None else "")
        for target_id, indicator, through, due, months, pace in stale
    ]
    if not items:
        return []
    return [
        "no status on data too far behind the reports due (no_data until they come; "
        f"stale_after_months in dbt_project.yml): {len(stale)}",
        *_capped(items, SHOWN_BEHIND, "marts.fct_target_vs_actual.is_data_stale"),
    ]


def _behind_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The targets whose status today rests on data behind the reports due
    (fct_target_vs_actual.is_data_behind, which leaves out the achieved ones, the deadlines
    overdue and the data too far behind, named above): judged where their data end, their next
    reports late; worst status
    first. A warehouse published before the column existed has none."""
    if not column_exists(con, "marts", "fct_target_vs_actual", "is_data_behind"):
        return []
    behind = con.execute(
        f"""
        select
            v.target_id, i.name_zh, v.status, v.data_through_date, v.data_due_through_date
        from marts.fct_target_vs_actual as v
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        where v.is_latest and v.is_data_behind
        order by {worst_first_sql("v.status")}, v.data_through_date nulls first, v.target_id
        """  # noqa: S608 - a constant sort key
    ).fetchall()
    items = [
        f"  {target_id} {indicator}: {status} "
        + (f"on data through {through}" if through else "with no data")
        + f"; reports due through {due}"
        for target_id, indicator, status, through, due in behind
    ]
    owing = _members_behind(con)
    if not behind:
        # No target of its own to head: the members' line stands alone (at a late as-of date
        # the areas' targets are all overdue or stale, their members still behind).
        return [line.strip() for line in owing]
    return [
        "judged on data behind the reports due (the status stands where the data end): "
        f"{len(behind)}",
        *_capped(items, SHOWN_BEHIND, "marts.fct_target_vs_actual"),
        *owing,
    ]


def _path_start_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The targets on track only by being at their own path's start
    (fct_target_vs_actual.is_at_path_start): with no baseline in the catalog, the path starts at
    the data they are judged on, so "on track" says nothing yet. A warehouse published before the
    column existed has none."""
    if not column_exists(con, "marts", "fct_target_vs_actual", "is_at_path_start"):
        return []
    rows = con.execute(
        """
        select v.target_id, i.name_zh, v.measure, v.path_start_date
        from marts.fct_target_vs_actual as v
        inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
        where v.is_latest and v.is_at_path_start
        order by v.target_id
        """
    ).fetchall()
    if not rows:
        return []
    items = [
        f"  {target_id} {indicator}: "
        + (
            f"its first reported year, {start.year}, is its path's start"
            if measure == "year_to_date"
            else f"its first report, {start}, is its path's start"
        )
        for target_id, indicator, measure, start in rows
    ]
    return [
        "on track only at their path's start, no progress to measure yet (no baseline in the "
        f"catalog, raw/plans): {len(rows)}",
        *_capped(items, SHOWN_BEHIND, "marts.fct_target_vs_actual.is_at_path_start"),
    ]


def _members_behind(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The members whose own data stop short of their areas' reports due
    (fct_target_contribution.is_data_behind), most area targets first: who holds the sums back.
    A warehouse published before the column existed has none."""
    if not column_exists(con, "marts", "fct_target_contribution", "is_data_behind"):
        return []
    owing = con.execute(
        """
        select g.name_zh, count(*) as targets
        from marts.fct_target_contribution as c
        inner join marts.dim_geography as g on c.geo_id = g.geo_id
        where c.is_data_behind
        group by c.geo_id, g.name_zh
        order by targets desc, c.geo_id
        """
    ).fetchall()
    if not owing:
        return []
    shown = " · ".join(f"{name} {count}" for name, count in owing[:SHOWN_GEOGRAPHIES])
    more = f" and {len(owing) - SHOWN_GEOGRAPHIES} more" if len(owing) > SHOWN_GEOGRAPHIES else ""
    return [
        f"  members behind on their areas' targets: {shown}{more} (marts.fct_target_contribution)"
    ]


def _this_run_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the published run itself could not land: its files rejected with no row kept
    (unreadable, or empty), its files whose content had landed already, and the first of its
    quarantined rows, each in the quarantine's own words (file, row, column, what was got and
    expected), so that a sender's mistake reads at the terminal without a query."""
    latest = con.execute(
        "select run_id from marts.publish_log order by published_at desc limit 1"
    ).fetchall()
    if not latest:
        return []
    run_id = latest[0][0]
    rejected = con.execute(
        "select source_file, reason from raw.file_manifest "
        "where run_id = ? and status = 'rejected' and rows_quarantined = 0 order by source_file",
        [run_id],
    ).fetchall()
    # A file whose content had landed already under another path: nothing landed, said here
    # so that the sender's second copy is not taken for a new report (lib/progress/ingest.py).
    copies = con.execute(
        "select source_file, reason from raw.file_manifest "
        "where run_id = ? and status = 'loaded' and rows_in = 0 order by source_file",
        [run_id],
    ).fetchall()
    [(rows, files)] = con.execute(
        "select count(*), count(distinct source_file) from dq.quarantine where run_id = ?",
        [run_id],
    ).fetchall()
    # Values landed far from the report before them (lib/progress/value_checks.py): landed,
    # and said, so that the sender can be asked whether the unit slipped.
    checks = 0
    if table_exists(con, "dq", "value_checks"):
        [(checks,)] = con.execute(
            "select count(*) from dq.value_checks where run_id = ?", [run_id]
        ).fetchall()
    if not rejected and not rows and not copies and not checks:
        return []
    what = []
    if rejected:
        what.append(f"{len(rejected)} file(s) rejected")
    if copies:
        what.append(f"{len(copies)} file(s) landed already under another path")
    if rows:
        what.append(f"{rows} row(s) of {files} file(s) quarantined")
    if checks:
        what.append(f"{checks} value(s) landed to check")
    lines = [f"this run: {' · '.join(what)}"]
    lines += [f"  {source_file}: {reason}" for source_file, reason in rejected + copies]
    for table, column, count, shown_at_most in (
        ("dq.quarantine", "reason", rows, SHOWN_QUARANTINED),
        ("dq.value_checks", "message", checks, SHOWN_VALUE_CHECKS),
    ):
        if not count:
            continue
        shown = con.execute(
            f"select {column} from {table} where run_id = ? "  # noqa: S608 - names of ours
            "order by source_file, sheet nulls first, source_row limit ?",
            [run_id, shown_at_most],
        ).fetchall()
        lines += [f"  {text}" for (text,) in shown]
        if count > shown_at_most:
            lines.append(f"  and {count - shown_at_most} more ({table}, run_id {run_id})")
    return lines


def _dated_ahead_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Landed reports dated after today (in the office's time zone): no report is filed in the
    future, so most are a typo of the date (2026-12-10 for 2026-11-10). They land, as reports
    dated ahead must for a look back with an earlier as-of date, but count only from their date
    on (dbt's known_on): said here, so that the sender can be asked."""
    [(count,)] = con.execute(
        f"select count(*) from raw.progress_rows where reported_on > {OFFICE_TODAY_SQL}"  # noqa: S608
    ).fetchall()
    if not count:
        return []
    first = con.execute(
        # A constant expression of ours; the limit is a parameter.
        f"select source_file, sheet, source_row, reported_on from raw.progress_rows "  # noqa: S608
        f"where reported_on > {OFFICE_TODAY_SQL} "
        "order by reported_on, source_file, sheet nulls first, source_row limit ?",
        [SHOWN_DATED_AHEAD],
    ).fetchall()
    shown = " · ".join(
        f"{source_file}{f' sheet {sheet}' if sheet else ''} row {row} ({reported_on})"
        for source_file, sheet, row, reported_on in first
    )
    more = f" and {count - len(first)} more" if count > len(first) else ""
    return [
        f"dated after today, not counted until that day (a typo of the date?): {count} report(s), "
        f"{shown}{more}"
    ]


def summary(published_db: Path, raw_dir: Path | None = None) -> str:
    """What a published warehouse says, in a few lines; with `raw_dir`, also the landed files no
    longer under raw/progress whose reports still count."""
    lines: list[str] = []
    with duckdb.connect(str(published_db), read_only=True) as con:
        # How many of the on-track targets are so only at their path's start (none from a
        # warehouse published before the column existed).
        at_start = if_column(
            con, "scorecard_plan", "at_path_start_count", "s.at_path_start_count", "0"
        )
        # And how many, whatever their status, stand on data behind the reports due: a status
        # there is where the data end, not today (the section below names them).
        behind = if_column(con, "scorecard_plan", "data_behind_count", "s.data_behind_count", "0")
        # And how many of those without data have data, too far behind to judge.
        stale = if_column(con, "scorecard_plan", "data_stale_count", "s.data_stale_count", "0")
        plans = con.execute(
            f"""
            select
                plan_id, s.name_zh, p.horizon_start_date, s.as_of_date, s.target_count,
                s.achieved_count, s.on_track_count, s.at_risk_count, s.off_track_count,
                s.no_data_count, {at_start}, {behind}, {stale}
            from marts.scorecard_plan as s
            inner join marts.dim_plan as p using (plan_id)
            order by plan_id
            """  # noqa: S608 - a column name chosen above
        ).fetchall()
        for plan_id, name, begins, as_of, targets, *counts in plans:
            achieved, on_track, at_risk, off_track, no_data, starting, behind_count, stale_count = (
                counts
            )
            if not targets and begins > as_of:
                lines.append(f"{name} ({plan_id}): begins {begins}, no target judged as of {as_of}")
                continue
            only_start = f" ({starting} of them only at their path's start)" if starting else ""
            on_behind = f" · {behind_count} on data behind the reports due" if behind_count else ""
            too_old = f" ({stale_count} of them on data too far behind)" if stale_count else ""
            lines.append(
                f"{name} ({plan_id}): {achieved} achieved · {on_track} on track{only_start} · "
                f"{at_risk} at risk · {off_track} off track · {no_data} no data{too_old}"
                f"{on_behind}"
            )
        gaps = con.execute(
            """
            select v.target_id, i.name_zh, v.status, v.pace_ratio, v.actual_value,
                v.expected_value, v.unit, v.data_through_date, v.is_final, v.target_value,
                v.deadline_date
            from marts.fct_target_vs_actual as v
            inner join marts.dim_indicator as i on v.indicator_id = i.indicator_id
            -- The lagging targets, as in scorecard_plan.worst_gaps: an on-track target is no
            -- gap, however close its pace to 1.
            where v.is_latest and v.pace_ratio is not null and v.status in ('off_track', 'at_risk')
            order by v.pace_ratio, v.target_id
            limit 5
            """
        ).fetchall()
        if gaps:
            lines.append(
                "largest gaps, targets at risk or off track "
                "(pace = share of the expected progress made):"
            )
            for (
                target_id, indicator, status, pace, actual, expected, unit, through, final,
                target, deadline,
            ) in gaps:  # fmt: skip
                if final:
                    # The deadline's outcome, not a pace (int_targets_evaluated).
                    lines.append(
                        f"  {target_id} {indicator}: missed, {actual:,.2f} of {target:,.2f} "
                        f"{unit} by its deadline, {deadline}"
                    )
                    continue
                # Expected where the data end, not today: a September report is judged
                # against September (int_targets_evaluated).
                lines.append(
                    f"  {target_id} {indicator}: {status}, pace {pace:.2f} "
                    f"({actual:,.2f} of {expected:,.2f} {unit} expected by {through}, "
                    "where its data end)"
                )
        lines += _status_change_lines(con)
        lines += _overdue_lines(con)
        lines += _stale_lines(con)
        lines += _behind_lines(con)
        lines += _path_start_lines(con)
        lines += _reports_line(con)
        files = dict(
            con.execute("select status, count(*) from raw.file_manifest group by all").fetchall()
        )
        quarantined = con.execute("select count(*) from dq.quarantine").fetchall()[0][0]
        builds = con.execute(
            "select full_refresh, reason from dq.dbt_build_state order by built_at desc limit 1"
        ).fetchall()
        if builds:
            full_refresh, reason = builds[0]
            kind = "full refresh" if full_refresh else "incremental"
            lines.append(f"dbt: {kind} ({reason})")
        lines.append(
            f"files: {files.get('loaded', 0)} loaded · {files.get('partially_loaded', 0)} "
            f"partially loaded · {files.get('rejected', 0)} rejected · {quarantined} rows "
            "quarantined (reasons in dq.quarantine)"
        )
        lines += _this_run_lines(con)
        lines += _dated_ahead_lines(con)
        withdrawn_files, withdrawn_rows = withdrawn_counts(con)
        if withdrawn_files:
            lines.append(
                f"withdrawn (raw/withdrawals.csv): {withdrawn_files} file version(s), "
                f"{withdrawn_rows} landed row(s) counted nowhere"
            )
        for path, held, later in reverted_files(con):
            lines.append(
                f"put back as it was: {path} holds again its version {held}, landed before "
                f"and not read again, while its later version {later} counts (withdraw "
                f"{later} in raw/withdrawals.csv to count the one it holds)"
            )
        if raw_dir is not None:
            vanished = vanished_files(con, {f.relative for f in discover(raw_dir.resolve())})
            if vanished:
                shown = ", ".join(vanished[:SHOWN_FILES])
                more = (
                    f" and {len(vanished) - SHOWN_FILES} more"
                    if len(vanished) > SHOWN_FILES
                    else ""
                )
                lines.append(
                    f"no longer under raw/progress, still counted: {shown}{more} "
                    "(to take their reports back, list them in raw/withdrawals.csv)"
                )
    return "\n".join(lines)
