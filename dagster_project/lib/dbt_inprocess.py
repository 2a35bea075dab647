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
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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


def stream_dbt(args: Sequence[str], run: DbtRun | None = None) -> Iterator[dict[str, Any]]:
    """Invoke `dbt <args>` in this process; yield each node-result event (as the JSON log's dict)
    as soon as dbt fires it. When the iterator ends, `run` says whether dbt succeeded.

    dbt runs in a worker thread so that the caller can hand results on (to Dagster) while later
    nodes still build; the thread is always joined before the iterator ends.
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
            result = dbtRunner(callbacks=[on_event]).invoke(list(args))
            run.success = bool(result.success)
            run.exception = result.exception
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
