"""The prepared dbt manifest (dbt/target/manifest.json), from which Dagster's definitions make
the dbt assets and checks, kept in step with the dbt project for runs started without `make`.

`make setup` parses the project again whenever a file of it is newer than the manifest. A run
started as `plan-tracker run` after an edit or a `git pull` skipped that: its definitions came
from the old manifest while dbt built the new project, and the build failed on a node Dagster did
not know (`KeyError: 'test.plan_tracker…'`). The same check here, with make's rule (file times),
parses into a folder of its own and moves the files in whole, so that a run reading them never
sees them half written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_project.lib.paths import DBT_DIR

# What `make setup` watches (the Makefile's DBT_SOURCES): the project's SQL, YAML and Markdown,
# outside dbt's own output folders.
SOURCE_SUFFIXES = (".sql", ".yml", ".md")
SKIPPED_FOLDERS = ("target", "logs", "dbt_packages")
PREPARED = ("manifest.json", "partial_parse.msgpack")


def stale_sources(dbt_dir: Path = DBT_DIR) -> list[Path]:
    """The project's files newer than its prepared manifest (every file if there is none)."""
    manifest = dbt_dir / "target" / "manifest.json"
    prepared_at = manifest.stat().st_mtime if manifest.exists() else float("-inf")
    return sorted(
        path
        for path in dbt_dir.rglob("*")
        if path.suffix in SOURCE_SUFFIXES
        and path.relative_to(dbt_dir).parts[0] not in SKIPPED_FOLDERS
        and path.is_file()
        and path.stat().st_mtime > prepared_at
    )


def prepare_manifest(dbt_dir: Path = DBT_DIR) -> list[Path]:
    """Parse the project again if it changed since its manifest was prepared; returns the
    changed files (none: nothing done). Raises CalledProcessError if dbt cannot parse it."""
    changed = stale_sources(dbt_dir)
    if not changed:
        return []
    target = dbt_dir / "target"
    target.mkdir(exist_ok=True)
    # As `make setup` parses: the profile's default database path (dbt keeps a saved parse only
    # for the same connection settings; lib/warm.py starts from this one).
    env = {k: v for k, v in os.environ.items() if k != "PLAN_TRACKER_WORK_DB"}
    with tempfile.TemporaryDirectory(dir=target, prefix="prepare_") as scratch:
        subprocess.run(
            [
                str(Path(sys.executable).with_name("dbt")),
                "parse",
                "--quiet",
                "--target-path",
                scratch,
                "--log-path",
                scratch,
            ],
            cwd=dbt_dir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        for name in PREPARED:
            (Path(scratch) / name).replace(target / name)
    return changed


def dbt_error(error: subprocess.CalledProcessError) -> str:
    """What dbt said when it could not parse the project, for the run's message."""
    text = (error.stdout or "") + (error.stderr or "")
    return text.strip()[-2000:] or f"dbt parse exited with {error.returncode}"
