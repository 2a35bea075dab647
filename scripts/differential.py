"""`make differential`: incremental builds checked against full refreshes on random histories.

Rounds of: land a random progress file (new periods, corrections of earlier reports, year-to-date
figures, report dates before and after the as-of date, some blank, some rows that break a rule),
now and then send an earlier file again, changed; move the as-of date (PLAN_TRACKER_AS_OF_DATE) by
a random step — mostly on, within the month or into another, sometimes not at all, now and then
back —; now and then withdraw an earlier file in raw/withdrawals.csv (one version, or every
version of its path) or count a withdrawn one again; and run the pipeline as `make run` does.
After each round a copy of the warehouse forgets its build state and runs again (a full refresh
at the same date), and every table of the intermediate and marts schemas must hold the same rows,
counted, in both; the history marts' Parquet exports must hold the published rows. The
hand-written cases of tests/test_incremental.py pin what is known to matter; this looks for what
they did not think of. Prints each round; exits 1 at the first difference, naming the table and
rows.

Usage: python scripts/differential.py [--rounds N] [--seed N]
Writes under $PLAN_TRACKER_WAREHOUSE_DIR/differential/ (a scratch raw folder and warehouses).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
from bench import PLAN_TRACKER, REPO
from bench import _env as pipeline_env

from dagster_project.lib.exports import HISTORY_MARTS

CITIES = ["武汉", "黄石", "鄂州", "孝感", "黄冈", "咸宁", "仙桃", "天门", "潜江"]
# (indicator, unit, reporting frequency, bases it may come in)
INDICATORS = [
    ("技术合同成交额", "亿元", "month", ("当期", "当期", "累计")),
    ("技术合同成交额", "万元", "month", ("当期",)),
    ("新建省级及以上创新平台", "家", "month", ("当期",)),
    ("校地产学研合作项目", "项", "month", ("当期",)),
    ("规上高新技术企业", "家", "quarter", ("当期",)),
    ("科技成果转化对接活动", "场", "quarter", ("当期",)),
]
HEADER = "报告期,城市,指标,数值,单位,口径,填报日期\n"
# The log of publications: one more row in the full refresh's copy, by design.
NOT_COMPARED = {"marts.publish_log", "marts.target_status_log"}


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def progress_file(rng: random.Random, as_of: dt.date) -> str:
    """A city's file of a few reports of the last 14 months (up to the as-of month)."""
    lines = []
    for _ in range(rng.randint(1, 8)):
        indicator, unit, frequency, bases = rng.choice(INDICATORS)
        basis = rng.choice(bases)
        start = _months_back(as_of, rng.randint(0, 14))
        if frequency == "quarter":
            period = f"{start.year}Q{(start.month - 1) // 3 + 1}"
        elif basis == "累计":
            period = f"{start.year}年1-{start.month}月"
        else:
            period = rng.choice(
                [f"{start.year}-{start.month:02d}", f"{start.year}年{start.month}月"]
            )
        value = f"{rng.uniform(0, 40):.2f}" if unit in ("亿元", "万元") else str(rng.randint(0, 9))
        if rng.random() < 0.05:
            value = "约" + value  # breaks a rule: quarantined, the rest of the file lands
        elif rng.random() < 0.05:
            value = ""  # not reported
        reported = ""
        if rng.random() < 0.85:
            reported = (as_of + dt.timedelta(days=rng.randint(-40, 25))).isoformat()
        lines.append(f"{period},{rng.choice(CITIES)},{indicator},{value},{unit},{basis},{reported}")
    return HEADER + "\n".join(lines) + "\n"


def next_as_of(rng: random.Random, as_of: dt.date) -> dt.date:
    """A random step; now and then onto a boundary of the rules: a month's last day (a period
    ends), or the 15th or 16th (a report's due date, and the day after)."""
    if rng.random() < 0.25:
        following = _months_back(as_of, -1)
        boundary = rng.choice(
            [following - dt.timedelta(days=1), following.replace(day=15), following.replace(day=16)]
        )
        if boundary > as_of:
            return boundary
    step = rng.choice([0, 1, 1, 3, 6, 12, 20, 33, 45, -4])
    return as_of + dt.timedelta(days=step)


def change_ledger(rng: random.Random, ledger: dict[str, str], inbox: Path) -> str:
    """Withdraw an earlier file of the inbox — every version of its path, or the one it holds now
    (by the first 12 hex digits of its SHA-256) — or, if it is withdrawn, count it again. Returns
    what it did, for the round's line; `ledger` maps a file's name to the version withdrawn ('' for
    every version)."""
    name = rng.choice(sorted(path.name for path in inbox.iterdir()))
    if name in ledger:
        del ledger[name]
        return f", {name} counted again"
    every = rng.random() < 0.5
    ledger[name] = "" if every else hashlib.sha256((inbox / name).read_bytes()).hexdigest()[:12]
    return f", {name} withdrawn ({'every version' if every else 'this version'})"


def ledger_text(ledger: dict[str, str], inbox: Path, raw: Path) -> str:
    folder = inbox.relative_to(raw).as_posix()
    return "source_file,file_sha256,reason\n" + "".join(
        f"{folder}/{name},{version},sent in error\n" for name, version in sorted(ledger.items())
    )


def run(raw: Path, warehouse: Path, as_of: dt.date) -> str:
    env = {**pipeline_env(raw, warehouse), "PLAN_TRACKER_AS_OF_DATE": as_of.isoformat()}
    result = subprocess.run(
        [str(PLAN_TRACKER), "run", "--log-level", "WARNING"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        sys.exit(f"the pipeline failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return next(
        (line.strip() for line in result.stdout.splitlines() if "dbt: " in line), "dbt: (not said)"
    )


def _hashable(row: tuple) -> tuple:
    return tuple(repr(v) if isinstance(v, (list, dict)) else v for v in row)


def tables(published: Path) -> dict[str, Counter[tuple]]:
    with duckdb.connect(str(published), read_only=True) as con:
        names = [
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' "
                "order by all"
            ).fetchall()
        ]
        return {
            t: Counter(map(_hashable, con.execute(f"select * from {t}").fetchall()))
            for t in names
            if t not in NOT_COMPARED
        }


def landed_rows(warehouse: Path, pattern: str) -> str:
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        [(rows, quarantined)] = con.execute(
            "select coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
            "from raw.file_manifest where source_file like ?",
            [f"%{pattern}%"],
        ).fetchall()
    return f"{rows} rows landed, {quarantined} quarantined"


def exports_differ(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        differing = []
        for mart in sorted(HISTORY_MARTS):
            files = f"read_parquet('{warehouse / 'exports' / mart}/*.parquet')"
            [(count,)] = con.execute(
                f"select count(*) from (select * from marts.{mart} except all select * from "
                f"{files} union all (select * from {files} except all select * from marts.{mart}))"
            ).fetchall()
            if count:
                differing.append(f"{mart}: {count} rows differ from its Parquet files")
        return differing


def compare(incremental: dict[str, Counter[tuple]], full: dict[str, Counter[tuple]]) -> list[str]:
    differences = []
    for table in sorted(incremental.keys() | full.keys()):
        mine, theirs = incremental.get(table, Counter()), full.get(table, Counter())
        if mine != theirs:
            extra, missing = mine - theirs, theirs - mine
            differences.append(
                f"{table}: {sum(extra.values())} rows only in the incremental build, "
                f"{sum(missing.values())} only in the full refresh; e.g.\n"
                f"    incremental: {list(extra)[:3]}\n    full refresh: {list(missing)[:3]}"
            )
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 10, 20))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each round as it ends
    rng = random.Random(args.seed)
    base = Path(os.environ.get("PLAN_TRACKER_WAREHOUSE_DIR", REPO / "warehouse")) / "differential"
    shutil.rmtree(base, ignore_errors=True)
    raw, warehouse, copy = base / "raw", base / "warehouse", base / "full_refresh"
    shutil.copytree(REPO / "raw", raw)
    inbox = raw / "progress" / "differential"
    inbox.mkdir()
    print(f"seed {args.seed}, {args.rounds} rounds, from {args.start}")
    as_of = args.start
    said = run(raw, warehouse, as_of)
    ledger: dict[str, str] = {}
    for number in range(1, args.rounds + 1):
        began = time.perf_counter()
        as_of_before, as_of = as_of, next_as_of(rng, as_of)
        landed = 0
        for _ in range(rng.choice([0, 1, 1, 2])):
            landed += 1
            name = f"round{number:02d}_{landed}.csv"
            (inbox / name).write_text(progress_file(rng, as_of), encoding="utf-8")
        earlier, sent_again = sorted(inbox.iterdir()), ""
        if earlier and rng.random() < 0.2:
            # A file sent again, changed: its new content lands as a new version of the file.
            resent = rng.choice(earlier)
            resent.write_text(progress_file(rng, as_of), encoding="utf-8")
            sent_again = f", {resent.name} sent again"
        if earlier and rng.random() < 0.15:
            # A changed ledger makes this round's build a full refresh; the rounds after it
            # build incrementally with it.
            sent_again += change_ledger(rng, ledger, inbox)
            (raw / "withdrawals.csv").write_text(ledger_text(ledger, inbox, raw), encoding="utf-8")
        said = run(raw, warehouse, as_of)
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(warehouse, copy)
        with duckdb.connect(str(copy / "work" / "plan_tracker.duckdb")) as con:
            con.execute("delete from dq.dbt_build_state")
        if "full refresh" not in (redone := run(raw, copy, as_of)):
            sys.exit(f"the copy forgot its build state but did not refresh fully: {redone}")
        differences = compare(
            tables(warehouse / "plan_tracker.duckdb"), tables(copy / "plan_tracker.duckdb")
        )
        differences += exports_differ(warehouse)
        print(
            f"round {number:2d}: {as_of_before} → {as_of}, {landed} new file(s) "
            f"({landed_rows(warehouse, f'round{number:02d}_')}){sent_again} · {said} · "
            f"{'SAME as a full refresh' if not differences else 'DIFFERENT'} "
            f"({time.perf_counter() - began:.0f} s)"
        )
        if differences:
            print("\n".join(differences))
            sys.exit(f"seed {args.seed}: round {number} differs from a full refresh")
    print(f"seed {args.seed}: every round equal to a full refresh")


if __name__ == "__main__":
    main()
