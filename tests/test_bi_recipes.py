"""The connection recipes of docs/bi.md, as BI tools use them, on the published warehouse."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from dagster_project.lib.exports import HISTORY_MARTS

pytestmark = pytest.mark.slow

MARTS = [
    "dim_plan",
    "dim_action",
    "dim_geography",
    "dim_indicator",
    "fct_target",
    "fct_actual",
    "fct_actual_history",
    "fct_target_vs_actual",
    "fct_report_completeness",
    "fct_target_contribution",
    "scorecard_plan",
    "scorecard_action",
    "scorecard_geography",
    "publish_log",
    "target_status_log",
]


def test_sqlalchemy_duckdb_engine_read_only_queries_every_mart(bundled_warehouse: Path) -> None:
    path = (bundled_warehouse / "plan_tracker.duckdb").resolve()
    engine = create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
    with engine.connect() as con:
        for mart in MARTS:
            count = con.execute(text(f"select count(*) from marts.{mart}")).scalar()
            assert count is not None and count > 0, mart
    engine.dispose()


def test_python_read_only_connection_cannot_write(bundled_warehouse: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.scorecard_plan").fetchone() == (2,)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("create table marts.x (a int)")


def test_every_mart_is_exported_as_parquet(bundled_warehouse: Path) -> None:
    exports = bundled_warehouse / "exports"
    for mart in MARTS:
        if mart in HISTORY_MARTS:  # a folder of files by geography, read as one table
            files = f"read_parquet('{exports / mart}/*.parquet')"
            assert len(pd.read_parquet(exports / mart)) == _count(bundled_warehouse, mart), mart
        else:
            files = f"read_parquet('{exports / mart}.parquet')"
        assert duckdb.execute(f"select count(*) from {files}").fetchall()[0][0] == _count(
            bundled_warehouse, mart
        ), mart


def _count(warehouse: Path, mart: str) -> int:
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        return int(con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0])


@pytest.mark.skipif(shutil.which("duckdb") is None, reason="the DuckDB CLI is not installed")
def test_duckdb_cli_read_only(bundled_warehouse: Path) -> None:
    result = subprocess.run(
        [
            "duckdb",
            "-readonly",
            str(bundled_warehouse / "plan_tracker.duckdb"),
            "select count(*) from marts.fct_target",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "24" in result.stdout
