"""What code built a warehouse: the git commit when there is one, else the package version."""

from __future__ import annotations

import functools
import hashlib
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def code_version() -> str:
    try:
        package = version("plan-tracker")
    except PackageNotFoundError:
        package = "unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package
    return f"{package}+{commit}"


def _files(roots: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(p for p in root.rglob("*") if p.is_file())
    return sorted(found)


def files_digest(roots: Mapping[Path, Sequence[str]]) -> str:
    """A digest of the files (and folders, recursively) named under each base folder: their paths
    relative to the base and their contents, so that a copy of the same files elsewhere is the
    same."""
    digest = hashlib.sha256()
    for base, names in roots.items():
        for path in _files(base / name for name in names):
            digest.update(path.relative_to(base).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
