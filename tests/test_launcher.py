"""The test launcher (tests/launcher.py): a command forked from it runs with the environment,
arguments and working folder asked for, nothing of an earlier one's, and says how it ended."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, _launch, pipeline_env
from tests.launcher import Launcher


def test_a_launched_command_has_its_own_environment_and_exit_code(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    env = pipeline_env(tmp_path / "raw", warehouse)
    first = _launch(["instance"], env, timeout=60)
    assert (first.returncode, first.stdout) == (0, f"{warehouse / 'dagster_home'}\n")
    # The next one has nothing of it: without the variable, the default folder, under the
    # working folder.
    env.pop("PLAN_TRACKER_WAREHOUSE_DIR")
    second = _launch(["instance"], env, timeout=60)
    assert second.stdout == f"{REPO / 'warehouse' / 'dagster_home'}\n"
    # A command that fails says so by its exit code, its output read back whole.
    missing = _launch(["explain", "ezhou"], pipeline_env(tmp_path / "raw", warehouse), timeout=60)
    assert missing.returncode == 1
    assert missing.stdout.startswith(f"no published warehouse at {warehouse}")
    # A wrong argument: argparse's exit, its message on stderr.
    wrong = _launch(["no-such-command"], env, timeout=60)
    assert wrong.returncode == 2
    assert "invalid choice: 'no-such-command'" in wrong.stderr


def test_a_launched_run_past_its_time_is_stopped(tmp_path: Path) -> None:
    env = pipeline_env(REPO / "raw", tmp_path / "warehouse")
    with pytest.raises(subprocess.TimeoutExpired):
        _launch(["run"], env, timeout=0.5)
    # The launcher serves the next command.
    assert _launch(["instance"], env, timeout=60).returncode == 0


def test_a_new_launcher_starts_when_the_dbt_manifest_changes(tmp_path: Path) -> None:
    # The launcher's definitions were made from the manifest as it was when it started.
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}", encoding="utf-8")
    launcher = Launcher(tmp_path / "launcher", manifest=manifest)
    assert launcher._needs_start()  # none started
    # One running (a stand-in process), started with the manifest as it is.
    launcher._process = subprocess.Popen(["sleep", "60"], text=True)
    launcher._manifest = launcher._manifest_version()
    try:
        assert not launcher._needs_start()
        os.utime(manifest, ns=(0, manifest.stat().st_mtime_ns + 1))
        assert launcher._needs_start()
        launcher._manifest = launcher._manifest_version()
        assert not launcher._needs_start()
        launcher._process.kill()
        launcher._process.wait()
        assert launcher._needs_start()  # it ended
    finally:
        launcher.close()
