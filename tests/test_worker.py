"""Warm workers (lib/worker.py, lib/warm.py): calls, streams both ways, errors with the worker's
traceback, a dead worker named as such, a worker that dies with its parent, and the gate and
dbt workers giving what the same work gives in the run's own process."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagster_project.lib import warm
from dagster_project.lib.dbt_inprocess import DbtRun
from dagster_project.lib.paths import Paths
from dagster_project.lib.quality import gate
from dagster_project.lib.worker import Stream, Worker, WorkerError, _Forked


def _forking(fork: bool) -> bool:
    """A worker forks only where no other thread runs: a GX validation earlier in this test
    process leaves tqdm's monitor thread (of its progress bars) running; it is stopped first."""
    tqdm = sys.modules.get("tqdm.std")
    for thread in threading.enumerate():
        if fork and tqdm is not None and isinstance(thread, tqdm.TMonitor):
            thread.exit()
    assert not fork or threading.active_count() == 1, threading.enumerate()
    return fork


@pytest.fixture(params=[False, True], ids=["spawned", "forked"])
def worker(request: pytest.FixtureRequest) -> Iterator[Worker]:
    """A worker as `plan-tracker run` starts one, a new Python; and one forked from this process,
    as a process that has imported the worker's library starts one (the test launcher)."""
    w = Worker("test", "math:sqrt", 4.0, fork=_forking(request.param))
    assert isinstance(w._process, _Forked) is request.param
    yield w
    w.close()


def test_a_call_returns_its_value(worker: Worker) -> None:
    assert worker.call("math:sqrt", 9.0) == 3.0
    assert worker.call("os:getpid") != os.getpid()


def test_a_stream_goes_in_item_by_item_and_a_generator_comes_back(worker: Worker) -> None:
    assert worker.call("builtins:sum", Stream(iter(range(1000)))) == sum(range(1000))
    call = worker.stream("itertools:islice", Stream(iter("abcdef")), 3)
    assert list(call) == ["a", "b", "c"]
    # The worker is still usable after a stream it did not read to the end.
    assert worker.call("math:sqrt", 16.0) == 4.0


def test_the_next_item_of_a_stream_is_made_while_the_worker_works_on_this_one(
    worker: Worker, tmp_path: Path
) -> None:
    from tests.worker_helpers import made

    seen = worker.call(
        "tests.worker_helpers:next_marked_while_holding_each",
        Stream(made(tmp_path, 4)),
        str(tmp_path),
        "made",
    )
    assert seen == [True, True, True, True]


def test_the_worker_receives_the_next_item_of_a_stream_while_it_works_on_this_one(
    worker: Worker, tmp_path: Path
) -> None:
    from tests.worker_helpers import Marked

    seen = worker.call(
        "tests.worker_helpers:next_marked_while_holding_each",
        Stream(Marked(str(tmp_path), n) for n in range(4)),
        str(tmp_path),
        "received",
    )
    # The last item has none after it: the end of the stream is no item.
    assert seen == [True, True, True, False]
    # Nothing is asked for beyond the end, and the next call finds the pipes in step.
    assert not (tmp_path / "received_4").exists()
    assert worker.call("builtins:sum", Stream(iter(range(10)))) == 45


def test_an_error_while_making_a_stream_item_reaches_the_caller(worker: Worker) -> None:
    def items() -> Iterator[int]:
        yield 1
        raise RuntimeError("chunk 2 could not be read")

    with pytest.raises(RuntimeError, match="chunk 2 could not be read"):
        worker.call("builtins:sum", Stream(items()))


def test_an_error_in_the_worker_comes_back_with_its_traceback(worker: Worker) -> None:
    with pytest.raises(WorkerError, match=r"(?s)in the test worker:.*ValueError: math domain"):
        worker.call("math:sqrt", -1.0)
    assert worker.call("math:sqrt", 1.0) == 1.0
    # Failing half-way through a stream, with the next item already on its way to the worker.
    with pytest.raises(WorkerError, match="TypeError"):
        worker.call("builtins:sum", Stream(iter([1, "two", 3, 4, 5])))
    assert worker.call("builtins:sum", Stream(iter(range(10)))) == 45


def test_a_warm_up_error_is_raised_by_the_first_call() -> None:
    w = Worker("broken", "no_such_module_xyz:f")
    try:
        with pytest.raises(WorkerError, match="No module named 'no_such_module_xyz'"):
            w.call("math:sqrt", 1.0)
    finally:
        w.close()


def test_the_warm_up_runs_without_the_cyclic_collector_and_is_frozen_after() -> None:
    # The warm-up's objects live as long as the worker: later collections must not scan them
    # (lib/worker.py `serve`), and the collector is back on for the calls that follow.
    w = Worker("warm", "tests.worker_helpers:warm_up")
    try:
        during, after, frozen = w.call("tests.worker_helpers:collector_state")
    finally:
        w.close()
    assert during is False
    assert after is True
    assert frozen > 1000


def test_a_forked_worker_holds_nothing_of_another_worker_s(tmp_path: Path) -> None:
    # Were the second worker to inherit the first's pipes, the first would not see its input
    # close: `close` would wait 5 s and kill it. Nor does a worker run its parent's exit
    # handlers (a run's stops its other workers, lib/warm.py).
    marker = tmp_path / "exit_handler_ran"

    def parents_handler() -> None:
        marker.write_text(str(os.getpid()))

    atexit.register(parents_handler)
    try:
        first = Worker("first", "math:sqrt", 1.0, fork=_forking(True))
        second = Worker("second", "math:sqrt", 1.0, fork=True)
        assert isinstance(first._process, _Forked) and isinstance(second._process, _Forked)
        try:
            assert first.call("math:sqrt", 4.0) == second.call("math:sqrt", 4.0) == 2.0
            started = time.monotonic()
            first.close()
            assert first._process.poll() == 0
            assert time.monotonic() - started < 4
            assert second.call("math:sqrt", 9.0) == 3.0
        finally:
            second.close()
        assert second._process.poll() == 0
    finally:
        atexit.unregister(parents_handler)
    assert not marker.exists()


def test_a_forked_worker_the_system_reaped_has_ended() -> None:
    # Where SIGCHLD is ignored (the test launcher, between runs) the system reaps an ended child
    # itself: its exit status is gone, and waiting for it must not wait on.
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        w = Worker("reaped", "math:sqrt", 1.0, fork=_forking(True))
        assert w.call("math:sqrt", 4.0) == 2.0
        started = time.monotonic()
        w.close()
        assert w._process.poll() == 0
        assert time.monotonic() - started < 4
    finally:
        signal.signal(signal.SIGCHLD, previous)


def test_a_run_forks_its_workers_only_where_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `plan-tracker run` starts new processes; the test launcher, having imported everything,
    # asks for forks (warm.fork_workers).
    paths = Paths.from_dirs(tmp_path / "raw", tmp_path / "warehouse")
    paths.ensure()
    for fork in (False, True):
        monkeypatch.setattr(warm, "_fork", _forking(fork))
        warm.start_gates(paths)
        warm.start_dbt(paths)
        try:
            assert warm._gates is not None and warm._dbt is not None
            assert isinstance(warm._gates._process, _Forked) is fork
            assert isinstance(warm._dbt._process, _Forked) is fork
        finally:
            warm.stop()


def test_a_killed_worker_is_reported_not_waited_for(worker: Worker) -> None:
    os.kill(worker.call("os:getpid"), signal.SIGKILL)
    with pytest.raises(WorkerError, match=r"the test worker process ended \(exit code -9\)"):
        worker.call("math:sqrt", 1.0)


@pytest.mark.parametrize("fork", [False, True], ids=["spawned", "forked"])
def test_a_worker_dies_with_its_parent(fork: bool) -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from dagster_project.lib.worker import Worker
                w = Worker("orphan", "math:sqrt", 1.0, fork={fork})
                print(w.call("os:getpid"), flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{child}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return  # exited; a zombie until its new parent reaps it
        time.sleep(0.1)
    pytest.fail(f"worker {child} outlived its parent")


def test_the_gate_worker_gives_the_in_process_outcome(tmp_path: Path) -> None:
    from tests.test_quality import CATALOG_PARAMETERS, _targets

    # A failing frame, in two chunks: the outcome names the offending values either way.
    chunks = [_targets(indicator_id="no_such"), _targets()]
    paths = Paths.from_dirs(tmp_path / "raw", tmp_path / "warehouse")
    local = gate.run_gate("catalog", iter(chunks), CATALOG_PARAMETERS, tmp_path / "local")
    warm.start_gates(paths)
    try:
        remote = warm.run_gate("catalog", iter(chunks), CATALOG_PARAMETERS, tmp_path / "remote")
    finally:
        warm.stop()
    assert not local.success
    assert remote == local
    assert remote.rows_checked == sum(len(c) for c in chunks)


def _probe_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: probe\nversion: '1.0'\nconfig-version: 2\nprofile: probe\n", encoding="utf-8"
    )
    (root / "profiles.yml").write_text(
        textwrap.dedent(
            """
            probe:
              target: local
              outputs:
                local:
                  type: duckdb
                  path: "{{ env_var('PLAN_TRACKER_WORK_DB', 'plan_tracker.duckdb') }}"
                  threads: 1
            """
        ),
        encoding="utf-8",
    )
    (root / "models" / "good.sql").write_text("select 1 as n", encoding="utf-8")
    (root / "models" / "broken.sql").write_text("select * from no_such_table", encoding="utf-8")
    return root


def test_the_dbt_worker_builds_what_dbt_builds_in_process(tmp_path: Path) -> None:
    outcomes = {}
    for where in ("local", "worker"):
        project = _probe_project(tmp_path / where / "probe")
        paths = Paths.from_dirs(tmp_path / where / "raw", tmp_path / where / "warehouse")
        paths.ensure()
        if where == "worker":
            warm.start_dbt(paths, dbt_dir=project)
        run = DbtRun(["build"])
        try:
            events = list(warm.stream_dbt(["build"], paths, run, dbt_dir=project))
        finally:
            warm.stop()
        outcomes[where] = (
            sorted((e["data"]["node_info"]["unique_id"], e["info"]["name"]) for e in events),
            run.success,
            [f.split(":")[0] for f in run.failures],
        )
        assert run.parsed_ahead == (where == "worker")
        # The build's artifacts are in the run's target path, the parse's scratch folder gone.
        target = warm.dbt_target_path(paths)
        # The build writes run_results.json (dbt_inprocess.build: `--no-write-json`, results
        # written after), failures included.
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
        assert {(r["unique_id"], r["status"]) for r in results["results"]} == {
            ("model.probe.good", "success"),
            ("model.probe.broken", "error"),
        }
        assert (target / "partial_parse.msgpack").exists()  # the next parse starts from it
        assert not list(paths.work_dir.glob("dbt_parse_*"))
    assert outcomes["worker"] == outcomes["local"]
    assert outcomes["local"] == (
        [
            ("model.probe.broken", "LogModelResult"),
            ("model.probe.good", "LogModelResult"),
        ],
        False,
        ["model.probe.broken"],
    )


def test_a_parse_folder_left_by_a_killed_run_is_removed_a_waiting_runs_is_not(
    tmp_path: Path,
) -> None:
    from dagster_project.lib import dbt_inprocess

    project = _probe_project(tmp_path / "probe")
    work = tmp_path / "warehouse" / "work"
    old, recent = work / "dbt_parse_killed", work / "dbt_parse_waiting"
    for folder in (old, recent):
        folder.mkdir(parents=True)
    day_ago = time.time() - dbt_inprocess.STALE_PARSE_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    dbt_inprocess.prepare(warm.dbt_project_args(project), str(work / "dbt_target"))
    assert not old.exists() and recent.exists()
