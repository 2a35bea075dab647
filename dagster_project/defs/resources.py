"""Resources shared by every stage: where the inputs and outputs are, and the dbt CLI."""

import fcntl
import sys
import time
from pathlib import Path
from typing import IO, Any

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.defs.transform.project import dbt_project
from dagster_project.lib.paths import Paths


class PlanTrackerSettings(dg.ConfigurableResource):
    """The two roots that move every input and output (PLAN_TRACKER_RAW_DIR and
    PLAN_TRACKER_WAREHOUSE_DIR). Relative paths are taken from the directory Dagster runs in."""

    raw_dir: str
    warehouse_dir: str
    max_xlsx_bytes: int = 200 * 1024 * 1024

    @property
    def paths(self) -> Paths:
        return Paths.from_dirs(self.raw_dir, self.warehouse_dir)


# The one concurrency pool every DuckDB writer runs in (limit 1 in the instance's dagster.yaml).
DUCKDB_POOL = "duckdb_writer"


class PipelineLock(dg.ConfigurableResource):
    """An exclusive lock on the warehouse folder, held from the start to the end of a run, so two
    runs (from `make run`, the schedule, the sensor or the UI) are serialised, never interleaved.
    The jobs run in one process, so the lock is taken once per run. Another run waits for it."""

    warehouse_dir: str
    _handle: Any = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        paths = Paths.from_dirs(".", self.warehouse_dir)
        paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
        handle: IO[str] = paths.lock_file.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if context.log:
                context.log.warning(f"another run holds {paths.lock_file}; waiting for it to end")
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            if context.log:
                context.log.info(f"lock acquired after {time.monotonic() - started:.1f}s")
        self._handle = handle
        self._free_slots_of_dead_runs(context)

    def _free_slots_of_dead_runs(self, context: dg.InitResourceContext) -> None:
        """A run killed mid-step (SIGKILL, power loss) never returns its pool slot, and the next
        run would wait for it forever. Holding the lock proves no other run of this warehouse is
        executing steps (a live run takes the lock before its first step), so any other run that
        still holds a slot is dead: give the slot back and mark that run failed."""
        instance = context.instance
        run = context.dagster_run
        if instance is None or run is None:
            return
        info = instance.event_log_storage.get_concurrency_info(DUCKDB_POOL)
        for run_id in info.active_run_ids - {run.run_id}:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            dead = instance.get_run_by_id(run_id)
            if dead is not None and not dead.is_finished:
                instance.report_run_failed(
                    dead, "the run's process died; its DuckDB pool slot was released"
                )
            if context.log:
                context.log.warning(f"released the pool slot of run {run_id}, which had died")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "settings": PlanTrackerSettings(
                raw_dir=dg.EnvVar("PLAN_TRACKER_RAW_DIR"),
                warehouse_dir=dg.EnvVar("PLAN_TRACKER_WAREHOUSE_DIR"),
                max_xlsx_bytes=dg.EnvVar.int("PLAN_TRACKER_MAX_XLSX_BYTES"),
            ),
            "pipeline_lock": PipelineLock(warehouse_dir=dg.EnvVar("PLAN_TRACKER_WAREHOUSE_DIR")),
            # The dbt project and profiles the in-process build uses (defs/transform/assets.py);
            # the executable beside this interpreter, for dagster-dbt's own calls.
            "dbt": DbtCliResource(
                project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))
            ),
        }
    )
