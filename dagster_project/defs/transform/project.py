"""The dbt project. Its manifest is prepared at set-up (`make setup` runs `dbt parse`); only
`dagster dev` re-parses it on load, so production imports stay fast."""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
dbt_project.prepare_if_dev()
