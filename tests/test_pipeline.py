"""The whole pipeline, as a user runs it, on the bundled data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.lib import status_log
from dagster_project.lib.report import write_report
from dagster_project.lib.timings import parse_line
from tests.conftest import REPO, run_pipeline

pytestmark = pytest.mark.slow

CHECK_CONTRACT = REPO.parent / "shared" / "tools" / "check_contract.py"


def test_bundled_run_publishes_every_target(bundled_warehouse: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_target").fetchone() == (24,)
        row = con.execute(
            "select comparator, target_value, unit, due_date::varchar, source_quote_zh "
            "from marts.fct_target where target_id = 'wm_t_tech_contract_turnover_2028'"
        ).fetchone()
        assert row == (
            ">",
            4800.0,
            "亿元",
            "2028-12-31",
            "科技成果转化成效凸显,技术合同成交额突破4800亿元",
        )
        cities = con.execute(
            "select count(*) from marts.dim_geography where parent_geo_id = 'wuhan_metro'"
        ).fetchone()
        assert cities == (9,)
        corridor = con.execute(
            "select list(name_zh order by name_zh) from marts.dim_geography "
            "where parent_geo_id = 'chegu_corridor'"
        ).fetchall()[0][0]
        assert sorted(corridor) == sorted(
            ["武汉经开区", "蔡甸", "江夏", "汉阳", "洪山", "洪湖新滩", "汉川马口"]
        )
        actions = con.execute(
            "select plan_id, count(*) from marts.dim_action where action_kind = 'task' "
            "group by all order by 1"
        ).fetchall()
        assert actions == [("chegu_corridor_2030", 10), ("wuhan_metro_sti_2026_2028", 6)]
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert {"raw", "staging", "intermediate", "marts", "dq"} <= schemas


@pytest.mark.skipif(not CHECK_CONTRACT.exists(), reason="shared/tools is not beside the project")
def test_published_file_meets_the_whole_contract(bundled_warehouse: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK_CONTRACT), str(bundled_warehouse / "plan_tracker.duckdb")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert "13/13 tables present, 0 items missing" in result.stdout


def test_broken_catalog_fails_the_run_and_keeps_the_published_warehouse(
    copies: tuple[Path, Path],
) -> None:
    raw, warehouse = copies
    plan = raw / "plans" / "chegu_corridor_2030.yaml"
    data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    data["targets"][0]["indicator_id"] = "no_such_indicator"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = (warehouse / "plan_tracker.duckdb").read_bytes()

    result = run_pipeline(raw, warehouse, check=False)

    assert result.returncode == 1
    assert "plans/chegu_corridor_2030.yaml: targets[0].indicator_id" in result.stdout
    assert "'no_such_indicator'" in result.stdout
    assert "nothing was published" in result.stdout
    assert (warehouse / "plan_tracker.duckdb").read_bytes() == before


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, stop_file = sys.argv[1], sys.argv[2]
    import pathlib
    reads = errors = 0
    seen = set()
    while not pathlib.Path(stop_file).exists():
        try:
            con = duckdb.connect(path, read_only=True)
            runs = con.execute(
                "select list(run_id order by published_at) from marts.publish_log"
            ).fetchone()[0]
            targets = con.execute("select count(*) from marts.fct_target").fetchone()[0]
            con.close()
            assert targets == 24, targets
            seen.add(runs[-1])
            reads += 1
        except Exception as exc:
            errors += 1
            print("ERROR", repr(exc), flush=True)
        time.sleep(0.1)
    print("READS", reads, "ERRORS", errors, "RUNS", len(seen), flush=True)
    """
)


def test_readers_are_never_blocked_and_never_see_a_half_built_warehouse(
    bundled_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(bundled_warehouse, warehouse)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse / "plan_tracker.duckdb"), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)
        for _ in range(2):
            run_pipeline(REPO / "raw", warehouse)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    summary = out.strip().splitlines()[-1]
    assert not [line for line in out.splitlines() if line.startswith("ERROR ")], out
    reads = int(summary.split()[1])
    runs = int(summary.split()[5])
    assert reads > 20
    assert runs == 3  # the copied publication, then one per run


def test_bundled_progress_is_all_accounted_for(bundled_warehouse: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        files = con.execute(
            "select count(*), count(*) filter (where rows_in = rows_loaded + rows_quarantined) "
            "from raw.file_manifest"
        ).fetchall()[0]
        assert files[0] >= 33 and files[0] == files[1]
        codes = {r[0] for r in con.execute("select reason_code from dq.quarantine").fetchall()}
        assert codes == {"value_formula", "value_not_numeric", "unit_unknown", "geography_unknown"}


def test_bundled_real_figures_are_loaded(bundled_warehouse: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select geo_id, indicator_id, value from marts.fct_actual "
            "where period_start = '2025-01-01' and period_end = '2025-12-31' order by 1, 2"
        ).fetchall()
    assert ("wuhan", "vehicle_output", 94.5) in rows
    assert ("wuhan", "nev_output", 52.4) in rows
    assert ("wuhan_metro", "offshore_center_enterprises", 231.0) in rows
    assert ("wuhan", "talent_service_person_times", 600.0) in rows


def test_resubmission_supersedes_and_history_keeps_both(bundled_warehouse: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        history = con.execute(
            "select revision, is_latest, source_file from marts.fct_actual_history "
            "where geo_id = 'xiaogan' and indicator_id = 'tech_contract_turnover' "
            "and period_end = '2026-06-30' order by revision"
        ).fetchall()
        latest = con.execute(
            "select revision, source_file from marts.fct_actual where geo_id = 'xiaogan' "
            "and indicator_id = 'tech_contract_turnover' and period_end = '2026-06-30'"
        ).fetchall()
    assert [(r, latest) for r, latest, _ in history] == [(1, False), (2, True)]
    assert latest == [(2, history[1][2])] and "correction" in history[1][2]


def test_a_broken_and_a_corrected_file_dropped_in_are_reported(
    copies: tuple[Path, Path],
) -> None:
    raw, warehouse = copies
    drop = raw / "progress" / "inbox"
    drop.mkdir()
    (drop / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (drop / "huangshi_fix.csv").write_text(
        "报告期,城市,指标,数值,单位,口径,填报日期\n2026-03,黄石,技术合同成交额,99,亿元,当期,2026-11-20\n"
        "2026-03,黄石,技术合同成交额,abc,亿元,当期,2026-11-20\n",
        encoding="utf-8",
    )
    # A statistics bureau's form: a report per column of 本月 and 1-本月累计.
    (drop / "xianning_monthly.csv").write_text(
        "报告期,地区,指标名称,计量单位,本月,1-本月累计\n2026-10,咸宁,技术合同成交额,亿元,1.5,11.9\n",
        encoding="utf-8",
    )
    # A summary table of the cities: a report per indicator column, its period in the title.
    (drop / "metro_2026-10.csv").write_text(
        "2026年10月各市科技创新指标完成情况\n地区,技术合同成交额（亿元）,规上高企（家）,排名\n"
        "潜江,0.8,120,3\n",
        encoding="gb18030",
    )
    printed = run_pipeline(raw, warehouse).stdout
    # Where the run's time went: its asset steps by name, its five gates added up.
    times = parse_line(printed)
    assert times is not None
    assert list(times.parts) == [
        "start",
        "plan_catalog",
        "progress_reports",
        "plan_tracker_dbt",
        "warehouse__published",
        "checks",
    ]
    assert times.check_steps == 5
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        manifest = dict(
            con.execute(
                "select source_file, status || ': ' || coalesce(reason, '') from raw.file_manifest "
                "where source_file like 'progress/inbox/%'"
            ).fetchall()
        )
        value = con.execute(
            "select value from marts.fct_actual where geo_id = 'huangshi' "
            "and indicator_id = 'tech_contract_turnover' and period_start = '2026-03-01' "
            "and period_end = '2026-03-31'"
        ).fetchone()
        by_basis = con.execute(
            "select basis, period_start::varchar, value, source_row, source_column "
            "from marts.fct_actual where source_file = 'progress/inbox/xianning_monthly.csv' "
            "order by basis"
        ).fetchall()
        spread = con.execute(
            "select geo_id, indicator_id, period_start::varchar, value, source_column "
            "from marts.fct_actual where source_file = 'progress/inbox/metro_2026-10.csv' "
            "order by source_column"
        ).fetchall()
    assert manifest["progress/inbox/broken.xlsx"].startswith("rejected: not a readable XLSX")
    assert manifest["progress/inbox/huangshi_fix.csv"].startswith("partially_loaded: 1 of 2 rows")
    assert value == (99.0,)
    # Through the gates and the models to the marts, each with its row and column.
    assert by_basis == [
        ("period", "2026-10-01", 1.5, 2, "本月"),
        ("ytd", "2026-01-01", 11.9, 2, "1-本月累计"),
    ]
    assert manifest["progress/inbox/metro_2026-10.csv"] == (
        "loaded: columns not read, their headers not an indicator of the plan catalog: 排名"
    )
    assert spread == [
        ("qianjiang", "tech_contract_turnover", "2026-10-01", 0.8, "技术合同成交额（亿元）"),
        ("qianjiang", "hightech_enterprises_above_scale", "2026-10-01", 120.0, "规上高企（家）"),
    ]


def _status_rows(warehouse: Path) -> dict[tuple[str, str], tuple]:
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select target_id, month_end::varchar, round(actual_value, 6), status, "
            "round(projected_value, 6) from marts.fct_target_vs_actual"
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_a_new_month_moves_only_the_targets_it_touches_and_a_correction_only_later_months(
    copies: tuple[Path, Path],
) -> None:
    raw, warehouse = copies
    before = _status_rows(warehouse)

    inbox = raw / "progress" / "inbox"
    inbox.mkdir()
    header = "报告期,城市,指标,数值,单位,口径,填报日期\n"
    # October from eight of the metro's nine cities: the metro's total stays September's, dated
    # so (int_targets_evaluated reads an area where its earliest member's data end), not eight
    # Octobers beside one September judged as September.
    cities = ["武汉", "黄石", "鄂州", "黄冈", "孝感", "咸宁", "仙桃", "天门"]
    (inbox / "metro_2026-10.csv").write_text(
        header
        + "".join(f"2026-10,{city},技术合同成交额,30,亿元,当期,2026-11-10\n" for city in cities),
        encoding="utf-8",
    )
    run_pipeline(raw, warehouse)
    assert _status_rows(warehouse) == before
    # The ninth: the metro's October total is known.
    (inbox / "qianjiang_2026-10.csv").write_text(
        header + "2026-10,潜江,技术合同成交额,3,亿元,当期,2026-11-12\n", encoding="utf-8"
    )
    run_pipeline(raw, warehouse)
    after_new_month = _status_rows(warehouse)
    changed = {key for key in before if before[key] != after_new_month.get(key)}
    assert changed, "the new month changed nothing"
    assert {target for target, _ in changed} == {"wm_t_tech_contract_turnover_2028"}
    _assert_the_status_log_ends_with_the_published_statuses(warehouse)

    (inbox / "huangshi_2026-03_fix.csv").write_text(
        header + "2026-03,黄石,技术合同成交额,1,亿元,当期,2026-11-20\n", encoding="utf-8"
    )
    run_pipeline(raw, warehouse)
    after_fix = _status_rows(warehouse)
    changed = {key for key in after_new_month if after_new_month[key] != after_fix.get(key)}
    assert changed
    assert min(month for _, month in changed) == "2026-03-31"
    _assert_the_status_log_ends_with_the_published_statuses(warehouse)


def _assert_the_status_log_ends_with_the_published_statuses(warehouse: Path) -> None:
    """Whatever the runs moved, each target's last row of marts.target_status_log is its status
    and projection as published (lib/status_log.py)."""
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        [(logged,)] = con.execute("select count(*) from marts.target_status_log").fetchall()
        assert logged and status_log.disagreements(con) == 0


def test_check_results_cover_every_stage(bundled_warehouse: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select stage, check_kind, bool_and(success) from dq.check_results group by all"
        ).fetchall()
    stages = {stage for stage, _, _ in rows}
    assert {"catalog", "landing", "staging", "marts"} <= stages
    kinds = {kind for _, kind, _ in rows}
    assert {"great_expectations", "dbt_test", "invariant"} <= kinds
    assert all(ok for _, _, ok in rows)


def test_mart_columns_declared_not_null_are_enforced_by_the_database(
    bundled_warehouse: Path,
) -> None:
    """The marts' not-null, accepted-value and key rules are contract constraints (DuckDB refuses
    a bad row when the table is written), not a query per column afterwards."""
    manifest = json.loads((REPO / "dbt" / "target" / "manifest.json").read_text(encoding="utf-8"))
    declared = {
        (node["schema"], node["name"], column["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for column in node["columns"].values()
        if any(c["type"] == "not_null" for c in column.get("constraints", []))
    }
    assert len(declared) > 50
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        nullable = {
            row[:3]
            for row in con.execute(
                "select table_schema, table_name, column_name, is_nullable "
                "from information_schema.columns"
            ).fetchall()
            if row[3] == "YES"
        }
    assert declared.isdisjoint(nullable)
    # A null, a value outside the accepted ones and a second row for a key are refused, named.
    copy = bundled_warehouse.parent / "constraint_probe.duckdb"
    shutil.copy(bundled_warehouse / "plan_tracker.duckdb", copy)
    refusals = {
        "update marts.fct_actual set value = null where true": (
            'NOT NULL constraint failed: fct_actual."value"'
        ),
        "update marts.fct_actual set basis = 'monthly' where true": (
            'CHECK constraint failed on table "fct_actual" with expression '
            "CHECK((basis IN ('period', 'ytd')))"
        ),
        "insert into marts.dim_geography select * from marts.dim_geography limit 1": (
            "violates primary key constraint"
        ),
        # A model-level check: data behind name what they are behind.
        "update marts.fct_target_vs_actual set is_data_behind = true, "
        "data_due_through_date = null where true": (
            'CHECK constraint failed on table "fct_target_vs_actual"'
        ),
        # And a member behind (its own reports owed).
        "update marts.fct_target_contribution set is_data_behind = true, "
        "data_due_through_date = null where true": (
            'CHECK constraint failed on table "fct_target_contribution"'
        ),
        "update marts.fct_target_contribution set is_data_behind = true, "
        "data_due_through_date = '2026-10-31', status = 'achieved' where true": (
            'CHECK constraint failed on table "fct_target_contribution"'
        ),
        # At its path's start only on track.
        "update marts.fct_target_vs_actual set is_at_path_start = true "
        "where status <> 'on_track'": ('CHECK constraint failed on table "fct_target_vs_actual"'),
    }
    with duckdb.connect(str(copy)) as con:
        for statement, message in refusals.items():
            with pytest.raises(duckdb.ConstraintException) as refused:
                con.execute(statement)
            assert message in str(refused.value), statement


def test_record_stores_the_run_in_the_dagster_instance(copies: tuple[Path, Path]) -> None:
    raw, warehouse = copies
    # The copy's instance is the one the bundled run used (its warehouse's dagster_home): a plain
    # run keeps its events in memory.
    home = warehouse / "dagster_home"
    assert (home / "dagster.yaml").exists()
    listing = [
        sys.executable,
        "-c",
        "import dagster as dg; i = dg.DagsterInstance.get(); "
        "print([(r.job_name, r.status.value) for r in i.get_runs()])",
    ]
    env = {"DAGSTER_HOME": str(home), "PATH": "/usr/bin:/bin"}
    before = subprocess.run(listing, env=env, capture_output=True, text=True, check=True)
    assert before.stdout.strip() == "[]"
    run_pipeline(raw, warehouse, "--record")
    after = subprocess.run(listing, env=env, capture_output=True, text=True, check=True)
    assert after.stdout.strip() == "[('full_refresh_job', 'SUCCESS')]"


def test_a_plan_not_begun_by_the_as_of_date_has_no_target_judged_and_the_run_publishes(
    copies: tuple[Path, Path],
) -> None:
    """Both plans begin on 1 January 2026: looked at as of 20 December 2025 they have no month
    yet, and the marts gate expects no target of theirs (it failed the run, naming none)."""
    raw, warehouse = copies
    published = warehouse / "plan_tracker.duckdb"
    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2025-12-20"}).stdout
    assert (
        "科技同兴三年行动方案(2026—2028年) (wuhan_metro_sti_2026_2028): begins 2026-01-01, "
        "no target judged as of 2025-12-20"
    ) in printed
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_target_vs_actual").fetchone() == (0,)
        assert con.execute(
            "select plan_id, as_of_date::varchar, target_count from marts.scorecard_plan "
            "order by plan_id"
        ).fetchall() == [
            ("chegu_corridor_2030", "2025-12-20", 0),
            ("wuhan_metro_sti_2026_2028", "2025-12-20", 0),
        ]
    page = write_report(published, warehouse / "report").read_text(encoding="utf-8")
    assert page.count("begins 2026-01-01: no target judged as of 2025-12-20") == 2
    # A month into the plans, every target is judged.
    printed = run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-01-31"}).stdout
    assert "begins" not in printed
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select count(distinct target_id) from marts.fct_target_vs_actual"
        ).fetchone() == (24,)


def test_in_january_a_flow_due_by_a_date_stands_where_december_left_it(
    copies: tuple[Path, Path],
) -> None:
    """Before any report of a new year, a cumulative or annual target is judged on the year
    before's last total (it was no_data every January and most of February), its members with it;
    a per-year target has no data for the new year. Judged on 31 December, then (an incremental
    build into another year) on 20 January."""
    raw, warehouse = copies
    published = warehouse / "plan_tracker.duckdb"
    flows = (
        "select target_id, actual_value, data_through_date, expected_value, status, "
        "projected_status from marts.fct_target_vs_actual "
        "where is_latest and cadence = 'by_due_date' and measure <> 'level' and due_date > ? "
        "order by target_id"
    )
    members = (
        "select target_id, geo_id, actual_value, data_through_date, expected_value, status "
        "from marts.fct_target_contribution as c "
        "where exists (select 1 from marts.fct_target as t where t.target_id = c.target_id "
        "and t.cadence = 'by_due_date' and t.due_date > ?) order by target_id, geo_id"
    )
    per_year = (
        "select status, count(*) from marts.fct_target_vs_actual "
        "where is_latest and cadence = 'per_year' group by status"
    )
    run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2026-12-31"})
    with duckdb.connect(str(published), read_only=True) as con:
        december = con.execute(flows, ["2027-01-31"]).fetchall()
        december_members = con.execute(members, ["2027-01-31"]).fetchall()
        assert dict(con.execute(per_year).fetchall()).get("no_data", 0) == 0
    # The bundled data reach 2026 for every such target: each is judged, none on 2027 data.
    assert len(december) >= 10 and all(row[1] is not None for row in december)
    assert december_members
    run_pipeline(raw, warehouse, env={"PLAN_TRACKER_AS_OF_DATE": "2027-01-20"})
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(flows, ["2027-01-31"]).fetchall() == december
        assert con.execute(members, ["2027-01-31"]).fetchall() == december_members
        assert con.execute(per_year).fetchall() == [("no_data", 3)]
        assert con.execute(
            "select count(*) from marts.fct_target_vs_actual where is_latest "
            "and month_end <> '2027-01-31' and due_date > '2027-01-31'"
        ).fetchall() == [(0,)]
        last_year = con.execute(
            "select status from marts.fct_target_vs_actual "
            "where cadence = 'per_year' and month_end = '2026-12-31' order by target_id"
        ).fetchall()
    # The scorecard page shows each per-year target's 2026 beside its 2027 without data.
    page = write_report(published, warehouse / "report").read_text(encoding="utf-8")
    assert page.count("2026 全年 year: ") == len(last_year) == 3
    assert "2026 全年 year: 已完成 achieved" in page


def _marts(published: Path) -> dict[str, Counter[tuple]]:
    tables = ("fct_actual", "fct_actual_history", "fct_report_completeness", "fct_target_vs_actual")
    with duckdb.connect(str(published), read_only=True) as con:
        return {t: Counter(con.execute(f"select * from marts.{t}").fetchall()) for t in tables}


def test_a_file_sent_in_error_is_withdrawn_by_the_ledger_and_counts_nowhere(
    copies: tuple[Path, Path],
) -> None:
    """Deleting a landed file does not take its reports back (the summary names it); a row of
    raw/withdrawals.csv does: the marts are then those of the data without it, its rows stay in
    raw.progress_rows. A ledger naming a file never landed stops the run, naming the row."""
    raw, warehouse = copies
    published = warehouse / "plan_tracker.duckdb"
    env = {"PLAN_TRACKER_AS_OF_DATE": "2026-11-24"}
    run_pipeline(raw, warehouse, env=env)
    without = _marts(published)
    wrong = raw / "progress" / "inbox" / "wrong_city.csv"
    wrong.parent.mkdir()
    wrong.write_text(
        "报告期,城市,指标,数值,单位,口径,填报日期\n"
        "2026-10,黄石,技术合同成交额,99,亿元,当期,2026-11-20\n",
        encoding="utf-8",
    )
    run_pipeline(raw, warehouse, env=env)
    october = (
        "select value, source_file from marts.fct_actual where geo_id = 'huangshi' "
        "and indicator_id = 'tech_contract_turnover' and period_start = '2026-10-01'"
    )
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(october).fetchall() == [(99.0, "progress/inbox/wrong_city.csv")]

    wrong.unlink()
    printed = run_pipeline(raw, warehouse, env=env).stdout
    assert (
        "no longer under raw/progress, still counted: progress/inbox/wrong_city.csv "
        "(to take their reports back, list them in raw/withdrawals.csv)"
    ) in printed
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(october).fetchall() == [(99.0, "progress/inbox/wrong_city.csv")]

    ledger = raw / "withdrawals.csv"
    ledger.write_text(
        "source_file,file_sha256,reason,withdrawn_on\n"
        "progress/inbox/wrong_city.csv,,sent for 黄石 in error,2026-11-24\n",
        encoding="utf-8",
    )
    printed = run_pipeline(raw, warehouse, env=env).stdout
    assert "dbt: full refresh (the plan catalog, reference files, withdrawals or dbt" in printed
    assert (
        "withdrawn (raw/withdrawals.csv): 1 file version(s), 1 landed row(s) counted nowhere"
        in printed
    )
    assert "no longer under raw/progress" not in printed
    assert _marts(published) == without
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(
            "select count(*) from raw.progress_rows where source_file like '%wrong_city%'"
        ).fetchall() == [(1,)]
        assert con.execute(
            "select source_file, file_sha256 = (select file_sha256 from raw.file_manifest "
            "where source_file like '%wrong_city%'), every_version, reason from raw.withdrawals"
        ).fetchall() == [("progress/inbox/wrong_city.csv", True, True, "sent for 黄石 in error")]
        published_runs = con.execute("select count(*) from marts.publish_log").fetchall()
    page = write_report(published, warehouse / "report").read_text(encoding="utf-8")
    assert (
        "<tr><td>progress/inbox/wrong_city.csv</td><td>全部 every version</td><td>1</td>"
        "<td>sent for 黄石 in error</td><td>2026-11-24</td></tr>"
    ) in page

    ledger.write_text(
        "文件,原因\nprogress/inbox/wrong_city.csv,sent in error\nprogress/wrong_city.csv,typo\n",
        encoding="utf-8",
    )
    result = run_pipeline(raw, warehouse, env=env, check=False)
    assert result.returncode == 1
    assert (
        "withdrawals.csv, row 3: progress/wrong_city.csv is not a file the warehouse has loaded; "
        "give the path as raw.file_manifest records it (did you mean "
        "progress/inbox/wrong_city.csv?)"
    ) in result.stdout
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from marts.publish_log").fetchall() == published_runs
