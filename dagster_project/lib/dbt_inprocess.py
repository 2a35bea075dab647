"""Running dbt inside the pipeline's own process, streaming its node results as they finish.

Why not `DbtCliResource.cli`: it starts `dbt --version` and then `dbt build` as two subprocesses
and also builds a dbt adapter in-process before either. On the bundled data those three cost
about 6 s of a run whose dbt work takes 5 s (docs/performance.md). dbt's documented programmatic
entry point, `dbtRunner`, runs the same command in this process, reuses the imports the pipeline
already paid for and hands every structured event to a callback, as the CLI's JSON log would.
The events are the same dictionaries the JSON log carries (`msg_to_dict`), so dagster-dbt's own
`DbtCoreCliEventMessage` turns them into Dagster events exactly as it does for the subprocess.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The node-result events dagster-dbt converts into materializations and check results.
RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"})

_DONE = object()


@dataclass
class DbtRun:
    """The outcome of one in-process dbt invocation, filled in when its stream ends."""

    args: list[str]
    success: bool = False
    exception: BaseException | None = None
    failures: list[str] = field(default_factory=list)
    parsed_ahead: bool = False  # built with the project `prepare` parsed

    @property
    def command(self) -> str:
        return "dbt " + " ".join(self.args)


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open in a class attribute until the interpreter exits (a
    subprocess would have ended). Close it, so that nothing but the pipeline's own connections
    hold the working file once dbt is done."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    # env() raises when dbt never opened the database: then there is nothing to close.
    with contextlib.suppress(Exception):
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


def stream_dbt(
    args: Sequence[str],
    run: DbtRun | None = None,
    manifest: Any = None,
    results_path: Path | None = None,
) -> Iterator[dict[str, Any]]:
    """Invoke `dbt <args>` in this process; yield each node-result event (as the JSON log's dict)
    as soon as dbt fires it. When the iterator ends, `run` says whether dbt succeeded.

    dbt runs in a worker thread so that the caller can hand results on (to Dagster) while later
    nodes still build; the thread is always joined before the iterator ends. `manifest`, a
    project parsed beforehand (`prepare`), spares dbt its parse. With `results_path`, the run's
    results are written there (run_results.json) before the iterator ends, for an invocation
    given `--no-write-json`.
    """
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    run = run if run is not None else DbtRun(list(args))
    events: queue.Queue[Any] = queue.Queue()

    def on_event(event: Any) -> None:
        if event.info.name in RESULT_EVENTS:
            events.put(msg_to_dict(event))

    def invoke() -> None:
        try:
            result = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke(list(args))
            run.success = bool(result.success)
            run.exception = result.exception
            write = getattr(result.result, "write", None)
            if results_path is not None and write is not None:
                write(str(results_path))
            for node in getattr(result.result, "results", None) or []:
                status = str(getattr(node, "status", ""))
                if status in {"error", "fail", "runtime error"}:
                    run.failures.append(f"{node.node.unique_id}: {status}: {node.message}")
        except BaseException as error:
            run.exception = error
        finally:
            _release_duckdb()
            events.put(_DONE)

    worker = threading.Thread(target=invoke, name="dbt", daemon=True)
    worker.start()
    try:
        while (item := events.get()) is not _DONE:
            yield item
    finally:
        worker.join()


# Parsing ahead, in a warm worker (lib/worker.py; started by `plan-tracker run`): the project is
# parsed while the run ingests, then the build reuses the parsed manifest, as dbt's documentation
# shows for programmatic invocations (`dbtRunner(manifest=...)`).

PARSE_ARTIFACTS = ("partial_parse.msgpack",)
STALE_PARSE_SECONDS = 24 * 3600


@dataclass
class _Prepared:
    project_args: list[str]
    parse_dir: Path
    manifest: Any
    error: str | None


_prepared: _Prepared | None = None


def prepare(project_args: Sequence[str], target_path: str, seeds: Sequence[str] = ()) -> None:
    """Import dbt and parse the project. `project_args` are the options every invocation of the
    run shares (project and profiles folders, log options; no target path).

    The parse writes into a folder of its own: a run waiting for the pipeline lock must not touch
    the artifacts of the run that holds it; the build copies them into its target path. It starts
    from the first of `seeds` (saved partial-parse states) that exists, so that only changed files
    are parsed again (0.7 s instead of 2 s on this project).

    The working file's path is left to the profile's default here, as in `make setup`'s parse:
    dbt discards a saved parse whose connection settings differ, and the path is one of them. A
    parse does not open the database, and no model reads the path; the build connects with the
    run's own path (`build`).
    """
    global _prepared
    from dbt.cli.main import dbtRunner

    os.environ.pop("PLAN_TRACKER_WORK_DB", None)
    work_dir = Path(target_path).parent
    Path(target_path).mkdir(parents=True, exist_ok=True)
    # A run killed before its build leaves its parse folder behind; a run waiting for the lock
    # has a recent one.
    for stale in work_dir.glob("dbt_parse_*"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_PARSE_SECONDS:
                shutil.rmtree(stale, ignore_errors=True)
    parse_dir = Path(tempfile.mkdtemp(prefix="dbt_parse_", dir=work_dir))
    for seed in seeds:
        with contextlib.suppress(OSError):
            shutil.copy2(seed, parse_dir / "partial_parse.msgpack")
            break
    # No manifest.json: the build gets the parsed project in memory, and writing its JSON was most
    # of a partial parse (0.25–0.86 s → 0.08 s); partial_parse.msgpack, the next run's seed, is
    # still written.
    result = dbtRunner().invoke(
        [
            "parse",
            *project_args,
            "--target-path",
            str(parse_dir),
            "--log-path",
            str(parse_dir),
            "--no-write-json",
        ]
    )
    error = None if result.success else f"dbt parse failed: {result.exception or 'see dbt.log'}"
    _prepared = _Prepared(list(project_args), parse_dir, result.result, error)


def _database_of(manifest: Any) -> str | None:
    """The database the parsed models live in (dbt-duckdb names it after the file)."""
    for node in manifest.nodes.values():
        if node.resource_type == "model":
            return str(node.database)
    return None


def _database_for(env: dict[str, str]) -> str | None:
    path = env.get("PLAN_TRACKER_WORK_DB")
    return Path(path).stem if path else None


def build(
    command: Sequence[str], project_args: Sequence[str], target_path: str, env: dict[str, str]
) -> Generator[dict[str, Any], None, DbtRun]:
    """`dbt <command> <project_args> --target-path <target_path>` with the manifest `prepare`
    parsed, when it parsed the same project: yields node-result events, returns the DbtRun."""
    os.environ.update(env)
    # dbt ends a build by writing manifest.json and run_results.json (`--write-json`); the
    # manifest, 1 MB of JSON, took 0.43 s of a 2.5 s bundled build, after its last node. The build
    # writes none (the run's target folder gets the manifest its assets were defined from, the
    # same project: defs/transform/assets.py), and its results are written here.
    args = [
        *command,
        *project_args,
        *("--target-path", target_path, "--log-path", target_path),
        "--no-write-json",
    ]
    run = DbtRun(args)
    global _prepared
    manifest = None
    # The parse serves one build: its folder is removed once its artifacts are copied.
    prepared, _prepared = _prepared, None
    if prepared is not None and prepared.project_args == list(project_args):
        if prepared.error is None and _database_of(prepared.manifest) == _database_for(env):
            manifest = prepared.manifest
            for name in PARSE_ARTIFACTS:
                with contextlib.suppress(OSError):
                    shutil.copy2(prepared.parse_dir / name, Path(target_path) / name)
        shutil.rmtree(prepared.parse_dir, ignore_errors=True)
    run.parsed_ahead = manifest is not None
    yield from stream_dbt(
        args, run, manifest=manifest, results_path=Path(target_path) / "run_results.json"
    )
    if run.exception is not None:
        # dbt's exceptions do not all survive pickling (the worker returns this run).
        run.exception = RuntimeError(f"{type(run.exception).__name__}: {run.exception}")
    return run
