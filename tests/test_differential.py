"""scripts/differential.py's own parts that decide its verdict: the comparison of an incremental
build's tables with a full refresh's, and the random files it lands."""

from __future__ import annotations

import datetime as dt
import random
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import differential


def test_a_row_built_twice_or_changed_is_a_difference() -> None:
    full = {"marts.fct_actual": Counter([("wuhan", 1.0), ("ezhou", 2.0)])}
    assert differential.compare({t: Counter(rows) for t, rows in full.items()}, full) == []
    twice = {"marts.fct_actual": Counter([("wuhan", 1.0), ("wuhan", 1.0), ("ezhou", 2.0)])}
    (said,) = differential.compare(twice, full)
    assert said.startswith("marts.fct_actual: 1 rows only in the incremental build, 0 only in")
    changed = {"marts.fct_actual": Counter([("wuhan", 1.5), ("ezhou", 2.0)])}
    (said,) = differential.compare(changed, full)
    assert "1 rows only in the incremental build, 1 only in the full refresh" in said
    assert "('wuhan', 1.5)" in said and "('wuhan', 1.0)" in said
    # A table only one of them has is a difference too.
    assert differential.compare({}, full)


def test_list_columns_are_compared_by_value() -> None:
    assert differential._hashable(("wuhan", ["a", "b"], {"k": 1})) == (
        "wuhan",
        "['a', 'b']",
        "{'k': 1}",
    )


def test_files_report_periods_up_to_the_as_of_month_with_dates_around_it() -> None:
    as_of = dt.date(2026, 3, 10)
    rng = random.Random(7)
    lines = [
        line for _ in range(200) for line in differential.progress_file(rng, as_of).splitlines()[1:]
    ]
    assert len(lines) > 200
    months = set()
    for line in lines:
        period, _city, _indicator, _value, _unit, basis, reported = line.split(",")
        if quarter := re.fullmatch(r"(\d{4})Q([1-4])", period):
            first = dt.date(int(quarter[1]), 3 * int(quarter[2]) - 2, 1)
        elif ytd := re.fullmatch(r"(\d{4})年1-(\d{1,2})月", period):
            assert basis == "累计"
            first = dt.date(int(ytd[1]), int(ytd[2]), 1)
        else:
            year, month = re.fullmatch(r"(\d{4})(?:-|年)(\d{1,2})月?", period).groups()  # type: ignore[union-attr]
            first = dt.date(int(year), int(month), 1)
        assert first <= as_of
        months.add(first)
        if reported:
            assert -40 <= (dt.date.fromisoformat(reported) - as_of).days <= 25
    # Both sides of a year and of the as-of date are covered.
    assert min(months) < dt.date(2025, 3, 1) and dt.date(2026, 3, 1) in months
    assert any(line.endswith(",") for line in lines)  # some without a report date


def test_the_as_of_date_mostly_moves_on_and_sometimes_back() -> None:
    rng = random.Random(3)
    start = dt.date(2026, 11, 20)
    moves = [differential.next_as_of(rng, start) for _ in range(500)]
    steps = Counter((moved - start).days > 0 for moved in moves)
    assert steps[True] > 300 and steps[False] > 50
    # … and lands on the rules' boundaries: a period's end, a due date and the day after.
    landed = Counter(moves)
    assert min(landed[dt.date(2026, 11, 30)], landed[dt.date(2026, 12, 15)]) > 10
    assert landed[dt.date(2026, 12, 16)] > 10


def test_the_ledger_withdraws_a_file_or_a_version_and_counts_it_again(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    inbox = raw / "progress" / "differential"
    inbox.mkdir(parents=True)
    (inbox / "round01_1.csv").write_text("a", encoding="utf-8")
    ledger: dict[str, str] = {}
    rng = random.Random(3)
    said = {differential.change_ledger(rng, ledger, inbox) for _ in range(40)}
    assert said == {
        ", round01_1.csv withdrawn (every version)",
        ", round01_1.csv withdrawn (this version)",
        ", round01_1.csv counted again",
    }
    ledger = {"round01_1.csv": "ca978112ca1b", "round02_1.csv": ""}
    assert differential.ledger_text(ledger, inbox, raw) == (
        "source_file,file_sha256,reason\n"
        "progress/differential/round01_1.csv,ca978112ca1b,sent in error\n"
        "progress/differential/round02_1.csv,,sent in error\n"
    )
