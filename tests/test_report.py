"""The offline scorecard page: self-contained, escaped, and rendered without errors in Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from dagster_project.lib.report import _last_year, write_report

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def report(bundled_warehouse: Path, tmp_path: Path) -> Path:
    return write_report(bundled_warehouse / "plan_tracker.duckdb", tmp_path / "report")


def test_page_is_self_contained_and_lists_every_city_and_target(
    bundled_warehouse: Path, report: Path
) -> None:
    page = report.read_text(encoding="utf-8")
    for forbidden in ("<script", "http://", "https://", "<link", "@import", "src="):
        assert forbidden not in page, forbidden
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        cities = [
            r[0]
            for r in con.execute(
                "select name_zh from marts.dim_geography where parent_geo_id = 'wuhan_metro'"
            ).fetchall()
        ]
        quotes = [
            r[0] for r in con.execute("select source_quote_zh from marts.fct_target").fetchall()
        ]
        [(run_id, published_at)] = con.execute(
            "select run_id, published_at from marts.publish_log order by published_at desc limit 1"
        ).fetchall()
    assert len(cities) == 9
    for city in cities:
        assert f">{city}<" in page, city
    for quote in quotes:
        assert quote.replace('"', "&quot;") in page, quote
    assert run_id in page
    # Published at, in the plan office's time.
    beijing = published_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
    assert f"published {beijing} 北京时间 Beijing" in page


def test_each_target_says_the_date_its_data_reach(bundled_warehouse: Path, report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        [(count, distinct, earliest)] = con.execute(
            "select count(data_through_date), count(distinct data_through_date), "
            "min(data_through_date) from marts.fct_target_vs_actual where is_latest"
        ).fetchall()
    assert distinct > 1  # a report older than the others shows as such
    assert page.count("数据截至 data through ") == count
    assert f"数据截至 data through {earliest}" in page


def test_the_heat_map_leaves_blank_what_no_member_owes(
    bundled_warehouse: Path, report: Path
) -> None:
    """A cell is coloured where the city has a target of its own or a part of an area target to
    be judged on; a part the area reports itself (dim_indicator.reported_by 'area': the corridor's
    车企 counts), with no figure or target of the member's own, leaves it blank, not grey."""
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        [(judged, blank)] = con.execute(
            """
            with cells as (
                select c.geo_id, c.action_id,
                    bool_or(not (i.reported_by = 'area' and c.member_target_id is null
                        and c.actual_value is null)) as judged
                from marts.fct_target_contribution as c
                inner join marts.dim_indicator as i using (indicator_id)
                group by all
                union all
                select v.geo_id, v.action_id, true
                from marts.fct_target_vs_actual as v
                inner join marts.dim_geography as g using (geo_id)
                where v.is_latest and g.level not in ('metro_area', 'corridor')
            ),
            judged as (select geo_id, action_id from cells group by all having bool_or(judged)),
            -- A row per plan and city, a column per action of the plan with a cell.
            shown as (
                select distinct cells.geo_id, cells.action_id, a.plan_id
                from cells inner join marts.dim_action as a using (action_id)
            ),
            grid as (
                select distinct rows.geo_id, columns.action_id
                from shown as rows inner join shown as columns using (plan_id)
            )
            select (select count(*) from judged),
                (select count(*) from grid anti join judged using (geo_id, action_id))
            """
        ).fetchall()
        # The mart flags the same parts (fct_target_contribution.is_member_judged), and the
        # geography scorecard counts only those.
        [(disagree, miscounted)] = con.execute(
            """
            select
                (select count(*)
                 from marts.fct_target_contribution as c
                 inner join marts.dim_indicator as i using (indicator_id)
                 where c.is_member_judged <> not (i.reported_by = 'area'
                     and c.member_target_id is null and c.actual_value is null)),
                (select count(*)
                 from marts.scorecard_geography as s
                 where s.contribution_count <> (
                     select count(*) filter (where c.is_member_judged)
                     from marts.fct_target_contribution as c where c.geo_id = s.geo_id)
                 or s.contribution_no_data_count <> (
                     select count(*) filter (where c.is_member_judged and c.status = 'no_data')
                     from marts.fct_target_contribution as c where c.geo_id = s.geo_id))
            """
        ).fetchall()
    assert (disagree, miscounted) == (0, 0)
    page = report.read_text(encoding="utf-8")
    start = page.index("<section><h2>城市 × 行动")
    heat = page[start : page.index("</section>", start)]
    # The bundled corridor's area-reported parts leave whole columns blank.
    assert blank > 20
    assert heat.count('<td style="background:#ffffff"') == blank
    assert heat.count("<td style=") == judged + blank


def test_the_heat_map_marks_a_city_s_own_target_without_a_status_on_data_too_far_behind(
    bundled_warehouse: Path, tmp_path: Path
) -> None:
    """A city's own target left no_data on data too far behind the reports due
    (fct_target_vs_actual.is_data_stale, not is_data_behind) is its reports owed: its cell is
    marked 待, as a member's part behind is."""
    copy = tmp_path / "plan_tracker.duckdb"
    shutil.copyfile(bundled_warehouse / "plan_tracker.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update marts.fct_target_vs_actual set is_data_behind = false")
        con.execute("update marts.fct_target_contribution set is_data_behind = false")
        [(target_id, geo_zh, action_zh)] = con.execute(
            "select v.target_id, g.name_zh, a.name_zh from marts.fct_target_vs_actual as v "
            "inner join marts.dim_geography as g using (geo_id) "
            "inner join marts.dim_action as a using (action_id) "
            "where v.is_latest and g.level = 'city' and v.actual_value is not null "
            "order by v.target_id limit 1"
        ).fetchall()
        con.execute(
            "update marts.fct_target_vs_actual set status = 'no_data', "
            "projected_status = 'no_data', is_data_stale = true, is_at_path_start = false, "
            "data_due_through_date = '2027-12-31' where target_id = ? and is_latest",
            [target_id],
        )
    page = write_report(copy, tmp_path / "report").read_text(encoding="utf-8")
    start = page.index("<section><h2>城市 × 行动")
    heat = page[start : page.index("</section>", start)]
    # The only cell marked (nothing else is behind): the target's, grey.
    assert heat.count(">待</td>") == 1, (target_id, geo_zh, action_zh)
    assert heat.count('title="无数据 no data · 数据待更新 data behind">待</td>') == 1


def test_the_completeness_grid_counts_each_month_s_missing_and_late_reports(
    bundled_warehouse: Path, report: Path
) -> None:
    """Each cell of 报送完整性 is its geography's month in marts.fct_report_completeness: 缺 the
    reports missing, 迟 the late ones, ✓ all on time — in characters any Chinese font shows."""
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        marts = {
            (geo, month): (missing, late)
            for geo, month, missing, late in con.execute(
                "select g.name_zh, strftime(c.period_end, '%Y-%m'), "
                "count(*) filter (where c.report_status = 'missing'), "
                "count(*) filter (where c.report_status = 'late') "
                "from marts.fct_report_completeness as c "
                "inner join marts.dim_geography as g using (geo_id) group by all"
            ).fetchall()
        }
    page = report.read_text(encoding="utf-8")
    start = page.index("<section><h2>报送完整性")
    grid = page[start : page.index("</section>", start)]
    months = re.findall(r"<th>(\d{4}-\d{2})</th>", grid)
    cells = 0
    for geo, row in re.findall(r"<tr><th>([^<]+)</th>(.*?)</tr>", grid):
        texts = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        assert len(texts) == len(months)
        for month, text in zip(months, texts, strict=True):
            counts = marts.get((geo, month))
            if counts is None:
                assert text == ""
                continue
            missing, late = counts
            assert text == (f"缺{missing} 迟{late}" if missing or late else "✓"), (geo, month)
            cells += 1
    assert cells == len(marts)
    assert "⏱" not in grid


def test_a_deadline_with_its_outcome_reads_missed_not_off_track(
    later_copy: Path, report: Path, tmp_path: Path
) -> None:
    # Data reaching a deadline cannot land before it has passed; a copy of the warehouse stands
    # in for one judged later: a lagging target's latest row made its deadline's outcome.
    db = later_copy
    with duckdb.connect(str(db)) as con:
        [(before, projected_off)] = con.execute(
            "select count(*), bool_or(projected_status = 'off_track') filter (where target_id = "
            "(select min(target_id) from marts.fct_target_vs_actual "
            "where is_latest and status = 'off_track')) "
            "from marts.fct_target_vs_actual where is_latest and status = 'off_track'"
        ).fetchall()
        con.execute(
            "update marts.fct_target_vs_actual set is_final = true where target_id = ("
            "select min(target_id) from marts.fct_target_vs_actual "
            "where is_latest and status = 'off_track') and is_latest"
        )
    assert before >= 2
    page = write_report(db, tmp_path / "page").read_text(encoding="utf-8")
    assert page.count("未完成 missed") == page.count("已到期 deadline passed: final") == 1
    # That target only (its status, and its projection's if off track, now one final outcome):
    # the other off-track targets still read as a pace.
    original = report.read_text(encoding="utf-8")
    assert "未完成 missed" not in original
    assert page.count("滞后 off track") == original.count("滞后 off track") - 1 - projected_off


def test_a_deadline_whose_reports_are_overdue_says_so(later_copy: Path, tmp_path: Path) -> None:
    # As above, a copy judged later: one target's deadline passed, its reports due and not in.
    db = later_copy
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.fct_target_vs_actual set is_final_overdue = true, status = 'no_data', "
            "final_reports_due_date = '2031-01-15', is_at_path_start = false where target_id = ("
            "select min(target_id) from marts.fct_target_vs_actual where is_latest) and is_latest"
        )
    page = write_report(db, tmp_path / "page").read_text(encoding="utf-8")
    assert page.count("逾期未报 reports overdue, due") == 1
    assert "已到期 deadline passed: 逾期未报 reports overdue, due 2031-01-15" in page


def test_a_per_year_target_shows_the_outcome_of_the_year_before() -> None:
    missed = {
        "last_year": 2026,
        "last_year_status": "off_track",
        "last_year_final": True,
        "last_year_overdue": False,
    }
    assert "2026 全年 year: 未完成 missed 9" in _last_year({**missed, "last_year_actual": 9.0})
    # Judged on pace at the end of that year's data, not its outcome: a pace's label.
    short = {**missed, "last_year_status": "at_risk", "last_year_final": False}
    assert "2026 全年 year: 有风险 at risk 9" in _last_year({**short, "last_year_actual": 9.0})
    # Its reports due and short of the year's end: no result, and what is known says how far.
    unknown = {
        **short,
        "last_year_status": "no_data",
        "last_year_through": "2026-09-30",
        "last_year_overdue": True,
        "last_year_reports_due": "2027-01-15",
    }
    assert (
        "2026 全年 year: 无数据 no data (7 through 2026-09-30) · "
        "逾期未报 reports overdue, due 2027-01-15"
    ) in _last_year({**unknown, "last_year_actual": 7.0})
    assert (
        "2026 全年 year: 无数据 no data · 逾期未报 reports overdue, due 2027-01-15"
    ) in _last_year({**unknown, "last_year_actual": None})


def test_text_from_inputs_is_escaped(later_copy: Path, tmp_path: Path) -> None:
    db = later_copy
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.dim_geography set name_zh = '<script>alert(1)</script>' "
            "where geo_id = 'huangshi'"
        )
    page = write_report(db, tmp_path / "report").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (see .ci/run)")
def test_page_renders_in_headless_chromium_without_errors_or_requests(
    report: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    url = report.resolve().as_uri()
    console_errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.wait_for_load_state("load")
        screenshot = report.parent / "screenshot.png"
        page.screenshot(path=str(screenshot), full_page=True)
        text = page.inner_text("body")
        browser.close()
    assert console_errors == []
    assert requests == [url]
    assert screenshot.stat().st_size > 10_000
    assert "武汉都市圈科技同兴三年行动方案" in text and "黄石" in text


def test_a_lagging_target_s_status_is_explained_under_it(
    report: Path, bundled_warehouse: Path
) -> None:
    published_db = bundled_warehouse / "plan_tracker.duckdb"
    page = report.read_text(encoding="utf-8")
    with duckdb.connect(str(published_db), read_only=True) as con:
        lagging = [
            r[0]
            for r in con.execute(
                "select target_id from marts.fct_target_vs_actual where is_latest "
                "and status in ('off_track', 'at_risk', 'no_data') order by target_id"
            ).fetchall()
        ]
        on_track = con.execute(
            "select min(target_id) from marts.fct_target_vs_actual where is_latest "
            "and status in ('on_track', 'achieved')"
        ).fetchall()[0][0]
    assert lagging and on_track
    assert page.count("<summary>为什么 why</summary>") == len(lagging)
    for target_id in lagging:
        assert f"<pre>{target_id} · " in page
    assert f"<pre>{on_track} · " not in page
