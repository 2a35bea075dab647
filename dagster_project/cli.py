"""`plan-tracker`: the command behind `make run` (and `make report`).

`run` executes the full refresh job in this process, holding the warehouse's pipeline lock so that
two runs never interleave. Exit status 0 means the warehouse was published. Its events go to an
in-memory Dagster instance: storing the ~600 events of a run in `$DAGSTER_HOME`'s SQLite costs
about 7 s (docs/performance.md), more than the run's own work on the bundled data. `--record`
stores them there, so the run shows in the UI's history (scheduled and sensor runs always do).
What a run did is also kept in the warehouse itself: marts.publish_log, dq.check_results,
raw.file_manifest.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from dagster_project.lib.paths import DBT_DIR, Paths

DEFAULT_RAW_DIR = "raw"
DEFAULT_WAREHOUSE_DIR = "warehouse"
DEFAULT_MAX_XLSX_BYTES = 200 * 1024 * 1024  # uncompressed size above which an XLSX is refused

INSTANCE_YAML = """\
# Written by plan-tracker on first use. Runs never overlap and every DuckDB writer runs alone.
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def configure_environment() -> Paths:
    """The documented defaults (DESIGN.md) for anything the caller did not set."""
    os.environ.setdefault("PLAN_TRACKER_RAW_DIR", DEFAULT_RAW_DIR)
    os.environ.setdefault("PLAN_TRACKER_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR)
    os.environ.setdefault("PLAN_TRACKER_MAX_XLSX_BYTES", str(DEFAULT_MAX_XLSX_BYTES))
    paths = Paths.from_dirs(
        os.environ["PLAN_TRACKER_RAW_DIR"], os.environ["PLAN_TRACKER_WAREHOUSE_DIR"]
    )
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.warehouse_dir / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    return paths


def import_dagster_dbt_without_dbt_core() -> None:
    """Import dagster-dbt as it is where dbt-core is not installed.

    dbt never runs in a run's process: it builds in the dbt worker (lib/warm.py), a process of its
    own that imports dbt itself. Here dagster-dbt only makes the asset specs from the prepared
    manifest and turns dbt's node results into Dagster events. Yet when dbt-core can be imported,
    dagster-dbt imports its adapters and artifacts (agate, mashumaro's schemas, ...) at import
    time, to reuse dbt's enums and graph selector: 0.6 s of the run's start, plus 0.1 s to select
    "every node" through dbt's graph. Without dbt-core (its mode for dbt Fusion and for dbt run
    elsewhere), it uses enums of its own with the same values and reads the default selection
    from the manifest: the same assets, checks and dependencies (tests/test_cli.py compares
    them). An import of `dbt.version`, dagster-dbt's probe for dbt-core, fails while it loads;
    afterwards dbt can be imported again, should anything in this process need it.
    """
    if "dagster_dbt" in sys.modules or "dbt.version" in sys.modules:
        return  # already imported, one way or the other
    sys.modules["dbt.version"] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import dagster_dbt  # noqa: F401
    finally:
        del sys.modules["dbt.version"]


def run(
    job_name: str, log_level: str = "INFO", out: TextIO = sys.stdout, record: bool = False
) -> int:
    paths = configure_environment()
    # Checked again where dbt's build is planned (runs Dagster starts), but refused here before
    # anything runs rather than after the ingest.
    from dagster_project.lib.dbt_state import as_of_date_from_env

    try:
        as_of_date_from_env()
    except ValueError as error:
        print(f"plan-tracker: {error}; nothing was run", file=out)
        return 2
    started = time.monotonic()
    # A run started without `make` after the dbt project changed: its manifest is prepared again
    # first, as `make setup` would (lib/dbt_prepare.py).
    from dagster_project.lib.dbt_prepare import dbt_error, prepare_manifest

    try:
        changed = prepare_manifest()
    except subprocess.CalledProcessError as error:
        print(
            f"plan-tracker: dbt cannot parse the project; nothing was run\n{dbt_error(error)}",
            file=out,
        )
        return 1
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        print(
            f"dbt: the project changed since its manifest was prepared "
            f"({changed[0].relative_to(DBT_DIR)}{more}): parsed again",
            file=out,
        )
    # dbt's console log follows the run's level (its file log, dbt.log, keeps info).
    if log_level == "ERROR":
        os.environ.setdefault("DBT_QUIET", "true")
    elif log_level == "WARNING":
        os.environ.setdefault("DBT_LOG_LEVEL", "warn")
    # great_expectations and dbt get ready in processes of their own while this one imports
    # dagster and ingests (lib/warm.py); dbt's warm-up at a lower priority, as it is needed last
    # and the imports here are the run's critical path.
    from dagster_project.lib import warm

    warm.start_gates(paths)
    warm.start_dbt(paths)
    # Importing dagster creates a million objects that live as long as the process; the cyclic
    # collector would scan them again and again (~1 s of this process's time in a run). Off while
    # importing, then those objects are frozen out of its reach (gc.freeze, for long-lived
    # objects created at start-up).
    gc.disable()
    # The run takes the warehouse's pipeline lock itself (defs/resources.py: PipelineLock), so a
    # second run started meanwhile, from here or from Dagster, waits for this one to end.
    import dagster as dg

    import_dagster_dbt_without_dbt_core()
    from dagster_project.definitions import defs

    job = defs().resolve_job_def(job_name)
    gc.freeze()
    gc.enable()
    with dg.DagsterInstance.get() if record else dg.DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
    elapsed = time.monotonic() - started
    return report(result, paths.published_db, elapsed, out, raw_dir=paths.raw_dir)


def report(
    result: Any, published_db: Path, elapsed: float, out: TextIO, raw_dir: Path | None = None
) -> int:
    """Print how a run of the job ended (`result`: Dagster's execution result) and return the
    process's exit code: 0 only if every step ran and succeeded. Either way, a line says where
    the run's time went (lib/timings.py)."""
    from dagster_project.lib.timings import run_times

    times = run_times(result.all_events, elapsed).line()
    failures = [e for e in result.all_events if e.is_step_failure]
    # Dagster calls a run whose steps were skipped (an output they need not produced) a success.
    skipped = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"]
    if not result.success or skipped:
        print(
            f"\nrun {result.run_id} FAILED after {elapsed:.1f}s; nothing was published.", file=out
        )
        for event in failures:
            error = event.step_failure_data.error
            message = error.message.strip() if error else "(no message)"
            print(f"  step {event.step_key}: {message}", file=out)
        for step_key in skipped:
            print(f"  step {step_key}: skipped (an output it needs was not produced)", file=out)
        print(f"the last good warehouse stays at {published_db}", file=out)
        print(times, file=out)
        return 1
    from dagster_project.lib.summary import summary

    print(f"\nrun {result.run_id} published {published_db} in {elapsed:.1f}s", file=out)
    print(times, file=out)
    print(summary(published_db, raw_dir), file=out)
    return 0


def _explain(target_id: str) -> int:
    from dagster_project.lib.explain import UnknownTargetError, explain

    paths = configure_environment()
    if not paths.published_db.exists():
        print(f"no published warehouse at {paths.published_db}: run `make run` first")
        return 1
    try:
        print(explain(paths.published_db, target_id))
    except UnknownTargetError as exc:
        print(f"plan-tracker: {exc}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plan-tracker", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the pipeline and publish the warehouse")
    run_parser.add_argument("--job", default="full_refresh_job")
    run_parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    run_parser.add_argument(
        "--record",
        action="store_true",
        help="store the run in $DAGSTER_HOME's instance, so it shows in the UI's run history",
    )
    sub.add_parser("instance", help="write the Dagster instance configuration if missing")
    sub.add_parser(
        "report",
        help="write the offline scorecard page and workbook (scorecard.xlsx) from the published "
        "warehouse",
    )
    sub.add_parser(
        "templates",
        help="write, for each geography, a CSV of the reports it owes, to fill in and send back",
    )
    explain_parser = sub.add_parser(
        "explain",
        help="how a target's status today was reached: path, pace, reports, members; or, for a "
        "geography, its targets, its parts of its areas' targets and the reports it owes",
    )
    explain_parser.add_argument(
        "target_id",
        help="a target id, e.g. wm_t_new_platforms_2028, or a geography's id or name, e.g. "
        "ezhou or 鄂州",
    )
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.job, log_level=args.log_level, record=args.record)
    if args.command == "explain":
        return _explain(args.target_id)
    if args.command in ("report", "templates"):
        paths = configure_environment()
        if not paths.published_db.exists():
            print(f"no published warehouse at {paths.published_db}: run `make run` first")
            return 1
        if args.command == "report":
            from dagster_project.lib.report import write_report
            from dagster_project.lib.workbook import write_workbook

            print(f"wrote {write_report(paths.published_db, paths.report_dir)}")
            print(f"wrote {write_workbook(paths.published_db, paths.report_dir)}")
            return 0
        from dagster_project.lib.templates import write_templates

        templates = write_templates(paths.published_db, paths.templates_dir)
        print(
            f"{templates.reports} reports owed as of {templates.as_of_date} by "
            f"{len(templates.files)} geographies: {paths.templates_dir}/<geo_id>.csv"
        )
        return 0
    if args.command == "instance":
        print(configure_environment().warehouse_dir / "dagster_home")
        return 0
    return 2


def console_main() -> None:
    """The `plan-tracker` entry point: `main`, then a fast exit.

    Tearing down an interpreter that imported dagster, dbt and great_expectations takes about
    1.5 s of freeing modules one by one (docs/performance.md). Nothing of the run depends on it:
    the warehouse is published and fsynced, every connection closed. So the exit handlers run
    (logging, temporary folders), the output is flushed, and the process ends without it.
    """
    code = main()
    before_exit()
    os._exit(code)


def before_exit() -> None:
    """What a process that ran a command does before it ends without tearing its modules down
    (`console_main`; the test suite's forked runs, tests/launcher.py): the exit handlers (the
    warm workers stopped, logging's), then its output flushed."""
    import atexit
    import logging

    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()


if __name__ == "__main__":
    console_main()
