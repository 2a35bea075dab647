"""The run's warm workers (lib/worker.py): one for the Great Expectations gates, one for dbt.

`plan-tracker run` starts both before it imports dagster, so that great_expectations and dbt are
imported, the GX context opened and the dbt project parsed on the other core while this process
loads the definitions and ingests (docs/performance.md). The gate checks and the dbt asset use a
started worker when there is one, and run in their own process otherwise (a run launched by the
Dagster daemon, a test materialising assets): the same functions, the same results.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_project.lib.paths import DBT_DIR, EXPECTATIONS_DIR, Paths
from dagster_project.lib.worker import Stream, Worker

if TYPE_CHECKING:
    # Imported where used: `plan-tracker run` starts the workers before it imports anything heavy.
    import pandas as pd

    from dagster_project.lib.dbt_inprocess import DbtRun
    from dagster_project.lib.quality.gate import GateOutcome

_gates: Worker | None = None
_dbt: Worker | None = None
_done: list[Worker] = []  # finished workers, to reap at exit
_fork = False  # fork_workers


def dbt_project_args(dbt_dir: Path = DBT_DIR) -> list[str]:
    """The options every dbt invocation of a run shares, its target path aside."""
    return [
        *("--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir)),
        # dbt.log keeps what a failure needs (errors, warnings, node results), not every
        # statement: at debug level the file handler costs ~1 s per run.
        *("--log-level-file", "info"),
    ]


def dbt_env(paths: Paths) -> dict[str, str]:
    # dbt reads its connection from profiles.yml, which takes the working file's path from here.
    return {"PLAN_TRACKER_WORK_DB": str(paths.work_db)}


def dbt_target_path(paths: Paths) -> Path:
    """dbt's artifacts and logs: under the warehouse folder, like everything the pipeline writes."""
    return paths.work_dir / "dbt_target"


def fork_workers() -> None:
    """Fork this process's workers from now on instead of starting a new Python for each: for a
    process that has imported great_expectations and dbt, used neither, and forks runs from
    itself (the test suite's launcher, tests/launcher.py), so that a run's workers have nothing
    left to import. Never so in `plan-tracker run`, which starts its workers first thing. Only
    imported, not used: a library that has run holds state a fork cannot take along (dbt's log
    handlers on its process's files)."""
    global _fork
    _fork = True


def start_gates(paths: Paths) -> None:
    """Start the gate worker for a run on `paths` (once)."""
    global _gates
    if _gates is None:
        _gates = Worker(
            "quality gates",
            "dagster_project.lib.quality.gate:warm",
            str(EXPECTATIONS_DIR),
            str(paths.warehouse_dir / "quality"),
            fork=_fork,
        )
        atexit.register(stop)


def start_dbt(paths: Paths, dbt_dir: Path = DBT_DIR) -> None:
    """Start the dbt worker for a run on `paths` (once)."""
    global _dbt
    if _dbt is None:
        target = dbt_target_path(paths)
        _dbt = Worker(
            "dbt",
            "dagster_project.lib.dbt_inprocess:prepare",
            dbt_project_args(dbt_dir),
            str(target),
            # The last run's parse state, else the one `make setup` left.
            [
                str(target / "partial_parse.msgpack"),
                str(dbt_dir / "target" / "partial_parse.msgpack"),
            ],
            # Importing dbt and parsing can wait a little: the run's own imports and ingest come
            # first. The build, later, runs at normal priority.
            warmup_nice=10,
            fork=_fork,
        )
        atexit.register(stop)


def stop() -> None:
    global _gates, _dbt
    for worker in (_gates, _dbt, *_done):
        if worker is not None:
            with contextlib.suppress(Exception):
                worker.close()
    _gates = _dbt = None
    _done.clear()


def run_gate(
    stage: str,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    parameters: Mapping[str, Any] | None,
    results_dir: Path,
) -> GateOutcome:
    """lib/quality/gate.py's `run_gate`, in the gate worker when one was started."""
    import pandas as pd

    from dagster_project.lib.quality import gate

    if _gates is None:
        return gate.run_gate(stage, frames, parameters, results_dir)
    chunks = [frames] if isinstance(frames, pd.DataFrame) else frames
    return _gates.call(
        "dagster_project.lib.quality.gate:run_gate",
        stage,
        Stream(chunks),
        dict(parameters or {}),
        results_dir,
        EXPECTATIONS_DIR,
    )


def stream_dbt(
    command: Sequence[str],
    paths: Paths,
    run: DbtRun,
    dbt_dir: Path = DBT_DIR,
    env: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """`dbt <command>` for a run on `paths`, with `env` added to dbt's environment: node-result
    events as they finish; `run` holds the outcome when the iteration ends. In the dbt worker
    (once: it builds with the project it parsed, then is done) when one was started, in this
    process otherwise."""
    global _dbt
    from dagster_project.lib import dbt_inprocess

    project_args = dbt_project_args(dbt_dir)
    target = str(dbt_target_path(paths))
    build_env = {**dbt_env(paths), **(env or {})}
    worker, _dbt = _dbt, None
    if worker is None:
        local = dbt_inprocess.build(command, project_args, target, build_env)
        remote = None
    else:
        remote = worker.stream(
            "dagster_project.lib.dbt_inprocess:build",
            list(command),
            project_args,
            target,
            build_env,
        )
        local = None
    try:
        if remote is not None:
            yield from remote
            outcome: DbtRun = remote.value
        else:
            assert local is not None
            outcome = yield from local
    finally:
        if worker is not None:
            # It has closed the database; it ends on its own, reaped at exit (`stop`).
            worker.close(wait=False)
            _done.append(worker)
    run.args, run.success, run.exception, run.failures, run.parsed_ahead = (
        outcome.args,
        outcome.success,
        outcome.exception,
        outcome.failures,
        outcome.parsed_ahead,
    )
