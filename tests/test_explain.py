"""`plan-tracker explain TARGET_ID` (lib/explain.py): a target's status told from the published
warehouse, each figure the mart's, each report traceable to its file and row."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.explain import (
    SHOWN_MEMBERS,
    SHOWN_REPORTS,
    UnknownTargetError,
    _n,
    _part_basis,
    bands,
    explain,
)
from dagster_project.lib.status_log import WORST_FIRST
from tests.conftest import name_values_to_check

pytestmark = pytest.mark.slow


@pytest.fixture
def published(bundled_warehouse: Path) -> Path:
    return bundled_warehouse / "plan_tracker.duckdb"


def _latest(published: Path) -> list[tuple]:
    with duckdb.connect(str(published), read_only=True) as con:
        return con.execute(
            "select target_id, status, projected_status, value_source, measure, actual_value, "
            "pace_ratio from marts.fct_target_vs_actual where is_latest order by target_id"
        ).fetchall()


def test_every_target_is_told_with_the_mart_s_status(published: Path) -> None:
    on_track, at_risk = bands()
    assert (on_track, at_risk) == (0.95, 0.80)  # dbt_project.yml's, which the README states
    for target_id, status, projected, _, _, _, pace in _latest(published):
        lines = explain(published, target_id).splitlines()
        assert lines[0].startswith(f"{target_id} · ")
        (line,) = [x for x in lines if x.startswith("  status  ")]
        assert line.startswith(f"  status  {status}: "), line
        if status in ("on_track", "at_risk", "off_track"):
            assert f"pace {pace:.2f}" in line and "on_track from 0.95, at_risk from 0.80" in line
        outlook = [x for x in lines if x.startswith("  outlook ")]
        assert not outlook or outlook[0].endswith(f"→ {projected}") or "final" in outlook[0]


def test_a_pace_s_formula_gives_the_mart_s_pace(published: Path) -> None:
    """The formula told is the one the model used: (actual − start) / (expected − start) on a
    path, actual / expected for a year's own total (a baseline year's amount is no start to
    subtract: 228 against 224.38 is 1.02, not (228 − 600) / (224.38 − 600) = 0.99)."""
    number = r"(-?[\d,]+(?:\.\d+)?)"
    told = 0
    for target_id, _, _, _, measure, _, pace in _latest(published):
        (line,) = [x for x in explain(published, target_id).splitlines() if "  status  " in x]
        on_path = re.search(rf"= \({number} − {number}\) / \({number} − {number}\)", line)
        of_year = re.search(rf"= {number} / {number}, the year's total", line)
        if not (on_path or of_year):
            continue
        told += 1
        values = [float(v.replace(",", "")) for v in (on_path or of_year).groups()]  # type: ignore[union-attr]
        if on_path:
            assert measure != "year_to_date", line
            actual, start, expected, _ = values
            computed = (actual - start) / (expected - start)
        else:
            assert measure == "year_to_date", line
            actual, expected = values
            computed = actual / expected
        assert computed == pytest.approx(pace, abs=0.01), line
    assert told >= 8  # the bundled paths of both kinds


def test_a_year_s_expected_share_is_told_with_the_year_s_amount(published: Path) -> None:
    """A year's own total is expected to reach the elapsed share of the year's amount (dbt's
    year_fraction): the path says which share and of what, and the two give the mart's value."""
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select target_id, expected_value, coalesce(data_through_date, as_of_date) "
            "from marts.fct_target_vs_actual "
            "where is_latest and measure = 'year_to_date' and expected_value > 0"
        ).fetchall()
    assert len(rows) >= 5  # per-year and annual targets of both plans
    for target_id, expected, day in rows:
        (line,) = [x for x in explain(published, target_id).splitlines() if "  path    " in x]
        share = re.search(r"\((\d+)/(\d+) of the year's ([\d,]+(?:\.\d+)?)\)$", line)
        assert share, line
        elapsed, days, amount = share.groups()
        assert int(elapsed) == day.timetuple().tm_yday and int(days) in (365, 366)
        assert float(amount.replace(",", "")) * int(elapsed) / int(days) == pytest.approx(
            expected, abs=0.01
        )


def test_the_reports_shown_are_the_mart_s_and_add_up_to_a_total(published: Path) -> None:
    # A total since the plan start, reported by the target's own geography: its reports are the
    # whole of its actual.
    totals = [
        (target_id, actual)
        for target_id, _, _, source, measure, actual, _ in _latest(published)
        if measure == "cumulative" and source == "reported" and actual is not None
    ]
    assert totals
    with duckdb.connect(str(published), read_only=True) as con:
        for target_id, actual in totals:
            lines = explain(published, target_id).splitlines()
            start = next(i for i, x in enumerate(lines) if x.startswith("  reports "))
            counts = re.search(r"; (\d+) of (\d+),", lines[start])
            assert counts, lines[start]
            shown, total = map(int, counts.groups())
            assert shown == min(total, SHOWN_REPORTS)
            reports = lines[start + 1 : start + 1 + shown]
            values = []
            for report in reports:
                lineage = re.search(r"· (progress/\S+)(?: sheet \S+)? row (\d+)$", report)
                assert lineage, report
                file, row = lineage.groups()
                [(value,)] = con.execute(
                    "select value from marts.fct_actual where source_file = ? and source_row = ?",
                    [file, int(row)],
                ).fetchall()
                values.append(value)
            if total <= SHOWN_REPORTS:
                assert sum(values) == pytest.approx(actual), target_id


def test_a_rolled_up_target_names_its_members_and_their_reports(published: Path) -> None:
    [(target_id,)] = [
        (t,) for t, _, _, source, measure, *_ in _latest(published) if source == "rolled_up"
    ][:1]
    text = explain(published, target_id)
    assert "the sum of its members' (" in text
    assert "  members (marts.fct_target_contribution, furthest behind first):" in text


def test_an_area_read_where_its_earliest_member_s_data_end_names_who_it_waits_for(
    published: Path, later_copy: Path
) -> None:
    """Every member's data end together in the bundled data: no waiting. Once all members but
    one have a later report, explain names the one the area's sum is read at."""
    target_id = "wm_t_tech_contract_turnover_2028"
    assert "  waiting for " not in explain(published, target_id)
    with duckdb.connect(str(later_copy)) as con:
        members = con.execute(
            "select a.geo_id, g.name_zh from marts.fct_actual as a "
            "inner join marts.dim_geography as g on a.geo_id = g.geo_id "
            "where a.indicator_id = 'tech_contract_turnover' and g.parent_geo_id = 'wuhan_metro' "
            "group by all order by a.geo_id"
        ).fetchall()
        late_name = members[-1][1]
        # October for every member but the last (the mart's September rows, a month on).
        con.execute(
            "insert into marts.fct_actual select * replace (period_start + interval 1 month "
            "as period_start, last_day(period_start + interval 1 month) as period_end) "
            "from marts.fct_actual where indicator_id = 'tech_contract_turnover' "
            "and period_start = '2026-09-01' and geo_id in (select unnest(?))",
            [[geo_id for geo_id, _ in members[:-1]]],
        )
    text = explain(later_copy, target_id)
    assert (
        f"  waiting for 1 of {len(members)} members, {late_name} (through 2026-09-30): the sum "
        "is read where their data end; the others' reach 2026-10-31" in text
    ), text


def test_a_target_at_its_path_s_start_is_told_without_a_ratio_of_nothing(published: Path) -> None:
    """A first report is its path's own start: no progress is expected yet, and the pace (1 if
    the actual holds the start) is told as such, not as (2 − 2) / (2 − 2)."""
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select target_id, path_start_value from marts.fct_target_vs_actual "
            "where is_latest and pace_ratio = 1 and status = 'on_track' "
            "and abs(expected_value - path_start_value) < 1e-12 order by target_id"
        ).fetchall()
    assert rows  # the corridor's 千亿级整车企业, first reported in June
    for target_id, start in rows:
        lines = explain(published, target_id).splitlines()
        (status,) = [line for line in lines if line.startswith("  status  ")]
        assert "pace 1.00: no progress is expected yet, the path stands at its start" in status
        assert f"at its start, {_n(start)}, which the actual holds" in status
        assert " / (" not in status


def test_an_annual_target_in_its_path_s_first_year_projects_its_rate_held(
    published: Path,
) -> None:
    """An annual target whose path starts at its first reported year's rate has no trend yet:
    its outlook is that rate held to the due year, said so — not "at the pace so far"."""
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select target_id, measure = 'year_to_date' and cadence = 'by_due_date' "
            "and is_at_path_start from marts.fct_target_vs_actual "
            "where is_latest and projected_value is not null and not is_final order by target_id"
        ).fetchall()
    assert any(held for _, held in rows) and not all(held for _, held in rows)
    for target_id, held in rows:
        (outlook,) = [
            line for line in explain(published, target_id).splitlines() if "  outlook " in line
        ]
        assert ("if this year's annual rate holds" in outlook) == held, outlook
        assert ("at the pace so far" in outlook) != held, outlook


def test_members_of_a_figure_the_area_reports_itself_owe_none(published: Path) -> None:
    """dim_indicator.reported_by 'area': the members' missing figures are none they owe."""
    with duckdb.connect(str(published), read_only=True) as con:
        [(area_reported, members_reported)] = con.execute(
            "select min(c.target_id) filter (where i.reported_by = 'area'), "
            "min(c.target_id) filter (where i.reported_by = 'members' and c.actual_value is null) "
            "from marts.fct_target_contribution as c "
            "inner join marts.dim_indicator as i using (indicator_id)"
        ).fetchall()
    told = explain(published, area_reported)
    assert "the area reports it itself (dim_indicator.reported_by)" in told
    assert "no figure of its own yet" not in told
    if members_reported is not None:
        assert "no figure of its own yet: " in explain(published, members_reported)


def test_a_deadline_s_outcome_and_an_overdue_one_are_told_as_such(later_copy: Path) -> None:
    copy = later_copy
    with duckdb.connect(str(copy)) as con:
        first, second = (
            r[0]
            for r in con.execute(
                "select target_id from marts.fct_target_vs_actual where is_latest "
                "and actual_value is not null order by target_id limit 2"
            ).fetchall()
        )
        con.execute(
            "update marts.fct_target_vs_actual set is_final = true, status = 'off_track', "
            "is_at_path_start = false where target_id = ? and is_latest",
            [first],
        )
        con.execute(
            "update marts.fct_target_vs_actual set is_final_overdue = true, status = 'no_data', "
            "final_reports_due_date = '2031-01-15', is_at_path_start = false "
            "where target_id = ? and is_latest",
            [second],
        )
    missed = explain(copy, first)
    assert "  status  off_track: missed — " in missed
    assert "  outlook final: its deadline " in missed
    overdue = explain(copy, second)
    assert "its reports were due 2031-01-15, and the data stop short of it" in overdue


def test_a_target_without_data_reads_its_path_at_its_as_of_date(later_copy: Path) -> None:
    # A total due by a date starts from zero: it has an expected value before any data.
    with duckdb.connect(str(later_copy)) as con:
        ((target_id,),) = con.execute(
            "select target_id from marts.fct_target_vs_actual where is_latest "
            "and measure = 'cumulative' order by target_id limit 1"
        ).fetchall()
        con.execute(
            "update marts.fct_target_vs_actual set actual_value = null, data_through_date = null, "
            "value_source = null, pace_ratio = null, projected_value = null, "
            "status = 'no_data', projected_status = 'no_data', is_at_path_start = false "
            "where target_id = ? and is_latest",
            [target_id],
        )
        ((as_of,),) = con.execute(
            "select as_of_date from marts.fct_target_vs_actual where target_id = ? and is_latest",
            [target_id],
        ).fetchall()
    told = explain(later_copy, target_id)
    assert "judged where its data end: no data yet" in told
    assert f"expected by {as_of:%Y-%m-%d}, its as-of date" in told
    assert "None" not in told


def test_a_geography_is_told_from_the_marts(published: Path) -> None:
    """explain given a geography (by id or Chinese name): its own targets; its parts of its
    areas' targets that it is judged on, worst first, counted as the mart has them, and those
    its area reports itself only counted; which of them its reports owed hold back; its
    reporting record and the reports it owes, as the marts have them."""
    with duckdb.connect(str(published), read_only=True) as con:
        geos = con.execute("select geo_id, name_zh from marts.dim_geography").fetchall()
        own = dict(
            con.execute(
                "select geo_id, list(target_id) from marts.fct_target_vs_actual "
                "where is_latest group by geo_id"
            ).fetchall()
        )
        parts = {
            geo_id: (judged, unjudged, behind)
            for geo_id, judged, unjudged, behind in con.execute(
                "select geo_id, list(status) filter (where is_member_judged), "
                "count(*) filter (where not is_member_judged), "
                "list(target_id order by target_id) filter (where is_data_behind) "
                "from marts.fct_target_contribution group by geo_id"
            ).fetchall()
        }
        record = {
            geo_id: rest
            for geo_id, *rest in con.execute(
                "select geo_id, reports_expected, reports_received, reports_late, "
                "reports_missing from marts.scorecard_geography"
            ).fetchall()
        }
    told_parts = told_owed = 0
    for geo_id, name in geos:
        told = explain(published, geo_id)
        assert explain(published, name) == told
        lines = told.splitlines()
        assert lines[0].startswith(f"{name} ({geo_id}) · ")
        for target_id in own.get(geo_id, []):
            assert f"    {target_id} " in told
        if geo_id in parts:
            judged, unjudged, behind = parts[geo_id]
            judged = judged or []
            (head,) = [x for x in lines if x.startswith("  parts of its areas' targets")]
            assert f": {len(judged)} judged" in head
            for status in set(judged):
                assert f"{judged.count(status)} {status.replace('_', ' ')}" in head
            assert (f"{unjudged} more its area reports itself" in head) == bool(unjudged)
            shown = [x for x in lines[lines.index(head) + 1 :] if x.startswith("    ")]
            shown = shown[: min(len(judged), SHOWN_MEMBERS)]
            ranks = [WORST_FIRST.index(x.rsplit("→ ", 1)[1]) for x in shown]
            assert ranks == sorted(ranks) and len(shown) == min(len(judged), SHOWN_MEMBERS)
            if behind:
                (line,) = [x for x in lines if x.startswith("  behind  ")]
                more = (
                    f" and {len(behind) - SHOWN_MEMBERS} more"
                    if len(behind) > SHOWN_MEMBERS
                    else ""
                )
                assert line.endswith(", ".join(behind[:SHOWN_MEMBERS]) + more)
                assert f"on {len(behind)} of them" in line
            told_parts += 1
        expected, received, late, missing = record[geo_id]
        if expected:
            assert (
                f"{expected:,} expected so far · {received:,} received ({late:,} late) · "
                f"{missing:,} missing" in told
            )
            owed = [x for x in lines if x.startswith("    owed, oldest first: ")]
            assert len(owed) == bool(missing)
            if missing:
                assert owed[0].count(" (due ") == min(missing, SHOWN_REPORTS)
                told_owed += 1
    assert told_parts >= 10 and told_owed >= 10  # the bundled cities and districts


def test_a_geography_s_name_close_to_another_is_suggested(published: Path) -> None:
    with pytest.raises(UnknownTargetError, match=r"nor is it a geography; did you mean 鄂州"):
        explain(published, "鄂洲")


@pytest.mark.parametrize(
    ("share", "told"),
    [(0.5, "50.0%"), (0.0123, "1.2%"), (0.00031, "0.031%"), (0.0, "0.0%")],
)
def test_a_member_s_share_is_told_even_when_one_of_thousands(share: float, told: str) -> None:
    """A county among 3,000 has a share below 0.1 %: told with its digits, not as 0.0 %."""
    part = {
        "expected_basis": "first_share",
        "first_share": share,
        "first_share_month": "2026-01-31",
        "member_target_id": None,
    }
    assert _part_basis(part) == f"its first share {told} (2026-01-31)"
    own = {**part, "expected_basis": "member_target", "member_target_id": "t_x"}
    assert _part_basis(own) == "its own target t_x"


def test_an_unknown_target_is_refused_with_the_nearest_ids(published: Path) -> None:
    with pytest.raises(UnknownTargetError, match=r"did you mean wm_t_new_platforms_2028"):
        explain(published, "wm_t_new_platform_2028")


def test_the_command_tells_a_target_or_says_what_is_wrong(published: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["PLAN_TRACKER_WAREHOUSE_DIR"] = str(tmp_path)
    command = [str(Path(sys.executable).with_name("plan-tracker")), "explain"]
    missing = subprocess.run(
        [*command, "wm_t_new_platforms_2028"], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1 and missing.stdout.startswith("no published warehouse at ")
    shutil.copyfile(published, tmp_path / "plan_tracker.duckdb")
    told = subprocess.run(
        [*command, "wm_t_new_platforms_2028"], env=env, capture_output=True, text=True, check=True
    )
    assert told.stdout == explain(published, "wm_t_new_platforms_2028") + "\n"
    wrong = subprocess.run([*command, "nothing"], env=env, capture_output=True, text=True)
    assert wrong.returncode == 1 and wrong.stdout.startswith("plan-tracker: no target 'nothing'")


def test_an_area_of_many_members_shows_the_furthest_behind_and_counts_the_rest(
    later_copy: Path,
) -> None:
    copy = later_copy
    with duckdb.connect(str(copy)) as con:
        [(target_id, members)] = con.execute(
            "select target_id, count(*) from marts.fct_target_contribution "
            "where actual_value is not null group by 1 order by 2 desc, 1 limit 1"
        ).fetchall()
        # Copies of one member under new ids, as if the area had dozens.
        for n in range(20):
            con.execute(
                "insert into marts.dim_geography by name select * replace (? as geo_id) "
                "from marts.dim_geography where geo_id = (select min(geo_id) from "
                "marts.fct_target_contribution where target_id = ? and actual_value is not null)",
                [f"copy_{n:02}", target_id],
            )
            con.execute(
                "insert into marts.fct_target_contribution by name select * replace "
                "(? as geo_id, actual_value * 2 as actual_value, 'on_track' as status) "
                "from marts.fct_target_contribution where target_id = ? and geo_id = ("
                "select min(geo_id) from marts.fct_target_contribution where target_id = ? "
                "and actual_value is not null)",
                [f"copy_{n:02}", target_id, target_id],
            )
    lines = explain(copy, target_id).splitlines()
    start = lines.index("  members (marts.fct_target_contribution, furthest behind first):")
    shown = lines[start + 1 : start + 1 + SHOWN_MEMBERS]
    assert all(line.startswith("    ") and " expected (" in line for line in shown)
    rest = lines[start + 1 + SHOWN_MEMBERS]
    assert rest.startswith(f"    and {members + 20 - SHOWN_MEMBERS} more: ")


def test_a_geography_s_values_to_check_that_still_count_are_told(later_copy: Path) -> None:
    """Each value of its named far from the report before it, farthest first, while it is
    still the report counted for its period."""
    assert "values to check" not in explain(later_copy, "huangshi")
    # Two of its reports named, and one more whose report has been corrected since.
    rows = name_values_to_check(later_copy, [10, 0.01], geo_id="huangshi")
    lines = explain(later_copy, "黄石").splitlines()
    start = lines.index("    values to check (dq.value_checks): 2, farthest first")
    assert lines[start + 1 : start + 3] == [
        f"      slip at row {rows[1][3]}",
        f"      slip at row {rows[0][3]}",
    ]
    assert "鄂州" not in "\n".join(lines[start:])
    assert "values to check" not in explain(later_copy, "ezhou")
