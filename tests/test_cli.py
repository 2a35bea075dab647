"""`plan-tracker run`: its verdict says "published" only when every step ran and succeeded, and
its process loads the same definitions without dbt-core as with it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_project import cli
from dagster_project.cli import report
from dagster_project.lib.timings import parse_line


def _job(produce: bool) -> dg.JobDefinition:
    @dg.multi_asset(
        outs={"a": dg.AssetOut(is_required=False), "b": dg.AssetOut(is_required=False)},
        can_subset=True,
    )
    def upstream():
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
    # Where the time went, whatever the outcome: the step that ran, the rest as start.
    times = parse_line(printed)
    assert times is not None and list(times.parts) == ["start", "upstream"]  # skipped, not failed


def test_a_run_whose_steps_all_succeeded_is_reported_as_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "dagster_project.lib.summary.summary", lambda path, raw_dir=None: "(summary)"
    )
    result = _job(produce=True).execute_in_process(raise_on_error=False)
    out = io.StringIO()
    assert report(result, tmp_path / "plan_tracker.duckdb", 1.0, out) == 0
    assert "published" in out.getvalue() and "FAILED" not in out.getvalue()
    times = parse_line(out.getvalue())
    assert times is not None and list(times.parts) == ["start", "upstream", "published"]


# Loads the definitions in a fresh interpreter, with dagster-dbt imported as `plan-tracker run`
# imports it (argv[1] == "run") or as any other process does, and prints what they define.
_DESCRIBE_DEFINITIONS = """
import json, sys
if sys.argv[1] == "run":
    from dagster_project.cli import import_dagster_dbt_without_dbt_core
    import_dagster_dbt_without_dbt_core()
from dagster_dbt.compat import DBT_PYTHON_VERSION
from dagster_project.definitions import defs
definitions = defs()
graph = definitions.resolve_asset_graph()
described = {
    "dbt_core_seen": DBT_PYTHON_VERSION is not None,
    "dbt_imported": sorted(m for m in sys.modules if m.split(".")[0] in ("dbt", "agate")),
    "assets": {
        spec.key.to_user_string(): sorted(d.asset_key.to_user_string() for d in spec.deps)
        for spec in definitions.resolve_all_asset_specs()
    },
    "checks": sorted(key.to_user_string() for key in graph.asset_check_keys),
    "blocking": sorted(
        key.to_user_string()
        for key in graph.asset_check_keys
        if graph.get_check_spec(key).blocking
    ),
    "job": sorted(node.name for node in definitions.resolve_job_def("full_refresh_job").nodes),
}
import dbt.version  # dbt can still be imported afterwards
print(json.dumps(described))
"""


def _describe_definitions(how: str) -> dict[str, Any]:
    printed = subprocess.run(
        [sys.executable, "-c", _DESCRIBE_DEFINITIONS, how],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(printed.splitlines()[-1])


def test_the_run_defines_the_same_assets_without_importing_dbt_core() -> None:
    as_run, as_elsewhere = _describe_definitions("run"), _describe_definitions("other")
    assert not as_run["dbt_core_seen"] and as_elsewhere["dbt_core_seen"]
    assert as_run["dbt_imported"] == []
    assert as_elsewhere["dbt_imported"] != []
    for part in ("assets", "checks", "blocking", "job"):
        assert as_run[part] == as_elsewhere[part], part
    assert len(as_run["checks"]) > 50  # the dbt tests are there, as asset checks


def test_a_run_with_an_as_of_date_that_is_not_a_date_is_refused_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAN_TRACKER_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("PLAN_TRACKER_AS_OF_DATE", "30/11/2026")
    out = io.StringIO()
    assert cli.run("full_refresh_job", out=out) == 2
    assert out.getvalue() == (
        "plan-tracker: PLAN_TRACKER_AS_OF_DATE='30/11/2026' is not a date such as 2026-06-30 "
        "(leave it empty for today); nothing was run\n"
    )
    assert not (tmp_path / "warehouse" / "work").exists()
