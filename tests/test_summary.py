"""The terminal summary `make run` prints (lib/summary.py), read from a published warehouse."""

from __future__ import annotations

import datetime as dt
from itertools import takewhile
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.explain import explain
from dagster_project.lib.report import write_report
from dagster_project.lib.summary import SHOWN_BEHIND, summary
from dagster_project.lib.workbook import write_workbook

pytestmark = pytest.mark.slow


@pytest.fixture
def published(bundled_warehouse: Path) -> Path:
    return bundled_warehouse / "plan_tracker.duckdb"


def test_the_summary_counts_each_plan_and_names_only_lagging_targets_as_gaps(
    published: Path,
) -> None:
    lines = summary(published).splitlines()
    with duckdb.connect(str(published), read_only=True) as con:
        plans = con.execute(
            "select plan_id, achieved_count, on_track_count, at_risk_count, off_track_count, "
            "no_data_count, at_path_start_count, data_behind_count "
            "from marts.scorecard_plan order by plan_id"
        ).fetchall()
        lagging = con.execute(
            "select target_id, status, data_through_date from marts.fct_target_vs_actual "
            "where is_latest and status in ('at_risk', 'off_track') and pace_ratio is not null "
            "order by pace_ratio, target_id limit 5"
        ).fetchall()
        on_track = {
            target_id
            for (target_id,) in con.execute(
                "select target_id from marts.fct_target_vs_actual "
                "where is_latest and status = 'on_track'"
            ).fetchall()
        }
    for plan_id, achieved, on, at_risk, off, no_data, starting, behind in plans:
        (line,) = [line for line in lines if f"({plan_id}):" in line]
        # The on-track count says how many are so only at their path's start (is_at_path_start),
        # and the line how many stand on data behind the reports due (is_data_behind).
        only_start = f" ({starting} of them only at their path's start)" if starting else ""
        on_behind = f" · {behind} on data behind the reports due" if behind else ""
        assert line.endswith(
            f"{achieved} achieved · {on} on track{only_start} · {at_risk} at risk · "
            f"{off} off track · {no_data} no data{on_behind}"
        )
    assert any(starting for *_, starting, _ in plans)
    assert any(behind for *_, behind in plans)
    # The bundled data have targets at risk and off track, and on track ones with a pace.
    assert lagging and on_track
    start = lines.index(
        "largest gaps, targets at risk or off track (pace = share of the expected progress made):"
    )
    gaps = [line.split()[0] for line in lines[start + 1 : start + 1 + len(lagging)]]
    assert gaps == [target_id for target_id, _, _ in lagging]
    assert [f"{status}," for _, status, _ in lagging] == [
        line.split()[2] for line in lines[start + 1 : start + 1 + len(lagging)]
    ]
    # Expected where each target's data end, which the line names.
    for (_, _, through), line in zip(lagging, lines[start + 1 :], strict=False):
        assert line.endswith(f"expected by {through}, where its data end)"), line
    gap_lines = list(takewhile(lambda line: line.startswith("  "), lines[start + 1 :]))
    assert not on_track & {line.split()[0] for line in gap_lines}
    assert sum(line.startswith("files: ") for line in lines) == 1


def test_a_missed_deadline_is_named_as_such_not_by_its_pace(later_copy: Path) -> None:
    # A copy stands in for the warehouse judged later: the lagging target's latest row made its
    # deadline's outcome.
    published = later_copy
    with duckdb.connect(str(published)) as con:
        [(target_id, indicator, actual, target, unit, due)] = con.execute(
            "select v.target_id, i.name_zh, v.actual_value, v.target_value, v.unit, v.due_date "
            "from marts.fct_target_vs_actual as v inner join marts.dim_indicator as i "
            "using (indicator_id) where v.is_latest and v.status = 'off_track' "
            "and v.pace_ratio is not null and v.cadence = 'by_due_date' "
            "order by v.pace_ratio limit 1"
        ).fetchall()
        con.execute(
            "update marts.fct_target_vs_actual set is_final = true, month_end = last_day(due_date) "
            "where target_id = ? and is_latest",
            [target_id],
        )
    lines = summary(published).splitlines()
    assert (
        f"  {target_id} {indicator}: missed, {actual:,.2f} of {target:,.2f} {unit} "
        f"by its deadline, {due}"
    ) in lines


def test_deadlines_passed_without_an_outcome_are_named_first_due_first(
    published: Path, later_copy: Path
) -> None:
    # Judged today, no deadline of the bundled plans has passed.
    assert "deadlines passed" not in summary(published)
    # A copy stands in for a later warehouse: seven latest rows whose deadline's reports are
    # overdue, one of them met before (its outcome known), and one row final.
    copy = later_copy
    with duckdb.connect(str(copy)) as con:
        rows = con.execute(
            "select target_id from marts.fct_target_vs_actual where is_latest "
            "order by target_id limit 8"
        ).fetchall()
        met, final = rows[0][0], rows[1][0]
        for number, (target_id,) in enumerate(rows[2:]):
            con.execute(
                "update marts.fct_target_vs_actual set is_final_overdue = true, "
                "is_at_path_start = false, status = 'no_data', deadline_date = ?, "
                "final_reports_due_date = ?, "
                "data_through_date = case when ? then null else data_through_date end "
                "where target_id = ? and is_latest",
                # The last in target order has the earliest deadline, and no data.
                [f"2027-0{6 - number}-28", f"2027-0{7 - number}-15", number == 5, target_id],
            )
        con.execute(
            "update marts.fct_target_vs_actual set is_final_overdue = true, status = 'achieved', "
            "is_at_path_start = false "
            "where target_id = ? and is_latest",
            [met],
        )
        con.execute(
            "update marts.fct_target_vs_actual set is_final = true, status = 'achieved', "
            "is_at_path_start = false "
            "where target_id = ? and is_latest",
            [final],
        )
        names = dict(
            con.execute(
                "select v.target_id, i.name_zh from marts.fct_target_vs_actual as v "
                "inner join marts.dim_indicator as i using (indicator_id) where v.is_latest"
            ).fetchall()
        )
        through = dict(
            con.execute(
                "select target_id, data_through_date from marts.fct_target_vs_actual "
                "where is_latest"
            ).fetchall()
        )
    lines = summary(copy).splitlines()
    start = lines.index("deadlines passed with no outcome (their reports due, not in): 6")
    shown = [target_id for (target_id,) in reversed(rows[3:])]
    for line, target_id, month in zip(lines[start + 1 :], shown, "12345", strict=False):
        data = f"data through {through[target_id]}" if through[target_id] else "no data"
        assert (target_id == shown[0]) == (data == "no data")
        assert line == (
            f"  {target_id} {names[target_id]}: deadline 2027-0{month}-28, "
            f"reports due 2027-0{int(month) + 1}-15, {data}"
        )
    assert lines[start + 6] == "  and 1 more (marts.fct_target_vs_actual)"
    assert rows[2][0] not in "\n".join(lines[start + 1 : start + 6])
    assert not any(line.startswith((f"  {met} ", f"  {final} ")) for line in lines[start:])


def test_the_summary_says_how_many_reports_are_missing_and_from_whom(published: Path) -> None:
    lines = summary(published).splitlines()
    with duckdb.connect(str(published), read_only=True) as con:
        [(expected, received, late, missing)] = con.execute(
            "select count(*), count(*) filter (where is_received), "
            "count(*) filter (where report_status = 'late'), "
            "count(*) filter (where report_status = 'missing') "
            "from marts.fct_report_completeness"
        ).fetchall()
        most = con.execute(
            "select g.name_zh, count(*) from marts.fct_report_completeness "
            "inner join marts.dim_geography as g using (geo_id) "
            "where report_status = 'missing' group by g.name_zh, g.geo_id "
            "order by count(*) desc, g.geo_id limit 3"
        ).fetchall()
    assert missing and late  # the bundled data, judged today, lack some reports
    (line,) = [line for line in lines if line.startswith("reports: ")]
    assert line == (
        f"reports: {expected:,} expected so far · {received:,} received ({late:,} late) · "
        f"{missing:,} missing, most from "
        + " · ".join(f"{name} {count:,}" for name, count in most)
        + " (marts.fct_report_completeness)"
    )


def test_the_summary_shows_what_this_run_could_not_land_in_the_quarantine_s_words(
    later_copy: Path,
) -> None:
    copy = later_copy
    with duckdb.connect(str(copy)) as con:
        [(run_id,)] = con.execute(
            "select run_id from marts.publish_log order by published_at desc limit 1"
        ).fetchall()
        reasons = con.execute(
            "select reason from dq.quarantine where run_id = ? "
            "order by source_file, sheet nulls first, source_row",
            [run_id],
        ).fetchall()
        # A file the run could not read at all, and rows of an earlier run (not this one's).
        con.execute(
            "insert into raw.file_manifest (source_file, file_sha256, status, rows_in, "
            "rows_loaded, rows_quarantined, reason, loaded_at, run_id) values ('progress/x.xlsx', "
            "'abc', 'rejected', 0, 0, 0, 'not a readable XLSX workbook', now(), ?)",
            [run_id],
        )
        con.execute("update dq.quarantine set run_id = 'earlier' where reason = ?", reasons[-1])
        files = con.execute(
            "select count(distinct source_file) from dq.quarantine where run_id = ?", [run_id]
        ).fetchall()[0][0]
    # The bundled data quarantine a few rows on purpose, all landed by the warehouse's one run.
    assert len(reasons) > 3
    lines = summary(copy).splitlines()
    start = lines.index(
        f"this run: 1 file(s) rejected · {len(reasons) - 1} row(s) of {files} file(s) quarantined"
    )
    assert lines[start + 1] == "  progress/x.xlsx: not a readable XLSX workbook"
    assert lines[start + 2 : start + 5] == [f"  {reason}" for (reason,) in reasons[:3]]
    tail = lines[start + 5 :]
    if len(reasons) - 1 > 3:
        assert tail[0] == f"  and {len(reasons) - 4} more (dq.quarantine, run_id {run_id})"
    # A file whose content had landed already under another path is named, with why.
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "insert into raw.file_manifest (source_file, file_sha256, status, rows_in, "
            "rows_loaded, rows_quarantined, reason, loaded_at, run_id) values ("
            "'progress/y (1).csv', 'def', 'loaded', 0, 0, 0, 'the same content as y.csv', "
            "now(), ?)",
            [run_id],
        )
    lines = summary(copy).splitlines()
    start = lines.index(
        "this run: 1 file(s) rejected · 1 file(s) landed already under another path · "
        f"{len(reasons) - 1} row(s) of {files} file(s) quarantined"
    )
    assert lines[start + 2] == "  progress/y (1).csv: the same content as y.csv"
    # A run that landed everything says nothing of it.
    with duckdb.connect(str(copy)) as con:
        con.execute("update dq.quarantine set run_id = 'earlier'")
        con.execute(
            "delete from raw.file_manifest "
            "where source_file in ('progress/x.xlsx', 'progress/y (1).csv')"
        )
    assert not any(line.startswith("this run:") for line in summary(copy).splitlines())


def test_values_landed_far_from_the_report_before_them_are_named(later_copy: Path) -> None:
    with duckdb.connect(str(later_copy)) as con:
        [(run_id,)] = con.execute(
            "select run_id from marts.publish_log order by published_at desc limit 1"
        ).fetchall()
        con.execute("update dq.quarantine set run_id = 'earlier'")
        assert con.execute("select count(*) from dq.value_checks").fetchall() == [(0,)]
        for row in range(2, 7):
            con.execute(
                "insert into dq.value_checks values ('progress/b.csv', 'abc', null, ?, "
                "'huangshi', 'tech_contract_turnover', '2026-10-01', '2026-10-31', 8200, '亿元', "
                "'2026-09-01', '2026-09-30', 8.2, 'progress/a.csv', null, 3, 1000, "
                "'value_jump', 'row ' || ?, now(), ?, null, null)",
                [row, row, run_id],
            )
    lines = summary(later_copy).splitlines()
    start = lines.index("this run: 5 value(s) landed to check")
    assert lines[start + 1 : start + 5] == [
        "  row 2",
        "  row 3",
        "  row 4",
        f"  and 2 more (dq.value_checks, run_id {run_id})",
    ]


def test_reports_dated_after_today_are_named(published: Path, later_copy: Path) -> None:
    assert "dated after today" not in summary(published)
    with duckdb.connect(str(later_copy)) as con:
        rows = con.execute(
            "select source_file, sheet, source_row from raw.progress_rows "
            "order by source_file, sheet, source_row limit 4"
        ).fetchall()
        for n, (source_file, sheet, row) in enumerate(rows):
            con.execute(
                "update raw.progress_rows set reported_on = ? where source_file = ? "
                "and sheet is not distinct from ? and source_row = ?",
                [f"2099-01-0{n + 1}", source_file, sheet, row],
            )
    [line] = [x for x in summary(later_copy).splitlines() if x.startswith("dated after today")]
    shown = " · ".join(
        f"{source_file}{f' sheet {sheet}' if sheet else ''} row {row} (2099-01-0{n + 1})"
        for n, (source_file, sheet, row) in enumerate(rows[:3])
    )
    assert line == (
        "dated after today, not counted until that day (a typo of the date?): 4 report(s), "
        f"{shown} and 1 more"
    )


BEHIND = "数据待更新 data behind: 应报至 due through 2026-12-31"
BEHIND_COLUMN = "待更新·应报至 behind, due through"


MEMBERS_SHEET = "成员 Members"


AT_START_COLUMN = "进度起点 at path start"


def _behind_column(
    book: Path, sheet: str = "目标 Targets", column: str = BEHIND_COLUMN
) -> dict[object, object]:
    """A column of a sheet (待更新·应报至 unless another is named), by target_id (Targets, its
    last column) or by target_id and member (Members)."""
    rows = list(load_workbook(book)[sheet].iter_rows(values_only=True))
    index = rows[0].index(column)
    if sheet == MEMBERS_SHEET:
        return {(row[0], row[3]): row[index] for row in rows[1:]}
    return {row[-1]: row[index] for row in rows[1:]}


def test_targets_judged_on_data_behind_the_reports_due_are_named_worst_first(
    later_copy: Path, tmp_path: Path
) -> None:
    """fct_target_vs_actual.is_data_behind: the summary, explain, the page and the workbook
    name the targets whose status stands on data short of the reports due, worst first. An
    achieved one and a deadline overdue, their data as short, are not behind (the model's rule,
    unit-tested) and not named."""
    with duckdb.connect(str(later_copy)) as con:
        con.execute("update marts.fct_target_vs_actual set is_data_behind = false")
        con.execute("update marts.fct_target_contribution set is_data_behind = false")
        rows = con.execute(
            "select target_id from marts.fct_target_vs_actual where is_latest "
            "order by target_id limit 4"
        ).fetchall()
        on_track, off_track, achieved, overdue = (target_id for (target_id,) in rows)
        for target_id, status, is_overdue in [
            (on_track, "on_track", False),
            (off_track, "off_track", False),
            (achieved, "achieved", False),
            (overdue, "no_data", True),
        ]:
            con.execute(
                "update marts.fct_target_vs_actual set is_data_behind = ?, "
                "data_due_through_date = '2026-12-31', data_through_date = '2026-09-30', "
                "status = ?, is_final = false, is_final_overdue = ?, is_at_path_start = false "
                "where target_id = ? and is_latest",
                [status != "achieved" and not is_overdue, status, is_overdue, target_id],
            )
        names = dict(
            con.execute(
                "select v.target_id, i.name_zh from marts.fct_target_vs_actual as v "
                "inner join marts.dim_indicator as i using (indicator_id) where v.is_latest"
            ).fetchall()
        )
        con.execute("update marts.scorecard_plan set data_behind_count = 0")
        con.execute(
            "update marts.scorecard_plan set data_behind_count = 2 where plan_id = "
            "(select min(plan_id) from marts.scorecard_plan)"
        )
    lines = summary(later_copy).splitlines()
    start = lines.index(
        "judged on data behind the reports due (the status stands where the data end): 2"
    )
    assert lines[start + 1 : start + 3] == [
        f"  {target_id} {names[target_id]}: {status} on data through 2026-09-30; "
        "reports due through 2026-12-31"
        for target_id, status in [(off_track, "off_track"), (on_track, "on_track")]
    ]
    assert not lines[start + 3].startswith("  ")

    for target_id, named in [(on_track, True), (achieved, False), (overdue, False)]:
        told = explain(later_copy, target_id)
        assert ("  behind  the reports due through 2026-12-31 are not all in" in told) == named

    page = write_report(later_copy, tmp_path).read_text(encoding="utf-8")
    assert page.count(BEHIND) == 2
    # Beside one plan's reports (scorecard_plan.data_behind_count), none beside the other's.
    assert page.count("数据待更新 data behind: 2 个目标 targets") == 1
    assert page.count("数据待更新 data behind: ") == 3  # the two targets', the one plan's
    column = _behind_column(write_workbook(later_copy, tmp_path))
    assert {target_id for target_id, due in column.items() if due} == {on_track, off_track}


def test_a_warehouse_published_before_data_behind_existed_reads_as_before(
    later_copy: Path, tmp_path: Path
) -> None:
    """Without fct_target_vs_actual.is_data_behind (older code published the file), the summary,
    explain, the page and the workbook leave it out, and nothing fails."""
    with duckdb.connect(str(later_copy)) as con:
        con.execute(
            "update marts.fct_target_vs_actual "
            "set is_data_behind = true, data_due_through_date = '2026-12-31'"
        )
        [(target_id,)] = con.execute(
            "select target_id from marts.fct_target_vs_actual "
            "where is_latest and status <> 'achieved' order by target_id limit 1"
        ).fetchall()
        # Made again without them (a check constraint of the table reads both).
        con.execute(
            "create or replace table marts.fct_target_vs_actual as select * exclude "
            "(is_data_behind, data_due_through_date, is_at_path_start, is_data_stale) "
            "from marts.fct_target_vs_actual"
        )
        con.execute("alter table marts.scorecard_plan drop column data_behind_count")
        con.execute("alter table marts.scorecard_plan drop column at_path_start_count")
        con.execute("alter table marts.scorecard_plan drop column data_stale_count")
        for column in ("own_data_behind_count", "contribution_data_behind_count"):
            con.execute(f"alter table marts.scorecard_geography drop column {column}")
        con.execute(
            "update marts.fct_target_contribution "
            "set is_data_behind = true, data_due_through_date = '2026-12-31'"
        )
        [(area_target_id,)] = con.execute(
            "select min(target_id) from marts.fct_target_contribution"
        ).fetchall()
        con.execute(
            "create or replace table marts.fct_target_contribution as select * exclude "
            "(is_data_behind, data_due_through_date, is_member_judged, is_data_stale) "
            "from marts.fct_target_contribution"
        )
        con.execute(
            "create or replace table marts.dim_indicator as select * exclude "
            "(reporting_frequency, reported_by) from marts.dim_indicator"
        )
    told = summary(later_copy)
    assert "judged on data behind" not in told
    assert "at their path's start" not in told
    assert "  behind  " not in explain(later_copy, target_id)
    assert "behind the reports due" not in explain(later_copy, area_target_id)
    # A geography, too: every part shown, none named as holding its area back.
    by_city = explain(later_copy, "ezhou")
    assert "parts of its areas' targets" in by_city and "  behind  " not in by_city
    page = write_report(later_copy, tmp_path).read_text(encoding="utf-8")
    assert "数据待更新" not in page
    assert ">待</td>" not in page
    assert "起点 at its path's start" not in page
    book = write_workbook(later_copy, tmp_path)
    assert not any(_behind_column(book).values())
    assert not any(_behind_column(book, column=AT_START_COLUMN).values())
    assert not any(_behind_column(book, MEMBERS_SHEET).values())


def test_members_whose_own_data_are_behind_their_reports_due_are_named(
    later_copy: Path, tmp_path: Path
) -> None:
    """fct_target_contribution.is_data_behind (the rule is the model's, unit-tested): the
    summary names the members by how many area targets they hold back, explain names them under
    the area target, the page marks their cells of the heat map 待, the workbook's Members sheet
    gives the date their data should reach."""
    with duckdb.connect(str(later_copy)) as con:
        con.execute("update marts.fct_target_vs_actual set is_data_behind = false")
        con.execute("update marts.fct_target_contribution set is_data_behind = false")
        [(first, second)] = con.execute(
            # Two parts the members report (the heat map leaves the area's own figures blank).
            "select min(c.target_id), max(c.target_id) from marts.fct_target_contribution as c "
            "inner join marts.dim_indicator as i using (indicator_id) "
            "where i.reported_by = 'members' "
            "and c.area_geo_id = (select min(area_geo_id) from marts.fct_target_contribution)"
        ).fetchall()
        a, b = (
            geo_id
            for (geo_id,) in con.execute(
                "select geo_id from marts.fct_target_contribution where target_id = ? "
                "order by geo_id limit 2",
                [first],
            ).fetchall()
        )
        behind = [(first, a), (first, b), (second, a)]
        # The area target itself is behind, waiting for a's and b's reports.
        con.execute(
            "update marts.fct_target_vs_actual set is_data_behind = true, "
            "data_due_through_date = '2026-12-31' where target_id = ? and is_latest",
            [first],
        )
        for target_id, geo_id in behind:
            con.execute(
                "update marts.fct_target_contribution set is_data_behind = true, "
                "data_due_through_date = '2026-12-31' where target_id = ? and geo_id = ?",
                [target_id, geo_id],
            )
        names = dict(con.execute("select geo_id, name_zh from marts.dim_geography").fetchall())
        [(members,)] = con.execute(
            "select count(*) from marts.fct_target_contribution where target_id = ?", [first]
        ).fetchall()
        [(cells,)] = con.execute(
            "select count(distinct (geo_id, action_id)) from marts.fct_target_contribution "
            "where is_data_behind"
        ).fetchall()
    lines = summary(later_copy).splitlines()
    assert (
        f"  members behind on their areas' targets: {names[a]} 2 · {names[b]} 1 "
        "(marts.fct_target_contribution)"
    ) in lines
    told = [
        line
        for line in explain(later_copy, first).splitlines()
        if "(fct_target_contribution.is_data_behind)" in line
    ]
    assert len(told) == 1
    assert told[0].startswith(f"    2 of {members} behind the reports due through 2026-12-31: ")
    assert {names[a], names[b]} <= set(told[0].split(": ")[1].split(" (")[0].split(", "))
    page = write_report(later_copy, tmp_path).read_text(encoding="utf-8")
    assert page.count(">待</td>") == cells
    assert page.count(" · 待报 owed by ") == 1
    assert f"应报至 due through 2026-12-31 · 待报 owed by {names[a]}、{names[b]}</small>" in page
    assert "待 = 数据待更新 data behind" in page
    column = _behind_column(write_workbook(later_copy, tmp_path), MEMBERS_SHEET)
    assert {key for key, due in column.items() if due} == {
        (target_id, names[geo_id]) for target_id, geo_id in behind
    }
    assert set(column.values()) == {None, dt.datetime(2026, 12, 31)}
    # With no target of its own behind (its area's overdue or stale), the members' line stands
    # alone, under no heading counting 0.
    with duckdb.connect(str(later_copy)) as con:
        con.execute("update marts.fct_target_vs_actual set is_data_behind = false")
    lines = summary(later_copy).splitlines()
    assert not any(line.startswith("judged on data behind") for line in lines)
    assert (
        f"members behind on their areas' targets: {names[a]} 2 · {names[b]} 1 "
        "(marts.fct_target_contribution)"
    ) in lines


def test_targets_on_track_only_at_their_path_s_start_say_so(
    published: Path, tmp_path: Path
) -> None:
    """fct_target_vs_actual.is_at_path_start (the rule is the model's, unit-tested): the bundled
    corridor has no baselines for its output and revenue targets, whose paths start at their first
    reported year. The summary counts and names them, the page marks each and counts them beside
    its plan, explain says there is no progress to measure, the workbook marks their rows."""
    with duckdb.connect(str(published), read_only=True) as con:
        at_start = con.execute(
            "select v.target_id, i.name_zh, v.measure, v.path_start_date, v.plan_id "
            "from marts.fct_target_vs_actual as v inner join marts.dim_indicator as i "
            "using (indicator_id) where v.is_latest and v.is_at_path_start order by v.target_id"
        ).fetchall()
        by_plan = dict(
            con.execute("select plan_id, at_path_start_count from marts.scorecard_plan").fetchall()
        )
    assert len(at_start) >= 2
    assert {measure for _, _, measure, _, _ in at_start} == {"year_to_date", "level"}
    lines = summary(published).splitlines()
    start = lines.index(
        "on track only at their path's start, no progress to measure yet (no baseline in the "
        f"catalog, raw/plans): {len(at_start)}"
    )
    shown = lines[start + 1 : start + 1 + min(len(at_start), SHOWN_BEHIND)]
    if len(at_start) > SHOWN_BEHIND:
        assert lines[start + 1 + SHOWN_BEHIND] == (
            f"  and {len(at_start) - SHOWN_BEHIND} more "
            "(marts.fct_target_vs_actual.is_at_path_start)"
        )
    for (target_id, indicator, measure, path_start, _), line in zip(at_start, shown, strict=False):
        what = (
            f"its first reported year, {path_start.year}"
            if measure == "year_to_date"
            else (f"its first report, {path_start}")
        )
        assert line == f"  {target_id} {indicator}: {what}, is its path's start", line
    page = write_report(published, tmp_path).read_text(encoding="utf-8")
    assert page.count("起点 at its path's start (无基数 no baseline): 尚无可比进度") == len(
        at_start
    )
    for plan_id, count in by_plan.items():
        assert count == sum(plan == plan_id for *_, plan in at_start)
        if count:
            assert f"起点 at its path's start (无基数 no baseline): {count} 个目标 targets" in page
    for target_id, *_ in at_start:
        (status,) = [
            line
            for line in explain(published, target_id).splitlines()
            if line.startswith("  status  ")
        ]
        assert "no progress" in status and status.startswith("  status  on_track: pace 1.00"), (
            status
        )
    column = _behind_column(write_workbook(published, tmp_path), column=AT_START_COLUMN)
    assert {target_id for target_id, mark in column.items() if mark} == {
        target_id for target_id, *_ in at_start
    }


STALE = "数据停滞 data too far behind"


def test_targets_without_a_status_on_data_too_far_behind_say_so(
    later_copy: Path, tmp_path: Path
) -> None:
    """fct_target_vs_actual.is_data_stale (the rule is the model's, unit-tested): a target whose
    data end more than stale_after_months before the reports due is no_data. The summary counts
    it beside its plan and names it with where its data end and its pace there; explain says why
    there is no status nor projection; the page marks it and counts it beside its plan; the
    workbook gives the date its data should reach. A member's part alike is told in explain."""
    with duckdb.connect(str(later_copy)) as con:
        [(target_id, plan_id, indicator, pace)] = con.execute(
            "select v.target_id, v.plan_id, i.name_zh, v.pace_ratio "
            "from marts.fct_target_vs_actual as v inner join marts.dim_indicator as i "
            "using (indicator_id) where v.is_latest and v.pace_ratio is not null "
            "and v.status <> 'achieved' and not v.is_final order by v.target_id limit 1"
        ).fetchall()
        con.execute(
            "update marts.fct_target_vs_actual set status = 'no_data', "
            "projected_status = 'no_data', is_data_stale = true, is_data_behind = false, "
            "is_at_path_start = false, data_through_date = '2026-09-30', "
            "data_due_through_date = '2027-12-31' where target_id = ? and is_latest",
            [target_id],
        )
        con.execute("update marts.scorecard_plan set data_stale_count = 0")
        con.execute(
            "update marts.scorecard_plan set data_stale_count = 1 where plan_id = ?", [plan_id]
        )
        [(area_target_id, member, member_zh)] = con.execute(
            "select c.target_id, c.geo_id, g.name_zh from marts.fct_target_contribution as c "
            "inner join marts.dim_geography as g using (geo_id) "
            "where c.actual_value is not null and c.expected_basis = 'first_share' "
            "order by c.target_id, c.geo_id limit 1"
        ).fetchall()
        con.execute(
            "update marts.fct_target_contribution set status = 'no_data', is_data_stale = true "
            "where target_id = ? and geo_id = ?",
            [area_target_id, member],
        )
    lines = summary(later_copy).splitlines()
    (plan_line,) = [line for line in lines if f"({plan_id}): " in line]
    assert "no data (1 of them on data too far behind)" in plan_line
    start = lines.index(
        "no status on data too far behind the reports due (no_data until they come; "
        "stale_after_months in dbt_project.yml): 1"
    )
    assert lines[start + 1] == (
        f"  {target_id} {indicator}: data through 2026-09-30, 15 months before the reports due "
        f"through 2027-12-31 (pace there {pace:.2f})"
    )
    assert not lines[start + 2].startswith("  ")

    told = explain(later_copy, target_id).splitlines()
    assert (
        "  stale   the data end 15 months before the reports due through 2027-12-31, more than "
        "the 12 a status may stand on (stale_after_months; fct_target_vs_actual.is_data_stale): "
        "no status on them"
    ) in told
    (status,) = [line for line in told if line.startswith("  status  ")]
    assert status.startswith("  status  no_data: its data end 2026-09-30, too far behind")
    assert status.endswith(f"where they end, pace {pace:.2f}")
    (outlook,) = [line for line in told if line.startswith("  outlook ")]
    assert outlook.startswith("  outlook no_data: nothing is projected from data this far behind")
    assert not any(line.startswith("  behind  ") for line in told)
    members = explain(later_copy, area_target_id)
    assert (
        f"{member_zh} " in members
        and "→ no_data (its own data too far behind the reports due to judge)" in members
    )

    page = write_report(later_copy, tmp_path).read_text(encoding="utf-8")
    assert (
        page.count(f"{STALE}: 数据截至 data through 2026-09-30 · 应报至 due through 2027-12-31")
        == 1
    )
    assert page.count(f"{STALE}: 1 个目标 targets") == 1
    # Its row draws and prints no projection, whose status is no data.
    marked = page.index(f"{STALE}: 数据截至")
    row = page[page.rindex("<tr title=", 0, marked) : page.index("</tr>", marked)]
    assert "<circle" not in row and "· 预测 — ·" in row
    book = write_workbook(later_copy, tmp_path)
    assert _behind_column(book)[target_id] == dt.datetime(2027, 12, 31)
    assert _behind_column(book, column="预测 projected")[target_id] is None


def test_a_file_put_back_as_it_was_is_named_with_the_version_to_withdraw(
    later_copy: Path,
) -> None:
    """A file edited, landed, then put back as it was holds a version landed before, which is
    not read again: the later version's rows stand, and the summary says which to withdraw."""
    assert "put back as it was" not in summary(later_copy)
    with duckdb.connect(str(later_copy)) as con:
        [(path, sha)] = con.execute(
            "select source_file, file_sha256 from raw.file_manifest "
            "where rows_loaded > 0 order by source_file limit 1"
        ).fetchall()
        con.execute(
            "insert into raw.file_manifest (source_file, file_sha256, status, rows_in, "
            "rows_loaded, rows_quarantined, loaded_at) values (?, ?, 'loaded', 1, 1, 0, now())",
            [path, "e" * 64],
        )
        con.execute("update dq.file_hashes set file_sha256 = ? where source_file = ?", [sha, path])
    assert (
        f"put back as it was: {path} holds again its version {sha[:12]}, landed before and not "
        f"read again, while its later version {'e' * 12} counts (withdraw {'e' * 12} in "
        "raw/withdrawals.csv to count the one it holds)"
    ) in summary(later_copy).splitlines()
