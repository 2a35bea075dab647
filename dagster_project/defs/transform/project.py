"""The dbt project. Its manifest is prepared at set-up (`make setup` runs `dbt parse`); only
`dagster dev` re-parses it on load, so production imports stay fast."""

from dagster_dbt import DbtProject

from dagster_project.lib.paths import DBT_DIR

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
dbt_project.prepare_if_dev()
