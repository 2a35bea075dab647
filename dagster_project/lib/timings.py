"""Where a run's time went, in one line: printed at the end of `plan-tracker run` and read back by
`make bench` (scripts/bench.py), which reports each figure's parts.

Dagster keeps every step's duration (its STEP_SUCCESS event); the UI shows them for recorded
runs, but `plan-tracker run` keeps its events in memory (cli.py), so without this line its step
times were only in DEBUG logs. The steps that materialise an asset are named by their step key
(the dbt build is `plan_tracker_dbt`, the publication `warehouse__published`); the steps that only
evaluate asset checks (the GX gates, the accounting check) are added up as `checks`; `start` is
the rest of the run's time: the process's start, imports and definitions, and the job's set-up.
Dagster gives no duration for a step that failed: in a failed run the rest is `start and failed
steps`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PREFIX = "time:"
START = "start"
START_AND_FAILED = "start and failed steps"
CHECKS = "checks"
_PART = re.compile(r"^(?P<name>.+?) (?P<seconds>\d+(?:\.\d+)?)s(?: \((?P<steps>\d+) steps?\))?$")


@dataclass(frozen=True)
class RunTimes:
    # Seconds of each part, in the order the steps ended: `start` first, `checks` last.
    parts: dict[str, float]
    check_steps: int = 0

    def line(self) -> str:
        """`time: start 2.1s · plan_catalog 0.2s · … · checks 1.4s (4 steps)`."""
        shown = []
        for name, seconds in self.parts.items():
            text = f"{name} {seconds:.1f}s"
            if name == CHECKS:
                text += f" ({self.check_steps} step{'' if self.check_steps == 1 else 's'})"
            shown.append(text)
        return f"{PREFIX} " + " · ".join(shown)


def run_times(events: Iterable[Any], elapsed: float) -> RunTimes:
    """Each part of a run from its Dagster events (`result.all_events`); `elapsed` is the run's
    whole time. A step that failed has no duration: it counts in the remainder, then named
    `start and failed steps`."""
    materialised: set[str] = set()
    durations: dict[str, float] = {}
    failed = False
    for event in events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialised.add(event.step_key)
        elif event.event_type_value == "STEP_SUCCESS":
            durations[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type_value == "STEP_FAILURE":
            failed = True
    rest = START_AND_FAILED if failed else START
    parts = {rest: max(elapsed - sum(durations.values()), 0.0)}
    parts.update((key, seconds) for key, seconds in durations.items() if key in materialised)
    checks = [seconds for key, seconds in durations.items() if key not in materialised]
    if checks:
        parts[CHECKS] = sum(checks)
    return RunTimes(parts, len(checks))


def parse_line(printed: str) -> RunTimes | None:
    """The run times of the `time:` line in a run's printed output; None if there is none."""
    for line in printed.splitlines():
        if not line.startswith(PREFIX):
            continue
        parts: dict[str, float] = {}
        check_steps = 0
        for text in line[len(PREFIX) :].strip().split(" · "):
            match = _PART.match(text)
            if match is None:
                raise ValueError(f"not a part of a run's time line: {text!r} in {line!r}")
            parts[match["name"]] = float(match["seconds"])
            if match["steps"]:
                check_steps = int(match["steps"])
        return RunTimes(parts, check_steps)
    return None
