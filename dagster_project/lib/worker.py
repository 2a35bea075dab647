"""Warm worker processes: a Python process started at the beginning of a run that imports a heavy
library and prepares it (great_expectations' context, dbt's parsed project) while the run does
other work, then runs that library's part of the run on request.

Why: on the bundled data a run is mostly fixed cost, and all of it ran on one core. Importing
great_expectations and opening its context takes ~2.5 s, parsing the dbt project up to 2 s, and
while dbt builds in the run's own process its ~600 events compete with dbt's own Python for the
one interpreter lock (docs/performance.md). A worker does that work on the machine's other core,
ahead of need; the run's process only imports dagster and moves data. Neither the standard
library's process pools nor Dagster's executors fit: a pool has no "prepare now, call later" and
its start-up re-imports the caller's `__main__`; Dagster's multiprocess executor starts a process
per step, which is the cost this avoids.

The protocol is length-prefixed pickles over the child's stdin and stdout (its own stdout is
redirected to stderr, so a library that prints cannot corrupt it). A call names a function
`module:function`; a generator's items stream back as it yields them, and an argument given as
`Stream(iterable)` streams to the child, item by item, as the function consumes it (one item
made and sent ahead of the one it holds, never more: `_OneAhead`). An exception
in the child comes back as `WorkerError` with the child's traceback. The child dies with its
parent (Linux `PR_SET_PDEATHSIG`), so a killed run never leaves a worker writing to the
warehouse.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

_HEADER = struct.Struct("!Q")
PIPE_BYTES = 1 << 20  # Linux's default /proc/sys/fs/pipe-max-size


class WorkerError(RuntimeError):
    """The worker's function raised, or the worker process ended unexpectedly."""


@dataclass
class Stream:
    """An argument sent to the worker item by item as the function there iterates over it."""

    items: Iterable[Any]


class _StreamMarker:
    """What a `Stream` argument is replaced by in the call message."""


def _dumps(message: Any) -> bytes:
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def _write(pipe: IO[bytes], data: bytes) -> None:
    pipe.write(_HEADER.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _send(pipe: IO[bytes], message: Any) -> None:
    _write(pipe, _dumps(message))


def _receive(pipe: IO[bytes]) -> Any:
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # our own child, over a private pipe


def _widen(pipe: IO[bytes] | None) -> None:
    """Give a pipe a 1 MB buffer instead of Linux's 64 KB: a 57 MB gate chunk then crosses in
    ~60 writes instead of ~900, each a wake-up of the other process (landing gate at 9M rows
    ~0.3 s faster). Left as it is where the system does not allow it."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if pipe is None or size is None:
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), size, PIPE_BYTES)


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class Worker:
    """One warm worker process. Calls are served one at a time, in order."""

    def __init__(
        self,
        name: str,
        warmup: str,
        *args: Any,
        warmup_nice: int = 0,
        fork: bool = False,
    ):
        """Start the process and its warm-up call, `warmup(*args)`. With `warmup_nice`, the
        warm-up runs at that lower priority (Linux: a thread's own nice value), so that it takes
        the CPU the run's critical path leaves over; later calls run at normal priority.

        With `fork` (where `can_fork`), the process is a fork of this one instead of a new
        Python: for a caller that has imported the worker's library already, and not used it, so
        that the worker has nothing left to import (lib/warm.py `fork_workers`). `plan-tracker
        run` starts its workers before it imports anything heavy, and never forks them; a
        process that imports every library once and forks each run from itself does (the test
        suite's launcher, tests/launcher.py)."""
        self.name = name
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | _Forked
        if fork and can_fork():
            self._process = _Forked()
        else:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        for pipe in (self._process.stdin, self._process.stdout):
            _widen(pipe)
        # The warm-up is the first call; its result is read (and its error raised) by the first
        # real call, so starting a worker never waits.
        self._pending_warmup = True
        assert self._process.stdin is not None
        _send(self._process.stdin, ("warm", warmup, args, {}, warmup_nice))

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def _read(self) -> Any:
        assert self._process.stdout is not None
        try:
            return _receive(self._process.stdout)
        except EOFError:
            code = self._process.wait()
            raise WorkerError(f"the {self.name} worker process ended (exit code {code})") from None

    def _finish(self) -> Any:
        """Read messages up to the end of the current call: its return value or its error."""
        while True:
            kind, payload = self._read()
            if kind == "return":
                return payload
            if kind == "error":
                raise WorkerError(f"in the {self.name} worker:\n{payload}")

    def call(self, target: str, *args: Any, **kwargs: Any) -> Any:
        """Run `module:function(*args, **kwargs)` in the worker and return its result."""
        call = self.stream(target, *args, **kwargs)
        for _ in call:
            pass
        return call.value

    def stream(self, target: str, *args: Any, **kwargs: Any) -> _Call:
        """Run a generator function in the worker; iterate over what it yields. The function's
        return value is `.value` once the iteration ends."""
        return _Call(self, target, args, kwargs)

    def close(self, wait: bool = True) -> None:
        """End the worker (it exits when its input closes); with `wait`, wait until it has."""
        with contextlib.suppress(OSError, ValueError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        if not wait:
            return
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def can_fork() -> bool:
    """Whether this process can fork a worker safely: no other Python thread runs (one could hold
    a lock the child would inherit held). The native pools the libraries start as they load
    (OpenBLAS's, jemalloc's) quiesce themselves around a fork (pthread_atfork)."""
    return hasattr(os, "fork") and threading.active_count() == 1


class _Forked:
    """A worker forked from this process: what `Worker` uses of `subprocess.Popen`."""

    def __init__(self) -> None:
        requests_in, requests_out = os.pipe()
        replies_in, replies_out = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child would write this process's pending output again
        pid = os.fork()
        if pid == 0:  # the child
            try:
                # Its pipes as a spawned worker has them, and nothing else of its parent's: no
                # other pipe of another worker held open, no exit handler of the parent's.
                os.dup2(requests_in, 0)
                os.dup2(replies_out, 1)
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
                # The parent's exit handlers would stop its other workers; multiprocessing's,
                # which `main` runs at the end (semaphores to unlink), is kept.
                atexit._clear()
                if "multiprocessing.util" in sys.modules:
                    atexit.register(sys.modules["multiprocessing.util"]._exit_function)
                main()
            finally:
                os._exit(1)  # `main` ends the process; this only if it raised
        os.close(requests_in)
        os.close(replies_out)
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: IO[bytes] | None = os.fdopen(requests_out, "wb")
        self.stdout: IO[bytes] | None = os.fdopen(replies_in, "rb")

    def _reap(self, flags: int) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:
                # Reaped already (SIGCHLD ignored): ended, its status unknown, as
                # subprocess.Popen has it.
                self.returncode = 0
                return 0
            if pid == 0:
                return None
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self._reap(os.WNOHANG)

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            code = self._reap(0)
            assert code is not None
            return code
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.01)
        return code

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


class _OneAhead:
    """Items made in a thread one ahead of their consumer: the next is made while the consumer
    holds this one, never more (each can be a 250,000-row gate chunk). `_make` gives
    ("item", payload) or ("end", payload); an error it raises is raised again to the consumer."""

    def __init__(self, name: str):
        self._wanted = threading.Semaphore(1)
        self._ready: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _make(self) -> tuple[str, Any]:
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            self._wanted.acquire()
            if self._stopped:
                return
            try:
                kind, payload = self._make()
            except BaseException as error:  # raised again in the consumer's thread
                self._ready.put(("error", error))
                return
            self._ready.put((kind, payload))
            del payload
            if kind == "end":
                return

    def _take(self) -> tuple[str, Any]:
        """The next (kind, payload); making the one after it starts now."""
        kind, payload = self._ready.get()
        if kind == "error":
            raise payload
        if kind == "item":
            self._wanted.release()
        return kind, payload

    def close(self) -> None:
        """Make nothing more; wait for an item being made."""
        self._stopped = True
        self._wanted.release()
        self._thread.join()


class _Ahead(_OneAhead):
    """The items of a `Stream`, each computed and pickled while the worker works on the one
    before: the run reads a gate's next chunk from DuckDB while the gate worker validates this
    one, instead of each waiting for the other (the 9M-row landing gate spent a third of its time
    reading). The messages themselves are still sent only when the worker asks."""

    def __init__(self, items: Iterable[Any]):
        self._items = iter(items)
        super().__init__("stream-ahead")

    def _make(self) -> tuple[str, bytes]:
        try:
            item = next(self._items)
        except StopIteration:
            return "end", _dumps(("end", None))
        return "item", _dumps(("item", item))

    def next_message(self) -> bytes:
        """The next message for the worker, pickled."""
        return self._take()[1]

    def close(self) -> None:
        """Stop reading ahead, then close the iterable."""
        super().close()
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


class _Call:
    def __init__(self, worker: Worker, target: str, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.worker, self.target, self.args, self.kwargs = worker, target, args, kwargs
        self.value: Any = None

    def __iter__(self) -> Iterator[Any]:
        worker = self.worker
        with worker._lock:
            stdin = worker._process.stdin
            assert stdin is not None
            if not worker.alive:
                raise WorkerError(
                    f"the {worker.name} worker process ended (exit code {worker._process.poll()})"
                )
            if worker._pending_warmup:
                worker._pending_warmup = False
                worker._finish()
            streams = [a for a in (*self.args, *self.kwargs.values()) if isinstance(a, Stream)]
            if len(streams) > 1:
                raise ValueError("at most one Stream argument per call")
            args = tuple(_StreamMarker() if isinstance(a, Stream) else a for a in self.args)
            kwargs = {
                k: _StreamMarker() if isinstance(v, Stream) else v for k, v in self.kwargs.items()
            }
            try:
                _send(stdin, ("call", self.target, args, kwargs, 0))
            except BrokenPipeError:
                worker._read()  # raises WorkerError with the exit code
            sent = _Ahead(streams[0].items) if streams else None
            finished = False
            try:
                while True:
                    kind, payload = worker._read()
                    if kind == "next":
                        # The function in the worker asks for the stream's next item.
                        assert sent is not None
                        _write(stdin, sent.next_message())
                    elif kind == "yield":
                        yield payload
                    elif kind == "return":
                        self.value = payload
                        finished = True
                        return
                    elif kind == "error":
                        finished = True
                        raise WorkerError(f"in the {worker.name} worker:\n{payload}")
            finally:
                if not finished:
                    # Abandoned half-way (the caller stopped, or the stream raised): the replies
                    # still in the pipe belong to no one. The worker cannot be reused.
                    worker._process.kill()
                    worker._process.wait()
                if sent is not None:
                    sent.close()


# The child side.


def die_with_parent() -> None:
    """End this process when its parent ends (Linux): a worker, or the test launcher."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before the line above
            os._exit(1)


class _Incoming(_OneAhead):
    """A `Stream` argument on the child's side: its items, each asked for and received while the
    function works on the one before. Receiving a 250,000-row gate chunk (~57 MB through the pipe,
    then unpickled) took 0.06 s, a third of the time GX takes to validate it; asked for only once
    the function wanted it, it was time the gate worker spent idle. The requests are written
    under `write_lock`, shared with the replies the function's own thread writes. Closing it
    receives an item already asked for (the caller answers every request until the call's
    reply), so the call's reply is written after the last request."""

    def __init__(self, requests: IO[bytes], replies: IO[bytes], write_lock: threading.Lock):
        self._requests, self._replies, self._write_lock = requests, replies, write_lock
        super().__init__("stream-incoming")

    def _make(self) -> tuple[str, Any]:
        with self._write_lock:
            _send(self._replies, ("next", None))
        return _receive(self._requests)

    def __iter__(self) -> Iterator[Any]:
        while True:
            kind, item = self._take()
            if kind == "end":
                return
            yield item
            del item


def _niced(nice: int, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`function(*args, **kwargs)` in a thread of lower priority (Linux sets a nice value per
    thread; raising it needs no privilege, lowering it again would)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # re-raised in the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="warm-up")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    while True:
        try:
            kind, target, args, kwargs, nice = _receive(requests)
        except EOFError:
            return
        warm_up = kind == "warm"
        if warm_up:
            # What the warm-up makes (imports, GX's context, dbt's parsed project) lives as long
            # as the worker: the cyclic collector would scan it again and again for the little
            # garbage it holds (~3,000 objects after GX's imports, ~7,000 after dbt's parse).
            # Collector off while it is made, then frozen out of later scans: GX's warm-up
            # 2.3 → 1.9 s and dbt's 1.75 → 1.45 s of CPU, and each later call's collection
            # 0.2 s → 0 (docs/performance.md).
            gc.disable()
        write_lock = threading.Lock()
        # At most one Stream argument per call (the caller checks).
        incoming = (
            _Incoming(requests, replies, write_lock)
            if any(isinstance(v, _StreamMarker) for v in (*args, *kwargs.values()))
            else None
        )
        stream = iter(incoming) if incoming is not None else None
        args = tuple(stream if isinstance(a, _StreamMarker) else a for a in args)
        kwargs = {k: stream if isinstance(v, _StreamMarker) else v for k, v in kwargs.items()}
        result: Any = None
        reply: tuple[str, Any]
        try:
            function = _resolve(target)
            result = _niced(nice, function, args, kwargs) if nice else function(*args, **kwargs)
            if hasattr(result, "__next__"):
                try:
                    while True:
                        item = next(result)
                        with write_lock:
                            _send(replies, ("yield", item))
                        del item
                except StopIteration as stop:
                    result = stop.value
            reply = ("return", result)
        except BaseException:  # every failure goes back to the caller
            reply = ("error", traceback.format_exc())
        if incoming is not None:
            incoming.close()
        try:
            message = _dumps(reply)
        except BaseException:  # a value that does not pickle
            message = _dumps(("error", traceback.format_exc()))
        _write(replies, message)
        del args, kwargs, result, reply, message, incoming, stream
        if warm_up:
            gc.freeze()
            gc.enable()
        else:
            _release_memory()


def _release_memory() -> None:
    """Give what the last call freed back to the system, once its caller has the reply (off the
    run's critical path). Without it the gate worker kept ~450 MB of freed 9M-row chunks in
    glibc's heap through the dbt build that follows, the run's memory peak (docs/performance.md);
    a full collection also clears the reference cycles GX's results form. It scans only what
    the call made: the warm-up's objects are frozen (`serve`)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> None:
    die_with_parent()
    replies = os.fdopen(os.dup(1), "wb")
    # Anything the libraries print goes to stderr, never into the replies.
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)
    replies.flush()
    # Nothing to tear down: the caller has what it needs (see cli.py's console_main). The exit
    # handlers still run: multiprocessing's unlinks the semaphores dbt's parsed project holds,
    # which its resource tracker would otherwise report as leaked.
    atexit._run_exitfuncs()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    # Run as `python -m`, this file is `__main__`; the protocol's classes must be the importable
    # module's, the ones the parent pickles.
    from dagster_project.lib.worker import main as worker_main

    worker_main()
