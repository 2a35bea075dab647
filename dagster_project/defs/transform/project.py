"""The dbt project. Its manifest is prepared at set-up (`make setup` runs `dbt parse`); only
`dagster dev` re-parses it on load, so production imports stay fast."""

import os
from pathlib import Path

from dagster_dbt import DbtProject

from dagster_project.lib.paths import DBT_DIR

# `dagster dev` (`make ui`) parses the project again on every load of the definitions, writing
# manifest.json and partial_parse.msgpack as it goes. Into dbt/target, a run started meanwhile by
# cron or by hand (`make run`) could read them half written (a run failed on a truncated
# manifest.json while the UI test parsed). Under `dagster dev` they go to dbt/target/dev instead;
# dbt/target stays what `make setup` prepared. (dagster-dbt's own test of the same variable is
# not public API.)
TARGET_PATH = Path("target/dev") if os.getenv("DAGSTER_IS_DEV_CLI") else Path("target")

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=TARGET_PATH)
dbt_project.prepare_if_dev()
