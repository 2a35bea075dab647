"""scripts/bench.py's own parts that decide its figures: the synthetic data, the floor (a bare
DuckDB script doing the load and core transform the rebuild is compared with) and the new file
each incremental run is timed on."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import bench

from dagster_project.lib.timings import RunTimes


def test_the_floor_loads_the_scale_data_and_joins_year_to_date_sums_to_the_targets(
    tmp_path: Path,
) -> None:
    raw = bench.make_scale_raw(tmp_path, geos=3, indicators=2, months=14)
    rows = duckdb.execute(f"select count(*) from '{raw / 'progress' / 'history.csv'}'").fetchall()
    assert rows == [(3 * 2 * 14,)]
    assert bench.floor_seconds(raw, tmp_path) > 0
    con = duckdb.connect(str(tmp_path / "floor.duckdb"), read_only=True)
    # One row per target and month; the attainment is the area's year-to-date sum over the
    # target (3,000 万元: 1,000 per geography).
    assert con.sql("select count(*), count(distinct target_id) from status").fetchall() == [(28, 2)]
    expected = con.sql(
        """
        with values_ as (
            select
                指标 as indicator_id, strptime(报告期, '%Y-%m') as month,
                cast(数值 as double) as value
            from rows
        ),
        ytd as (
            select a.indicator_id, a.month, sum(b.value) as value
            from (select distinct indicator_id, month from values_) as a
            inner join values_ as b
                on a.indicator_id = b.indicator_id and year(a.month) = year(b.month)
                and b.month <= a.month
            group by all
        )
        select 't' || lpad(right(indicator_id, 3), 3, '0') as target_id, month, value / 3000
        from ytd
        """
    ).fetchall()
    got = con.sql("select target_id, period_start, attainment from status").fetchall()
    assert sorted((t, m.date(), round(v, 9)) for t, m, v in expected) == sorted(
        (t, m, round(v, 9)) for t, m, v in got
    )


@pytest.mark.slow
def test_each_incremental_run_lands_a_file_the_warehouse_has_not_seen(tmp_path: Path) -> None:
    raw = bench.make_scale_raw(tmp_path, geos=3, indicators=2, months=14)
    warehouse = tmp_path / "warehouse"
    # A file an earlier bench added: the rebuild must not read it, or the next bench's
    # incremental run, writing the same file again, would find nothing new.
    bench.add_city_file(raw, "new_city_0.csv", indicators=2)
    bench.remove_added_city_files(raw)
    assert sorted(p.name for p in (raw / "progress").iterdir()) == ["history.csv"]
    bench.timed_run(raw, warehouse)
    assert bench.landed_rows(warehouse, "new_city_0.csv") == 0
    bench.add_city_file(raw, "new_city_0.csv", indicators=2)
    steps: list[RunTimes] = []
    seconds, _ = bench.timed_run(raw, warehouse, steps=steps)
    assert bench.landed_rows(warehouse, "new_city_0.csv") == 2
    # Where the run's time went, read from the line it printed: every part, adding up to about
    # the time measured from outside (the process's exit and the summary's queries besides).
    [times] = steps
    assert {"start", "progress_reports", "plan_tracker_dbt", "checks"} <= set(times.parts)
    assert 0.5 * seconds < sum(times.parts.values()) <= seconds
    # Each run's file holds values of its own: content landed already under another name would
    # land nothing (a copy), and the run would measure no new data.
    bench.add_city_file(raw, "new_city_1.csv", indicators=2, value=43)
    progress = raw / "progress"
    assert (progress / "new_city_1.csv").read_bytes() != (progress / "new_city_0.csv").read_bytes()


def test_each_part_is_the_median_of_the_runs_that_had_it() -> None:
    runs = [
        RunTimes({"start": 2.0, "plan_tracker_dbt": 30.0, "checks": 10.0}, check_steps=5),
        RunTimes({"start": 3.0, "plan_tracker_dbt": 34.0, "checks": 12.0}, check_steps=5),
        RunTimes({"start": 2.5, "plan_tracker_dbt": 31.0}, check_steps=0),
    ]
    assert bench.step_medians({"scale_rebuild_s": runs}) == {
        "scale_rebuild_s": RunTimes(
            {"start": 2.5, "plan_tracker_dbt": 31.0, "checks": 11.0}, check_steps=5
        )
    }


def test_next_month_start_turns_months_and_years() -> None:
    assert bench.next_month_start(dt.date(2026, 1, 31)) == dt.date(2026, 2, 1)
    assert bench.next_month_start(dt.date(2026, 11, 1)) == dt.date(2026, 12, 1)
    assert bench.next_month_start(dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)


@pytest.mark.slow
def test_a_daily_figure_is_that_of_an_incremental_build_at_the_date_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = bench.make_scale_raw(tmp_path, geos=3, indicators=2, months=14)
    warehouse = tmp_path / "warehouse"
    bench.timed_run(raw, warehouse)
    full_refresh, as_of = bench.last_build(warehouse)
    assert full_refresh
    month_start = bench.next_month_start(as_of)
    assert bench.daily_run(raw, warehouse, month_start) > 0
    assert bench.last_build(warehouse) == (False, month_start)
    # A run that did not build as of the date asked (here: none at all, the warehouse left as of
    # the month's start) gives no daily figure; a full refresh neither (the rebuild above).
    monkeypatch.setattr(bench, "timed_run", lambda *args, **kwargs: (1.0, 0.0))
    with pytest.raises(RuntimeError, match="not an incremental build"):
        bench.daily_run(raw, warehouse, month_start + dt.timedelta(days=1))
    monkeypatch.setattr(bench, "last_build", lambda warehouse: (True, month_start))
    with pytest.raises(RuntimeError, match="not an incremental build"):
        bench.daily_run(raw, warehouse, month_start)
