"""`make ui`'s command answers on 127.0.0.1 only and lists the schedule and the sensors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, pipeline_env

pytestmark = pytest.mark.slow

QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name schedules { name scheduleState { status } } sensors { name sensorState { status } }
} } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(pids: set[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                addresses.add(fields[1].split(":")[0])
    return addresses


def _process_tree(root: int) -> set[int]:
    pids = {root}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = int(
                next(
                    ln for ln in status.read_text().splitlines() if ln.startswith("PPid:")
                ).split()[1]
            )
        except (OSError, StopIteration, ValueError):
            continue
        if ppid in pids or ppid == root:
            pids.add(int(status.parent.name))
    return pids


def test_ui_serves_on_loopback_with_schedule_and_sensors(tmp_path: Path) -> None:
    port = _free_port()
    env = pipeline_env(REPO / "raw", tmp_path / "warehouse")
    home = tmp_path / "warehouse" / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env["DAGSTER_HOME"] = str(home)
    env["PLAN_TRACKER_MAX_XLSX_BYTES"] = "209715200"
    # As `make ui` does: `dagster dev` re-parses the dbt project with the dbt on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    dagster = Path(sys.executable).with_name("dagster")
    log = tmp_path / "dagster_dev.log"
    # ... into dbt/target/dev: the manifest `make run` reads stays as `make setup` prepared it,
    # never half written under a run that a schedule or a person starts meanwhile.
    prepared = REPO / "dbt" / "target" / "manifest.json"
    prepared_stamp = prepared.stat().st_mtime_ns
    with log.open("wb") as output:
        proc = subprocess.Popen(
            [
                str(dagster),
                "dev",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "-m",
                "dagster_project.definitions",
            ],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        data = None
        while time.monotonic() < deadline:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps({"query": QUERY}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                data = json.loads(urllib.request.urlopen(request, timeout=5).read())
                if data.get("data", {}).get("repositoriesOrError", {}).get("nodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data, "the UI never answered"
        (repo,) = data["data"]["repositoriesOrError"]["nodes"]
        assert {s["name"] for s in repo["schedules"]} == {"daily_refresh_schedule"}
        assert {"progress_folder_sensor", "run_failure_log_sensor"} <= {
            s["name"] for s in repo["sensors"]
        }
        addresses = _listening_addresses(_process_tree(proc.pid))
        assert addresses, "no listening socket found"
        loopback = {"0100007F", "00000000000000000000000001000000"}
        assert addresses <= loopback, addresses
        # The location is registered under the name the project declares (pyproject.toml), so
        # loading it does not warn of a mismatch (it did at every load, dozens of times a minute).
        assert "does not match the name" not in log.read_text(encoding="utf-8", errors="replace")
        assert (REPO / "dbt" / "target" / "dev" / "manifest.json").stat().st_mtime_ns > (
            prepared_stamp
        )
        assert prepared.stat().st_mtime_ns == prepared_stamp
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
