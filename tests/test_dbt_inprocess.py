"""dbt in the pipeline's process (lib/dbt_inprocess.py): node results stream as they finish, a
failure is reported with the node and dbt's message, and the database is released after."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb

from dagster_project.lib.dbt_inprocess import DbtRun, stream_dbt


def _project(root: Path, database: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: probe\nversion: '1.0'\nconfig-version: 2\nprofile: probe\n", encoding="utf-8"
    )
    (root / "profiles.yml").write_text(
        textwrap.dedent(
            f"""
            probe:
              target: local
              outputs:
                local: {{type: duckdb, path: "{database}", threads: 1}}
            """
        ),
        encoding="utf-8",
    )
    (root / "models" / "good.sql").write_text("select 1 as n", encoding="utf-8")
    (root / "models" / "broken.sql").write_text("select * from no_such_table", encoding="utf-8")
    return root


def _args(project: Path) -> list[str]:
    target = project / "target"
    return [
        *("build", "--project-dir", str(project), "--profiles-dir", str(project)),
        *("--target-path", str(target), "--log-path", str(target)),
    ]


def test_results_stream_and_a_failure_names_the_node(tmp_path: Path) -> None:
    database = tmp_path / "probe.duckdb"
    project = _project(tmp_path / "probe", database)
    run = DbtRun(_args(project))
    events = list(stream_dbt(run.args, run))
    finished = {e["data"]["node_info"]["unique_id"]: e["info"]["name"] for e in events}
    assert finished == {
        "model.probe.good": "LogModelResult",
        "model.probe.broken": "LogModelResult",
    }
    assert not run.success
    (failure,) = run.failures
    assert failure.startswith("model.probe.broken: error: ")
    assert "no_such_table" in failure
    # dbt let go of the file: another configuration can open it (DuckDB refuses while open).
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select n from main.good").fetchall() == [(1,)]


def test_a_successful_build(tmp_path: Path) -> None:
    project = _project(tmp_path / "probe", tmp_path / "ok.duckdb")
    (project / "models" / "broken.sql").unlink()
    run = DbtRun(_args(project))
    assert [e["info"]["name"] for e in stream_dbt(run.args, run)] == ["LogModelResult"]
    assert run.success and not run.failures and run.exception is None


def test_a_project_dbt_cannot_load_is_an_error_not_a_result(tmp_path: Path) -> None:
    project = _project(tmp_path / "probe", tmp_path / "x.duckdb")
    (project / "dbt_project.yml").write_text("name: [not, a, name]\n", encoding="utf-8")
    run = DbtRun(_args(project))
    assert list(stream_dbt(run.args, run)) == []
    assert not run.success and run.exception is not None
