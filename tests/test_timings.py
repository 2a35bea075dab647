"""The line that says where a run's time went (lib/timings.py): made from a run's Dagster events,
and read back as `make bench` reads it."""

from __future__ import annotations

import time

import dagster as dg
import pytest

from dagster_project.lib.timings import RunTimes, parse_line, run_times


def _result(fail_check: bool = False) -> dg.ExecuteInProcessResult:
    @dg.asset
    def landed() -> None:
        time.sleep(0.2)

    @dg.asset(deps=[landed])
    def published() -> None:
        time.sleep(0.1)

    @dg.asset_check(asset=landed)
    def landed_ok() -> dg.AssetCheckResult:
        time.sleep(0.05)
        if fail_check:
            raise RuntimeError("the gate broke")
        return dg.AssetCheckResult(passed=True)

    @dg.asset_check(asset=published)
    def published_ok() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    job = dg.Definitions(
        assets=[landed, published], asset_checks=[landed_ok, published_ok]
    ).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(raise_on_error=False)


def test_assets_are_named_checks_added_up_and_the_rest_is_start() -> None:
    times = run_times(_result().all_events, elapsed=5.0)
    assert list(times.parts) == ["start", "landed", "published", "checks"]
    assert times.check_steps == 2
    # At least what each step sleeps, each under its own name: a step takes longer on a loaded
    # machine (0.52 s once for a 0.1 s step, with the suite's other worker busy), never less.
    assert times.parts["landed"] >= 0.2
    assert times.parts["published"] >= 0.1
    assert times.parts["checks"] >= 0.05
    assert sum(times.parts.values()) == pytest.approx(5.0)


def test_a_failed_step_has_no_duration_and_counts_in_the_rest_named_so() -> None:
    times = run_times(_result(fail_check=True).all_events, elapsed=5.0)
    assert list(times.parts) == ["start and failed steps", "landed", "published", "checks"]
    assert times.check_steps == 1  # published_ok only
    assert sum(times.parts.values()) == pytest.approx(5.0)
    assert parse_line(times.line()) == RunTimes(
        {name: round(seconds, 1) for name, seconds in times.parts.items()}, check_steps=1
    )


def test_the_printed_line_reads_back() -> None:
    times = RunTimes({"start": 2.04, "plan_tracker_dbt": 36.0, "checks": 12.345}, check_steps=4)
    line = times.line()
    assert line == "time: start 2.0s · plan_tracker_dbt 36.0s · checks 12.3s (4 steps)"
    printed = f"run x published y in 50.4s\n{line}\nsummary …"
    assert parse_line(printed) == RunTimes(
        {"start": 2.0, "plan_tracker_dbt": 36.0, "checks": 12.3}, check_steps=4
    )
    assert RunTimes({"start": 1.0, "checks": 0.5}, check_steps=1).line().endswith("(1 step)")
    assert parse_line("run x published y in 5.0s\n") is None
    with pytest.raises(ValueError, match="not a part of a run's time line"):
        parse_line("time: start two seconds")
