"""Where every input and output lives. Two roots move everything: the raw folder (inputs) and the
warehouse folder (every file the pipeline writes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PUBLISHED_NAME = "plan_tracker.duckdb"
REPO_DIR = Path(__file__).resolve().parents[2]
DBT_DIR = REPO_DIR / "dbt"
EXPECTATIONS_DIR = REPO_DIR / "expectations"


@dataclass(frozen=True)
class Paths:
    raw_dir: Path
    warehouse_dir: Path

    @classmethod
    def from_dirs(cls, raw_dir: str | Path, warehouse_dir: str | Path) -> Paths:
        """Relative paths are taken from the current directory and made absolute once, so that
        dbt (which runs in its own folder) and Dagster agree on every location."""
        return cls(Path(raw_dir).expanduser().resolve(), Path(warehouse_dir).expanduser().resolve())

    @property
    def work_dir(self) -> Path:
        return self.warehouse_dir / "work"

    @property
    def work_db(self) -> Path:
        """The private file every run builds into; never opened by readers."""
        return self.work_dir / PUBLISHED_NAME

    @property
    def published_db(self) -> Path:
        """The immutable copy readers open; replaced only by an atomic rename."""
        return self.warehouse_dir / PUBLISHED_NAME

    @property
    def exports_dir(self) -> Path:
        return self.warehouse_dir / "exports"

    @property
    def report_dir(self) -> Path:
        return self.warehouse_dir / "report"

    @property
    def templates_dir(self) -> Path:
        return self.warehouse_dir / "templates"

    @property
    def docs_dir(self) -> Path:
        return self.warehouse_dir / "docs"

    @property
    def bench_dir(self) -> Path:
        return self.warehouse_dir / "bench"

    @property
    def lock_file(self) -> Path:
        return self.warehouse_dir / ".pipeline.lock"

    def ensure(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)


def write_atomically(target: Path, write: Callable[[Path], object]) -> Path:
    """Have `write` make a file beside `target`, then rename it over `target`: a reader (a
    browser, Excel, a file share) sees the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}{target.suffix}")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
