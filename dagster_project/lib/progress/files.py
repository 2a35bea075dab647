"""Finding progress files, hashing them, and reading CSV text whatever its encoding."""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ProgressFile:
    path: Path  # absolute path as found (may be a symlink)
    relative: str  # path relative to the raw folder, as stored in lineage
    size: int
    mtime_ns: int


def discover(raw_dir: Path) -> Iterator[ProgressFile]:
    """Every file under raw/progress/, at any depth, in a stable order. Hidden files and Office
    lock files (`~$report.xlsx`) are skipped; everything else is reported, so that an unsupported
    or unsafe file shows up in the manifest rather than vanishing."""
    root = raw_dir / "progress"
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith((".", "~$")) for part in rel_parts):
            continue
        if path.is_dir() and not path.is_symlink():
            continue
        try:
            stat = path.lstat()
        except OSError:
            continue
        yield ProgressFile(
            path, path.relative_to(raw_dir).as_posix(), stat.st_size, stat.st_mtime_ns
        )


def unsafe_reason(file: ProgressFile, raw_dir: Path) -> str | None:
    """Why a path must not be read: a link (or a path) that leads outside the raw folder, or
    something that is not a regular file."""
    try:
        target = file.path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "a broken or looping link"
    if raw_dir.resolve() not in target.parents:
        return "a link that leads outside the raw folder"
    if not target.is_file():
        return "not a regular file"
    return None


def modified_at(file: ProgressFile) -> dt.datetime:
    """The file's modification time as raw.file_manifest records it (microseconds, UTC)."""
    return dt.datetime.fromtimestamp(file.mtime_ns / 1e9, dt.UTC)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class EncodingError(ValueError):
    pass


def detect_encoding(path: Path) -> str:
    """The text encoding of a CSV file, decided from its bytes (never from its name):
    a BOM if there is one, else UTF-8 if the whole file decodes strictly as UTF-8, else GB18030
    (a superset of GBK and GB2312) if it does. NUL bytes mean binary content, not text."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    if b"\x00" in chunk:
                        raise EncodingError("the file contains NUL bytes: binary data, not text")
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise EncodingError(
        "the text is neither UTF-8 nor GBK/GB18030; save the file as UTF-8 (CSV UTF-8 in Excel)"
    )


def contains_byte(path: Path, needle: bytes) -> bool:
    """Whether the file contains `needle` anywhere (streamed)."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if needle in tail + chunk[: len(needle) - 1] or needle in chunk:
                return True
            tail = chunk[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> None:
    """Write `path` as UTF-8 (without BOM) to `target`, streaming."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(_CHUNK):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))


def tail_lines(path: Path, encoding: str, size: int = 65536) -> list[str]:
    """The whole lines of a text file's last `size` bytes (for finding the footer below its
    table); the first line read is dropped when it may have begun before them."""
    with path.open("rb") as handle:
        start = max(handle.seek(0, io.SEEK_END) - size, 0)
        handle.seek(start)
        text = handle.read().decode(encoding, errors="replace")
    lines = text.splitlines(keepends=True)
    return lines[1:] if start else lines


def head_lines(path: Path, encoding: str, count: int) -> list[str]:
    """The first `count` lines of a text file (for finding its header and delimiter)."""
    lines: list[str] = []
    with path.open(encoding=encoding, newline="") as handle:
        for line in handle:
            lines.append(line)
            if len(lines) >= count:
                break
    return lines
