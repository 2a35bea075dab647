"""`plan-tracker run`'s verdict: it says "published" only when every step ran and succeeded."""

from __future__ import annotations

import io
from pathlib import Path

import dagster as dg
import pytest

from dagster_project.cli import report


def _job(produce: bool) -> dg.JobDefinition:
    @dg.multi_asset(
        outs={"a": dg.AssetOut(is_required=False), "b": dg.AssetOut(is_required=False)},
        can_subset=True,
    )
    def upstream():  # type: ignore[no-untyped-def]
        yield dg.Output(None, output_name="a")
        if produce:
            yield dg.Output(None, output_name="b")

    @dg.asset(deps=[dg.AssetKey("b")])
    def published() -> None:
        return None

    return dg.Definitions(assets=[upstream, published]).resolve_implicit_global_asset_job_def()


def test_a_run_that_skipped_its_publication_is_reported_as_failed(tmp_path: Path) -> None:
    result = _job(produce=False).execute_in_process(raise_on_error=False)
    assert result.success  # Dagster's view: nothing failed, a step was skipped
    out = io.StringIO()
    assert report(result, tmp_path / "plan_tracker.duckdb", 1.0, out) == 1
    printed = out.getvalue()
    assert "FAILED" in printed and "nothing was published" in printed
    assert "step published: skipped" in printed


def test_a_run_whose_steps_all_succeeded_is_reported_as_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dagster_project.lib.summary.summary", lambda path: "(summary)")
    result = _job(produce=True).execute_in_process(raise_on_error=False)
    out = io.StringIO()
    assert report(result, tmp_path / "plan_tracker.duckdb", 1.0, out) == 0
    assert "published" in out.getvalue() and "FAILED" not in out.getvalue()
