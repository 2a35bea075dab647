"""Resources shared by every stage: where the inputs and outputs are, and the dbt CLI."""

import sys
from pathlib import Path

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


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "settings": PlanTrackerSettings(
                raw_dir=dg.EnvVar("PLAN_TRACKER_RAW_DIR"),
                warehouse_dir=dg.EnvVar("PLAN_TRACKER_WAREHOUSE_DIR"),
                max_xlsx_bytes=dg.EnvVar.int("PLAN_TRACKER_MAX_XLSX_BYTES"),
            ),
            # The dbt beside this interpreter, whether or not the environment is activated.
            "dbt": DbtCliResource(
                project_dir=dbt_project, dbt_executable=str(Path(sys.executable).with_name("dbt"))
            ),
        }
    )
