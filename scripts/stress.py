"""`make stress`: a longer reliability run. Rounds of: drop a batch of progress files (some
corrupted at random), start the pipeline, and either let it finish or SIGKILL it at a random
moment. After every round the published warehouse must open and be whole, and after the final
clean run every row of every file must be accounted for. Prints the figures; exits 1 on any
violation.

Usage: python scripts/stress.py [--rounds N] [--files-per-round N] [--seed N]
Writes under $PLAN_TRACKER_WAREHOUSE_DIR/stress/ (a scratch raw folder and warehouse).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from dagster_project.lib import status_log

REPO = Path(__file__).resolve().parents[1]
PLAN_TRACKER = Path(sys.executable).with_name("plan-tracker")
CITIES = ["武汉", "黄石", "鄂州", "孝感", "黄冈", "咸宁", "仙桃", "天门", "潜江"]
INDICATORS = [("技术合同成交额", "亿元"), ("校地产学研合作项目", "项"), ("规上高新技术企业", "家")]


def report(rng: random.Random, rows: int) -> bytes:
    lines = ["报告期,城市,指标,数值,单位,口径"]
    for _ in range(rows):
        indicator, unit = rng.choice(INDICATORS)
        lines.append(
            f"2026-{rng.randint(1, 10):02d},{rng.choice(CITIES)},{indicator},"
            f"{rng.uniform(0, 50):.2f},{unit},当期"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def corrupt(rng: random.Random, data: bytes) -> bytes:
    kind = rng.choice(["truncate", "junk", "flip", "bad_values", "empty", "gbk_mangle"])
    if kind == "truncate":
        return data[: rng.randint(0, len(data))]
    if kind == "junk":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 4000)))
    if kind == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == "bad_values":
        return data.replace(b",\xe5\xbd\x93", b",abc\xe5\xbd\x93").replace(b"2026-0", b"2026-1", 3)
    if kind == "empty":
        return b""
    return data.decode("utf-8").encode("gb18030")[:-3]


def run(raw: Path, warehouse: Path, kill_after: float | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAN_TRACKER_", "DAGSTER_"))}
    env.update(PLAN_TRACKER_RAW_DIR=str(raw), PLAN_TRACKER_WAREHOUSE_DIR=str(warehouse))
    proc = subprocess.Popen(
        [str(PLAN_TRACKER), "run", "--log-level", "ERROR"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if kill_after is None:
        return "finished" if proc.wait(timeout=900) == 0 else "failed"
    try:
        proc.wait(timeout=kill_after)
        return "finished" if proc.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "killed"


def published_is_whole(path: Path) -> bool:
    """The published file opens, holds every target, and its status log ends with the statuses
    it publishes (a kill between a publication and its working file's copy of the log must not
    leave the log behind)."""
    if not path.exists():
        return True
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            targets = con.execute("select count(*) from marts.fct_target").fetchall()[0][0]
            return targets == 24 and status_log.disagreements(con) == 0
    except duckdb.Error:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--files-per-round", type=int, default=12)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = Path(os.environ.get("PLAN_TRACKER_WAREHOUSE_DIR", "warehouse")).resolve() / "stress"
    shutil.rmtree(base, ignore_errors=True)
    raw, warehouse = base / "raw", base / "warehouse"
    for part in ("plans", "reference"):
        shutil.copytree(REPO / "raw" / part, raw / part)
    started = time.monotonic()
    files = corrupted = rows_written = kills = finished = broken_publishes = 0
    for round_no in range(args.rounds):
        folder = raw / "progress" / f"round_{round_no:02d}"
        folder.mkdir(parents=True)
        for n in range(args.files_per_round):
            data = report(rng, rng.randint(1, 400))
            rows_written += data.count(b"\n") - 1
            if rng.random() < 0.3:
                data = corrupt(rng, data)
                corrupted += 1
            (folder / f"r{n:03d}.csv").write_bytes(data)
            files += 1
        outcome = run(raw, warehouse, kill_after=rng.uniform(2, 25) if rng.random() < 0.6 else None)
        kills += outcome == "killed"
        finished += outcome == "finished"
        if not published_is_whole(warehouse / "plan_tracker.duckdb"):
            broken_publishes += 1
        print(f"round {round_no + 1}/{args.rounds}: {outcome}", flush=True)
    final = run(raw, warehouse, kill_after=None)
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        [(rows_in, accounted)] = con.execute(
            "select sum(rows_in), sum(rows_loaded + rows_quarantined) from raw.file_manifest"
        ).fetchall()
        manifest_files = con.execute(
            "select count(distinct source_file) from raw.file_manifest"
        ).fetchall()[0][0]
        duplicates = con.execute(
            "select count(*) - count(distinct (source_file, file_sha256, sheet, source_row)) "
            "from raw.progress_rows"
        ).fetchall()[0][0]
    unaccounted = int(rows_in or 0) - int(accounted or 0)
    figures = {
        "files_tried": files,
        "files_corrupted": corrupted,
        "files_in_manifest": manifest_files,
        "rows_written": rows_written,
        "rows_in": int(rows_in or 0),
        "rows_accounted_for": int(accounted or 0),
        "rows_unaccounted": unaccounted,
        "duplicate_rows": duplicates,
        "runs_killed": kills,
        "kills_survived": kills - broken_publishes,
        "runs_finished": finished + (final == "finished"),
        "corrupted_publishes": broken_publishes,
        "seconds": round(time.monotonic() - started, 1),
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    ok = final == "finished" and not unaccounted and not duplicates and not broken_publishes
    ok = ok and manifest_files == files
    print("stress: OK" if ok else "stress: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
