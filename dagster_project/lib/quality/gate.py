"""Running a stage's Great Expectations checkpoint on a DataFrame, and turning the result into
something a person (and `dq.check_results`) can read.

Why a wrapper of our own: `dagster-ge` only supports Great Expectations < 1.0. This is the small
part it would do: load the committed file context, bind the run's suite parameters, run the
stage's checkpoint on an in-memory DataFrame (GX's SQL datasource on a DuckDB file returns wrong
results today: the connection is released before rows are read, GX issue #11579; pandas is
reliable — docs/performance.md measures what computing the gates in DuckDB would save), and
report failures with the stage, the expectation, the offending values and the rows they came from.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import logging
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dagster_project.lib.quality.suites import (
    DOCS_DIR_VARIABLE,
    EXPECTATIONS_DIR,
    RESULTS_DIR_VARIABLE,
    STAGES,
)

log = logging.getLogger(__name__)

# Offending rows kept per expectation, for messages and dq.check_results.
SAMPLE_SIZE = 20
COLLECT_EVERY = 4


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    severity: str  # "error" blocks, "warn" warns
    observed: Any
    unexpected_count: int | None
    sample: list[Any]
    # Values a set expectation (distinct values equal a set) did not find, and how many.
    missing_count: int | None = None
    missing: list[Any] = field(default_factory=list)


@dataclass
class GateOutcome:
    stage: str
    suite: str
    rows_checked: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warn"]

    @property
    def success(self) -> bool:
        return not self.blocking_failures

    def message(self) -> str:
        failed = [o for o in self.outcomes if not o.success]
        if not failed:
            return (
                f"{self.stage}: {self.suite} passed "
                f"({len(self.outcomes)} expectations, {self.rows_checked} rows)"
            )
        parts = []
        for o in failed:
            where = f" on {o.column}" if o.column else ""
            found = []
            if o.unexpected_count or not o.missing_count:
                sample = json.dumps(o.sample[:5], ensure_ascii=False, default=str)
                found.append(f"{o.unexpected_count or 0} unexpected, e.g. {sample}")
            if o.missing_count:
                missing = json.dumps(o.missing[:5], ensure_ascii=False, default=str)
                found.append(f"{o.missing_count} missing, e.g. {missing}")
            parts.append(f"{o.expectation}{where} ({o.severity}): " + ", ".join(found))
        return f"{self.stage}: {self.suite} failed: " + "; ".join(parts)

    def failing_sample(self) -> list[dict[str, Any]]:
        return [
            {
                "expectation": o.expectation,
                "column": o.column,
                "sample": o.sample[:20],
                **({"missing": o.missing[:20]} if o.missing else {}),
            }
            for o in self.outcomes
            if not o.success
        ]

    def observed(self) -> list[dict[str, Any]]:
        return [
            {
                "expectation": o.expectation,
                "column": o.column,
                "success": o.success,
                "observed": o.observed,
                "unexpected_count": o.unexpected_count,
            }
            for o in self.outcomes
        ]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # GX logs progress bars and usage warnings for every run; they bury the pipeline's own log.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _jsonable(value: Any) -> Any:
    """Plain JSON values; a missing text cell (NaN in pandas' string columns) becomes null."""

    def clean(item: Any) -> Any:
        if isinstance(item, float) and math.isnan(item):
            return None
        if isinstance(item, dict):
            return {k: clean(v) for k, v in item.items()}
        if isinstance(item, list):
            return [clean(v) for v in item]
        return item

    return clean(json.loads(json.dumps(value, default=str)))


@functools.lru_cache(maxsize=4)
def _context(project_root: str, results_dir: str) -> Any:
    """The file context, opened once per process and results folder: the four gates of a run
    share it (opening it reads and validates the whole project, ~0.2 s each time)."""
    os.environ[RESULTS_DIR_VARIABLE] = str(Path(results_dir) / "validations")
    os.environ[DOCS_DIR_VARIABLE] = str(Path(results_dir) / "data_docs")
    import great_expectations as gx

    return gx.get_context(mode="file", project_root_dir=project_root)


def warm(project_root: str, results_dir: str) -> None:
    """Import great_expectations and open the context ahead of the first gate (lib/warm.py)."""
    with _quiet():
        _context(project_root, results_dir)


def run_gate(
    stage: str,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    parameters: Mapping[str, Any] | None,
    results_dir: Path,
    project_root: Path = EXPECTATIONS_DIR,
) -> GateOutcome:
    """Validate a frame, or a frame delivered in chunks (lib/quality/frames.py), with the stage's
    checkpoint; results are stored under `results_dir`.

    Chunks keep memory flat at millions of rows. They must be cut so that every expectation of
    the suite can be judged chunk by chunk (frames.py cuts on each stage's `chunk_key`); the
    outcome of each expectation is then the sum of its chunks' outcomes.
    """
    spec = STAGES[stage]
    results_dir.mkdir(parents=True, exist_ok=True)
    with _quiet():
        checkpoint = _context(str(project_root), str(results_dir)).checkpoints.get(spec.checkpoint)
    outcome = GateOutcome(stage, spec.suite, 0)
    chunks = [frames] if isinstance(frames, pd.DataFrame) else frames
    for done, frame in enumerate(chunks, start=1):
        with _quiet():
            result = checkpoint.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=dict(parameters or {}),
            )
        chunk = [_outcome(item) for v in result.run_results.values() for item in v.results]
        outcome.rows_checked += len(frame)
        outcome.outcomes = _merge(outcome.outcomes, chunk) if outcome.outcomes else chunk
        # GX's result objects form reference cycles that hold on to the chunk; left to the
        # cyclic collector's own pace, a 9M-row gate grew by ~1 GB before it ran. A full
        # collection costs ~0.2 s in a process that has loaded dagster and dbt: one per
        # COLLECT_EVERY chunks bounds the growth to about that many chunks.
        del result, frame
        if done % COLLECT_EVERY == 0:
            gc.collect()
    log.info(outcome.message())
    return outcome


def _outcome(item: Any) -> ExpectationOutcome:
    config = item.expectation_config
    details = item.result or {}
    sample = details.get("unexpected_index_list") or details.get("partial_unexpected_list") or []
    meta = config.meta or {}
    return ExpectationOutcome(
        expectation=config.type,
        column=config.kwargs.get("column")
        or ",".join(str(config.kwargs[k]) for k in ("column_A", "column_B") if k in config.kwargs)
        or None,
        success=bool(item.success),
        severity=meta.get("severity", "error"),
        observed=_jsonable(details.get("observed_value")),
        unexpected_count=details.get("unexpected_count"),
        sample=_jsonable(list(sample)[:SAMPLE_SIZE]),
        missing_count=details.get("missing_count"),
        missing=_jsonable(list(details.get("partial_missing_list") or [])[:SAMPLE_SIZE]),
    )


def _merge(
    so_far: list[ExpectationOutcome], chunk: list[ExpectationOutcome]
) -> list[ExpectationOutcome]:
    """One outcome per expectation over all chunks: it fails if any chunk fails; counts add up;
    the sample and observed value come from the first chunks that failed."""
    merged = []
    for old, new in zip(so_far, chunk, strict=True):
        counts = [c for c in (old.unexpected_count, new.unexpected_count) if c is not None]
        merged.append(
            ExpectationOutcome(
                expectation=old.expectation,
                column=old.column,
                success=old.success and new.success,
                severity=old.severity,
                observed=old.observed if not old.success or new.success else new.observed,
                unexpected_count=sum(counts) if counts else None,
                sample=(old.sample + new.sample)[:SAMPLE_SIZE],
                # Set expectations judge a whole frame (suites.py): never summed over chunks.
                missing_count=old.missing_count if not old.success else new.missing_count,
                missing=old.missing if not old.success else new.missing,
            )
        )
    return merged
