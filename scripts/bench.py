"""`make bench`: performance figures, each the median of several runs.

  bundled_run_s               `plan-tracker run` on the bundled data into a fresh warehouse
  scale_rebuild_s             full rebuild from the synthetic scale data, every gate on
  scale_peak_rss_mb           peak resident memory of that rebuild (the run and its children)
  scale_floor_s               a bare DuckDB script: same load and core transform (latest revision
                              per key, year-to-date sums, join to targets), one process
  incremental_s               one new city file on top of the scale history
  incremental_small_history_s the same on top of the 1% slice

Besides, in $PLAN_TRACKER_WAREHOUSE_DIR/bench/daily.json (results.json keeps the keys issue 8
asks for), the scheduled daily run at scale with nothing new to land, its as-of date moved:
  daily_month_turn_s          into the next month (its 1st), each on a fresh copy of the scale
                              warehouse: periods ended since are expected, the months carried
  daily_same_month_s          then a day later within that month, each run a day after the last

And in bench/steps.json, where each figure's runs spent their time: the median of each part of
the `time:` line every run prints (lib/timings.py: start, each asset step, the checks).

Synthetic scale data: GEOS geographies × INDICATORS indicators × MONTHS months of monthly
progress rows (default 3,000 × 50 × 60 = 9,000,000 rows, one CSV), a matching catalog (one plan,
an area over all geographies, one target per indicator), and a 1% slice (30 geographies).
Writes $PLAN_TRACKER_WAREHOUSE_DIR/bench/results.json, daily.json and steps.json.

Usage: python scripts/bench.py [--geos 3000] [--indicators 50] [--months 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import yaml

from dagster_project.lib.timings import PREFIX, RunTimes, parse_line

REPO = Path(__file__).resolve().parents[1]
PLAN_TRACKER = Path(sys.executable).with_name("plan-tracker")


def _env(raw: Path, warehouse: Path, as_of: dt.date | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAN_TRACKER_", "DAGSTER_"))}
    env.update(PLAN_TRACKER_RAW_DIR=str(raw), PLAN_TRACKER_WAREHOUSE_DIR=str(warehouse))
    if as_of is not None:
        env["PLAN_TRACKER_AS_OF_DATE"] = as_of.isoformat()
    return env


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of `pid` and all its descendants: one read of each process's stat for the
    parent links, then the status of the tree's members only (the sampler shares the 2 cores
    with the run it measures)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def timed_run(
    raw: Path,
    warehouse: Path,
    memory: bool = False,
    as_of: dt.date | None = None,
    steps: list[RunTimes] | None = None,
) -> tuple[float, float]:
    """Seconds and, with `memory`, peak RSS (MB, the run and its children) of one
    `plan-tracker run` (as of `as_of`, else today). Memory is sampled only when asked: the
    sampler takes CPU from the run. Where the run's time went, from the line it prints
    (lib/timings.py), is added to `steps`."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(PLAN_TRACKER), "run", "--log-level", "ERROR"],
        env=_env(raw, warehouse, as_of),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    if memory:
        sampler.start()
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    stop.set()
    if memory:
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"run failed: {err.decode(errors='replace')[-3000:]}")
    if steps is not None:
        times = parse_line(out.decode(errors="replace"))
        if times is None:
            raise RuntimeError("the run printed no time line (lib/timings.py)")
        steps.append(times)
    return seconds, peak / 1024


def make_scale_raw(root: Path, geos: int, indicators: int, months: int) -> Path:
    """A raw folder with a synthetic catalog and one monthly CSV of geos × indicators × months."""
    raw = root / "raw"
    if (raw / "progress" / "history.csv").exists():
        return raw
    shutil.rmtree(raw, ignore_errors=True)
    (raw / "plans" / "source").mkdir(parents=True)
    (raw / "reference").mkdir()
    (raw / "progress").mkdir()
    shutil.copyfile(REPO / "raw" / "reference" / "units.csv", raw / "reference" / "units.csv")
    lines = [
        "geo_id,admin_code,name_zh,name_en,level,parent_geo_id,aliases,note",
        "bench_area,,基准区域,Bench area,metro_area,,,synthetic",
    ]
    lines += [f"g{n:05d},,县{n:05d},County {n:05d},city,bench_area,," for n in range(geos)]
    (raw / "reference" / "geographies.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    quotes = [f"指标{i:03d}到期达到{1000 * geos}" for i in range(indicators)]
    (raw / "plans" / "source" / "bench.txt").write_text("\n".join(quotes), encoding="utf-8")
    start_year = 2026 - months // 12
    plan = {
        "schema_version": 1,
        "plan": {
            "plan_id": "bench_plan",
            "name_zh": "基准规划",
            "name_en": "Benchmark plan",
            "horizon_start": f"{start_year}-01-01",
            "horizon_end": "2030-12-31",
            "baseline_date": f"{start_year - 1}-12-31",
            "source_document": "source/bench.txt",
            "source_title": "synthetic",
        },
        "geographies": [{"geo_id": "bench_area", "role": "plan_area"}]
        + [{"geo_id": f"g{n:05d}", "role": "member"} for n in range(geos)],
        "actions": [
            {
                "action_id": "bench_goals",
                "seq": 0,
                "kind": "goals",
                "name_zh": "目标",
                "name_en": "Goals",
            }
        ],
        "indicators": [
            {
                "indicator_id": f"ind{i:03d}",
                "name_zh": f"指标{i:03d}",
                "name_en": f"Indicator {i}",
                "unit": "万元",
                "kind": "flow",
                "is_additive": True,
                "good_direction": "up",
                "plausible_max": 1e12,
            }
            for i in range(indicators)
        ],
        "targets": [
            {
                "target_id": f"t{i:03d}",
                "indicator_id": f"ind{i:03d}",
                "action_id": "bench_goals",
                "geo_id": "bench_area",
                "comparator": ">=",
                "target_value": 1000 * geos,
                "unit": "万元",
                "due_date": "2030-12-31",
                "cadence": "by_due_date",
                "source_quote_zh": quotes[i],
                "source_quote_en": f"Indicator {i} target",
            }
            for i in range(indicators)
        ],
    }
    (raw / "plans" / "bench_plan.yaml").write_text(
        yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    # DuckDB writes the big CSV itself: the generator costs seconds, not minutes.
    duckdb.execute(
        f"""
        copy (
            select
                strftime(make_date({start_year}, 1, 1) + to_months(m), '%Y-%m') as 报告期,
                'g' || lpad(g::varchar, 5, '0') as 城市,
                'ind' || lpad(i::varchar, 3, '0') as 指标,
                round(10 + ((g * 7 + i * 13 + m * 3) % 97), 2) as 数值,
                '万元' as 单位,
                '当期' as 口径
            from range({geos}) as gg (g), range({indicators}) as ii (i), range({months}) as mm (m)
        ) to '{raw / "progress" / "history.csv"}' (header, delimiter ',')
        """
    )
    return raw


ADDED_CITY_FILES = "new_city_*.csv"


def add_city_file(raw: Path, name: str, indicators: int, value: int = 42) -> None:
    """The incremental runs' new file: one city's month of every indicator. Each run's values
    differ: content landed already under another name lands nothing again (a copy)."""
    rows = ["报告期,城市,指标,数值,单位,口径"]
    rows += [f"2026-10,g00000,ind{i:03d},{value},万元,当期" for i in range(indicators)]
    (raw / "progress" / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def remove_added_city_files(raw: Path) -> None:
    """The synthetic raw folders are kept between benches (generating them takes a minute); the
    files an earlier bench's incremental runs added go, so that the rebuild reads the history
    alone and each incremental run's file is one the warehouse has never seen. Left in place,
    they were part of the rebuild, and an incremental run writing the same name and content
    found nothing new: it measured a run with no new data."""
    for added in (raw / "progress").glob(ADDED_CITY_FILES):
        added.unlink()


def landed_rows(warehouse: Path, name: str) -> int:
    """Rows of progress/<name> the last run published as loaded (0 when it did not load it)."""
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        found = con.execute(
            "select coalesce(sum(rows_loaded), 0) from raw.file_manifest where source_file = ?",
            [f"progress/{name}"],
        ).fetchall()
    return int(found[0][0])


def last_build(warehouse: Path) -> tuple[bool, dt.date]:
    """Whether the last published run's dbt build was a full refresh, and its as-of date."""
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        [(full_refresh, as_of)] = con.execute(
            "select full_refresh, as_of_date from dq.dbt_build_plan"
        ).fetchall()
    return bool(full_refresh), as_of


def daily_run(
    raw: Path, warehouse: Path, as_of: dt.date, steps: list[RunTimes] | None = None
) -> float:
    """Seconds of one run as of `as_of`, which must have built incrementally: a daily run that
    fell back to a full refresh is not the figure asked for."""
    seconds = timed_run(raw, warehouse, as_of=as_of, steps=steps)[0]
    full_refresh, built_as_of = last_build(warehouse)
    if full_refresh or built_as_of != as_of:
        raise RuntimeError(f"the run as of {as_of} was not an incremental build: no figure")
    return seconds


def next_month_start(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def floor_seconds(raw: Path, work: Path) -> float:
    """The same load and core transform in bare DuckDB, one process."""
    db = work / "floor.duckdb"
    db.unlink(missing_ok=True)
    started = time.monotonic()
    con = duckdb.connect(str(db))
    con.execute("set enable_progress_bar = false")
    targets = [
        (t["target_id"], t["indicator_id"], float(t["target_value"]))
        for plan in sorted((raw / "plans").glob("*.yaml"))
        for t in yaml.safe_load(plan.read_text(encoding="utf-8"))["targets"]
    ]
    con.execute("create table targets (target_id varchar, indicator_id varchar, value double)")
    con.executemany("insert into targets values (?, ?, ?)", targets)
    con.execute(
        f"""
        create table rows as
        select * from read_csv('{raw / "progress" / "history.csv"}',
            header = true, all_varchar = true);
        create table actual as
        select 城市 as geo_id, 指标 as indicator_id,
            cast(strptime(报告期, '%Y-%m') as date) as period_start,
            cast(数值 as double) as value
        from rows
        qualify row_number() over (
            partition by 城市, 指标, 报告期 order by rows.rowid desc) = 1;
        create table ytd as
        select geo_id, indicator_id, period_start,
            sum(value) over (partition by geo_id, indicator_id, year(period_start)
                order by period_start) as ytd_value
        from actual;
        create table status as
        select targets.target_id, area.period_start, area.value / targets.value as attainment
        from (
            select indicator_id, period_start, sum(ytd_value) as value from ytd group by all
        ) as area
        inner join targets on area.indicator_id = targets.indicator_id;
        """
    )
    con.close()
    return time.monotonic() - started


def step_medians(steps: dict[str, list[RunTimes]]) -> dict[str, RunTimes]:
    """Each figure's parts (lib/timings.py): the median of each over the runs that had it, in the
    order of the figure's first run, and the median number of check steps."""
    return {
        figure: RunTimes(
            {
                name: round(
                    statistics.median(run.parts[name] for run in runs if name in run.parts), 2
                )
                for name in dict.fromkeys(name for run in runs for name in run.parts)
            },
            statistics.median_low(run.check_steps for run in runs),
        )
        for figure, runs in steps.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geos", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=50)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warehouse_root = Path(os.environ.get("PLAN_TRACKER_WAREHOUSE_DIR", "warehouse")).resolve()
    bench = warehouse_root / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    results: dict[str, float | int] = {}
    # Where each figure's runs spent their time (lib/timings.py), by figure.
    steps: dict[str, list[RunTimes]] = collections.defaultdict(list)

    def median(label: str, fn: Callable[[], float], repeat: int = args.repeat) -> float:
        values = [fn() for _ in range(repeat)]
        print(f"  {label}: {', '.join(f'{v:.2f}' for v in values)}", flush=True)
        return statistics.median(values)

    print("bundled run …", flush=True)

    def bundled() -> float:
        target = bench / "bundled_warehouse"
        shutil.rmtree(target, ignore_errors=True)
        return timed_run(REPO / "raw", target, steps=steps["bundled_run_s"])[0]

    results["bundled_run_s"] = median("bundled_run_s", bundled)

    print("generating scale data …", flush=True)
    scale = make_scale_raw(bench / "scale", args.geos, args.indicators, args.months)
    small = make_scale_raw(bench / "slice", max(args.geos // 100, 1), args.indicators, args.months)
    results["scale_rows"] = args.geos * args.indicators * args.months
    remove_added_city_files(scale)
    remove_added_city_files(small)

    print("scale rebuild …", flush=True)
    peaks: list[float] = []

    def rebuild() -> float:
        target = bench / "scale_warehouse"
        shutil.rmtree(target, ignore_errors=True)
        seconds, peak = timed_run(scale, target, memory=True, steps=steps["scale_rebuild_s"])
        peaks.append(peak)
        return seconds

    results["scale_rebuild_s"] = median("scale_rebuild_s", rebuild)
    results["scale_peak_rss_mb"] = round(max(peaks), 1)
    results["scale_floor_s"] = median("scale_floor_s", lambda: floor_seconds(scale, bench))

    print("incremental …", flush=True)
    counter = iter(range(1000))

    def incremental(raw: Path, target: Path, figure: str) -> float:
        number = next(counter)
        name = f"new_city_{number}.csv"
        add_city_file(raw, name, args.indicators, value=42 + number)
        seconds = timed_run(raw, target, steps=steps[figure])[0]
        # The figure is that of a run that landed the new file, or none.
        if landed_rows(target, name) != args.indicators:
            raise RuntimeError(f"the incremental run did not land {name}: no figure")
        return seconds

    results["incremental_s"] = median(
        "incremental_s", lambda: incremental(scale, bench / "scale_warehouse", "incremental_s")
    )
    shutil.rmtree(bench / "slice_warehouse", ignore_errors=True)
    timed_run(small, bench / "slice_warehouse")
    results["incremental_small_history_s"] = median(
        "incremental_small_history_s",
        lambda: incremental(small, bench / "slice_warehouse", "incremental_small_history_s"),
    )
    results["cpu_count"] = os.cpu_count() or 0
    # Written before the daily runs, which need room for a copy of the scale warehouse (~2 GB):
    # a failure there must not lose the figures.
    results = {k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()}
    (bench / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    print("daily runs (as-of date moved, nothing new) …", flush=True)
    base = bench / "scale_warehouse"
    copy = bench / "daily_warehouse"
    _, base_as_of = last_build(base)
    month_start = next_month_start(base_as_of)

    def month_turn() -> float:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(base, copy, symlinks=True)
        return daily_run(scale, copy, month_start, steps["daily_month_turn_s"])

    days = iter(range(1, 1000))
    daily = {
        "daily_from": base_as_of.isoformat(),
        "daily_month_turn_to": month_start.isoformat(),
        "daily_month_turn_s": round(median("daily_month_turn_s", month_turn), 2),
        "daily_same_month_s": round(
            median(
                "daily_same_month_s",
                lambda: daily_run(
                    scale,
                    copy,
                    month_start + dt.timedelta(days=next(days)),
                    steps["daily_same_month_s"],
                ),
            ),
            2,
        ),
    }
    shutil.rmtree(copy, ignore_errors=True)
    (bench / "daily.json").write_text(json.dumps(daily, indent=2) + "\n", encoding="utf-8")
    goals = {
        "bundled_run_s": ("≤ 8", results["bundled_run_s"] <= 8),
        "scale_rebuild_s": (
            f"≤ 2 × floor ({2 * results['scale_floor_s']:.1f})",
            results["scale_rebuild_s"] <= 2 * results["scale_floor_s"],
        ),
        "scale_peak_rss_mb": ("≤ 2048", results["scale_peak_rss_mb"] <= 2048),
        "incremental_s": (
            f"≤ 10 and ≤ 1.5 × small ({1.5 * results['incremental_small_history_s']:.1f})",
            results["incremental_s"] <= 10
            and results["incremental_s"] <= 1.5 * results["incremental_small_history_s"],
        ),
    }
    print(f"\n{'figure':<30} {'value':>10}  goal")
    for key, value in results.items():
        goal, met = goals.get(key, ("", None))
        mark = "" if met is None else ("met" if met else "NOT met")
        print(f"{key:<30} {value:>10}  {goal} {mark}")
    for daily_key, daily_value in daily.items():
        print(f"{daily_key:<30} {daily_value:>10}")
    medians = step_medians(steps)
    parts = {figure: {**t.parts, "checks_steps": t.check_steps} for figure, t in medians.items()}
    (bench / "steps.json").write_text(json.dumps(parts, indent=2) + "\n", encoding="utf-8")
    print("\nwhere the time goes (each part's median over the figure's runs, seconds):")
    for figure, times in medians.items():
        print(f"  {figure}: {times.line().removeprefix(PREFIX).strip()}")
    print(
        f"\nwritten to {bench / 'results.json'}, {bench / 'daily.json'} and {bench / 'steps.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
