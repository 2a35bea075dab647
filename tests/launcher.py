"""A launcher of `plan-tracker` runs for the test suite: one process per pytest worker imports
dagster, dbt and great_expectations once, then forks each run from itself.

Why: a run started as a new process spends ~10 of its ~18 CPU-seconds importing them, in its own
process and its two warm workers (lib/warm.py); the suite runs the pipeline ~60 times on two
cores, and was CPU-bound at ~10 minutes (docs/performance.md, "The test suite's time"). A forked
run is still a process of its own, started from the state right after those imports: its
environment, arguments, working folder, stdout and stderr are the ones asked for, its workers are
forked from it (lib/warm.py `fork_workers`), and `plan-tracker run`
does all the rest as it does from the command line. The command itself, imports and all, still
runs as a new process where that is what a test is about (tests/conftest.py: `fresh=True`; the
session's bundled warehouse; tests/test_reliability.py, tests/test_cli.py).

The protocol, over a Unix socket: a request is one JSON line (argv, env, cwd, stdout and stderr
file paths); the reply is the run's pid on a line as it starts, then its exit code on a line as it
ends. Nothing in this process runs a thread or opens a database, so each fork starts clean.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from dagster_project.lib.paths import DBT_DIR


def _preload() -> None:
    """What every run imports, in the order `plan-tracker run` imports it (dagster-dbt without
    dbt-core's modules, cli.py), then its workers' libraries."""
    gc.disable()
    import dagster  # noqa: F401

    from dagster_project import cli

    cli.import_dagster_dbt_without_dbt_core()
    import dagster_project.definitions

    # The definitions' modules (dagster-dbt's assets read the prepared manifest as they load;
    # `Launcher` starts a new launcher when it changes). The definitions themselves are made
    # again by each run, which reads its configuration from its environment when it executes.
    dagster_project.definitions.defs()
    import dagster_project.lib.dbt_inprocess
    import dagster_project.lib.quality.gate
    import dagster_project.lib.summary

    # dbt's tracker (snowplow_tracker) calls logging.basicConfig on import: in a run's own
    # process, where dbt is never imported, the root logger has no handler, and Dagster's
    # records below the level asked for would print to stderr through it.
    root = logging.getLogger()
    handlers = list(root.handlers)
    import dbt.cli.main  # noqa: F401
    import great_expectations  # noqa: F401

    root.handlers[:] = handlers
    from dagster_project.lib import warm

    warm.fork_workers()  # each run's, in its own process forked from here
    gc.freeze()
    gc.enable()


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _run(conn: socket.socket, request: dict[str, Any]) -> None:
    """In the forked child: become the run asked for, report its exit code, end."""
    code = 1
    try:
        os.setsid()  # its own process group: a timed-out run is killed with its workers
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["plan-tracker", *request["argv"]]
        conn.sendall(f"{os.getpid()}\n".encode())
        from dagster_project import cli

        code = cli.main(request["argv"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        # As `plan-tracker` ends (cli.console_main), its exit code told first.
        with contextlib.suppress(BaseException):
            from dagster_project import cli

            cli.before_exit()
        with contextlib.suppress(OSError):
            conn.sendall(f"{code}\n".encode())
        os._exit(code)


def serve(address: str) -> None:
    from dagster_project.lib.worker import die_with_parent

    die_with_parent()  # the test process that started it
    _preload()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(address)
    server.listen()
    # The runs are reaped by the system; each one's child is told SIGCHLD's default back.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = server.accept()
        with conn:
            request = json.loads(_read_line(conn))
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                server.close()
                _run(conn, request)


class Launcher:
    """The launcher process, started on first use; `run` is `subprocess.run` of `plan-tracker`."""

    def __init__(self, folder: Path, manifest: Path = DBT_DIR / "target" / "manifest.json"):
        self.address = str(folder / "launcher.sock")
        self.folder = folder
        self.manifest = manifest
        self._process: subprocess.Popen[str] | None = None
        self._manifest: int | None = None
        self._lock = threading.Lock()

    def _manifest_version(self) -> int | None:
        return self.manifest.stat().st_mtime_ns if self.manifest.exists() else None

    def _needs_start(self) -> bool:
        """No launcher running, or one whose definitions were made from another manifest."""
        return (
            self._process is None
            or self._process.poll() is not None
            or self._manifest != self._manifest_version()
        )

    def _start(self) -> None:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._manifest = self._manifest_version()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.launcher", self.address],
            cwd=Path(__file__).resolve().parents[1],
            # A run's output is read back as UTF-8, whatever the locale.
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            # Not the test process's input: a pytest-xdist worker's is its channel to pytest.
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError(
                f"the test launcher did not start (exit code {self._process.wait()})"
            )

    def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, timeout: float
    ) -> subprocess.CompletedProcess[str]:
        with self._lock:
            if self._needs_start():
                self._start()
        out = self.folder / f"run-{time.monotonic_ns()}"
        stdout_path, stderr_path = out.with_suffix(".out"), out.with_suffix(".err")
        request = {
            "argv": argv,
            "env": env,
            "cwd": str(cwd),
            "stdout": str(stdout_path),
            "stderr": str(stderr_path),
        }
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(self.address)
            conn.sendall(json.dumps(request).encode() + b"\n")
            conn.settimeout(timeout)
            replies = conn.makefile("rb")
            pid = int(replies.readline())
            try:
                # An empty line: the run ended without saying how (killed).
                code = int(replies.readline() or -1)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(argv, timeout) from None
        stdout = stdout_path.read_text(encoding="utf-8", errors="replace")
        stderr = stderr_path.read_text(encoding="utf-8", errors="replace")
        stdout_path.unlink()
        stderr_path.unlink()
        return subprocess.CompletedProcess(["plan-tracker", *argv], code, stdout, stderr)

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1])
