"""Incremental dbt builds (dbt/macros/incremental.sql, lib/dbt_state.py): a run with new reports
rebuilds only the geography × indicator pairs they touch, and ends with exactly the tables a full
refresh builds from the same reports."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_pipeline

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

INCREMENTAL_TABLES = (
    "intermediate.int_actuals_revisioned",
    "intermediate.int_actuals_known",
    "intermediate.int_flow_ytd_chained",
    "marts.fct_actual",
    "marts.fct_actual_history",
    "intermediate.int_measures_monthly",
    "marts.fct_target_vs_actual",
)


def _tables(published: Path) -> dict[str, set[tuple]]:
    with duckdb.connect(str(published), read_only=True) as con:
        return {t: set(con.execute(f"select * from {t}").fetchall()) for t in INCREMENTAL_TABLES}


def _last_build(work: Path) -> tuple[bool, object]:
    with duckdb.connect(str(work), read_only=True) as con:
        return con.execute(
            "select full_refresh, changed_since from dq.dbt_build_state "
            "order by built_at desc limit 1"
        ).fetchall()[0]


def test_incremental_build_equals_a_full_refresh(copies: tuple[Path, Path]) -> None:
    raw, warehouse = copies
    work = warehouse / "work" / "plan_tracker.duckdb"
    published = warehouse / "plan_tracker.duckdb"
    inbox = raw / "progress" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    header = "报告期,城市,指标,数值,单位,口径,填报日期\n"
    # A new month for one city, a correction of an earlier month and a new year-to-date figure.
    (inbox / "huangshi_2026-10.csv").write_text(
        header
        + "2026-10,黄石,技术合同成交额,3.5,亿元,当期,2026-11-20\n"
        + "2026-03,黄石,技术合同成交额,1.25,亿元,当期,2026-11-21\n"
        + "2026年1-10月,鄂州,技术合同成交额,20,亿元,累计,2026-11-21\n",
        encoding="utf-8",
    )
    printed = run_pipeline(raw, warehouse).stdout
    assert "dbt: incremental (reports loaded after " in printed
    full_refresh, changed_since = _last_build(work)
    assert full_refresh is False and changed_since is not None
    incremental = _tables(published)

    with duckdb.connect(str(work)) as con:  # forget the build state: the next build is full
        con.execute("delete from dq.dbt_build_state")
    printed = run_pipeline(raw, warehouse).stdout
    assert "dbt: full refresh (no complete build recorded)" in printed
    assert _last_build(work) == (True, None)
    full = _tables(published)
    for table in INCREMENTAL_TABLES:
        assert incremental[table] == full[table], table


def test_a_catalog_change_forces_a_full_refresh(copies: tuple[Path, Path]) -> None:
    raw, warehouse = copies
    geographies = raw / "reference" / "geographies.csv"
    geographies.write_text(geographies.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    printed = run_pipeline(raw, warehouse).stdout
    assert "dbt: full refresh (the plan catalog, reference files or dbt project changed)" in printed
    assert _last_build(warehouse / "work" / "plan_tracker.duckdb") == (True, None)
