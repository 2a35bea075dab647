"""Functions the test worker runs (tests/test_worker.py): they must be importable by name in the
worker process."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path


def made(folder: Path, count: int) -> Iterator[int]:
    """Items 0..count-1, each leaving a mark in `folder` when it is made; the end leaves one too."""
    for item in range(count):
        (folder / f"made_{item}").touch()
        yield item
    (folder / f"made_{count}").touch()


def next_marked_while_holding_each(items: Iterable[int], folder: str, mark: str) -> list[bool]:
    """For each item: did the one after it leave its mark (`made_<n>`, `received_<n>`) while this
    one was still being worked on? Waits up to 5 s for it (a caller that does not read ahead,
    or a worker that asks only when it wants the next item, never leaves it meanwhile)."""
    seen = []
    for item in items:
        path = Path(folder) / f"{mark}_{item + 1}"
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(path.exists())
    return seen


_warm_up_collector: bool | None = None


def warm_up() -> None:
    """A warm-up that notes whether the cyclic garbage collector ran while it worked."""
    global _warm_up_collector
    import gc

    _warm_up_collector = gc.isenabled()
    # Something long-lived, as an import or a parse leaves behind.
    globals()["_kept"] = [{"n": n} for n in range(1000)]


def collector_state() -> tuple[bool | None, bool, int]:
    """(collector on during the warm-up, collector on now, objects frozen)."""
    import gc

    return _warm_up_collector, gc.isenabled(), gc.get_freeze_count()


def _received(folder: str, item: int) -> int:
    (Path(folder) / f"received_{item}").touch()
    return item


class Marked:
    """An item that leaves a mark in `folder` when it is unpickled: when the worker has received
    it."""

    def __init__(self, folder: str, item: int):
        self.folder, self.item = folder, item

    def __reduce__(self) -> tuple[object, tuple[str, int]]:
        return _received, (self.folder, self.item)
