"""lib/dbt_prepare.py: a run started without `make` prepares the dbt manifest again when the
project changed, as `make setup` does, and says so; a project dbt cannot parse stops it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dagster_project.lib.dbt_prepare import dbt_error, prepare_manifest, stale_sources
from dagster_project.lib.paths import DBT_DIR


def _touch(path: Path, mtime: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (mtime, mtime))
    return path


def test_stale_sources_are_the_project_s_files_newer_than_its_manifest(tmp_path: Path) -> None:
    _touch(tmp_path / "target" / "manifest.json", 1000)
    newer = _touch(tmp_path / "models" / "marts" / "m.sql", 2000)
    _touch(tmp_path / "models" / "old.yml", 500)
    _touch(tmp_path / "macros" / "notes.txt", 2000)  # not a source of the project
    _touch(tmp_path / "target" / "compiled.sql", 2000)  # dbt's own output
    _touch(tmp_path / "logs" / "x.md", 2000)
    assert stale_sources(tmp_path) == [newer]
    (tmp_path / "target" / "manifest.json").unlink()
    assert stale_sources(tmp_path) == [
        tmp_path / "models" / "marts" / "m.sql",
        tmp_path / "models" / "old.yml",
    ]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt"
    shutil.copytree(
        DBT_DIR, copy, ignore=shutil.ignore_patterns("logs", "dbt_packages", "prepare_*", "dev")
    )
    return copy


@pytest.mark.slow
def test_a_changed_project_is_parsed_again_and_then_left_alone(project: Path) -> None:
    manifest = project / "target" / "manifest.json"
    model = project / "models" / "marts" / "_marts__fct_target.yml"
    _touch(manifest, 1000)
    os.utime(model, (2000, 2000))
    # Every other file older than the manifest: only the edit counts.
    for path in stale_sources(project):
        if path != model:
            os.utime(path, (500, 500))
    assert prepare_manifest(project) == [model]
    assert manifest.stat().st_mtime > 2000 and manifest.read_text(encoding="utf-8").startswith("{")
    assert not list((project / "target").glob("prepare_*"))
    assert prepare_manifest(project) == []


@pytest.mark.slow
def test_a_project_dbt_cannot_parse_says_where(project: Path) -> None:
    broken = project / "models" / "marts" / "_broken.yml"
    broken.write_text("version: 2\nmodels:\n  - name: [unclosed\n", encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError) as info:
        prepare_manifest(project)
    assert "_broken.yml" in dbt_error(info.value)
