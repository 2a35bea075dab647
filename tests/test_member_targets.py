"""分解目标: a member geography's own part of an area target (a target with `part_of`), quoted
from a document of its own, and the member's contribution judged on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.lib.catalog import CatalogError, load_catalog
from dagster_project.lib.explain import explain
from dagster_project.lib.paths import DBT_DIR
from dagster_project.lib.report import write_report
from tests.conftest import run_pipeline

PLAN = "wuhan_metro_sti_2026_2028"
AREA_TARGET = "wm_t_hightech_enterprises_2028"
DBT = Path(sys.executable).with_name("dbt")
DECOMPOSITION = "咸宁市科技同兴任务分解方案：到2028年，全市规上高新技术企业达到400家。\n"


def _part(**changes: object) -> dict[str, object]:
    return {
        "target_id": "wm_t_hightech_enterprises_2028_xianning",
        "indicator_id": "hightech_enterprises_above_scale",
        "action_id": "wm_goals",
        "geo_id": "xianning",
        "comparator": ">=",
        "target_value": 400,
        "unit": "家",
        "due_date": "2028-12-31",
        "cadence": "by_due_date",
        "source_quote_zh": "全市规上高新技术企业达到400家",
        "source_quote_en": "The city's above-size high-tech enterprises reach 400.",
        "part_of": AREA_TARGET,
        "source_document": "xianning_decomposition.txt",
        **changes,
    }


def _with_parts(raw: Path, *parts: dict[str, object]) -> None:
    (raw / "plans" / "xianning_decomposition.txt").write_text(DECOMPOSITION, encoding="utf-8")
    path = raw / "plans" / f"{PLAN}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["targets"].extend(parts)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(raw: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(raw)
    return info.value.problems


def test_a_part_quoted_from_its_own_document_is_accepted(raw_copy: Path) -> None:
    _with_parts(raw_copy, _part())
    catalog = load_catalog(raw_copy)
    [(_, plan)] = [(s, p) for s, p in catalog.plans if p.plan.plan_id == PLAN]
    [part] = [t for t in plan.targets if t.part_of]
    assert (part.part_of, part.source_document) == (AREA_TARGET, "xianning_decomposition.txt")


def test_a_part_must_fit_its_area_target(raw_copy: Path) -> None:
    _with_parts(
        raw_copy,
        _part(target_id="p_unknown", part_of="wm_t_nothing"),
        _part(target_id="p_not_member", geo_id="wuhan_edz"),
        _part(target_id="p_due", due_date="2027-12-31"),
        _part(target_id="p_twice"),
        _part(target_id="p_quote", source_quote_zh="全市规上高新技术企业达到500家"),
        _part(target_id="p_doc", source_document="missing.txt"),
    )
    problems = _problems(raw_copy)
    where = f"plans/{PLAN}.yaml: targets"
    for expected in (
        f"{where}[10].part_of (target_id 'p_unknown'): 'wm_t_nothing' is not a target of this plan",
        f"{where}[11].geo_id (target_id 'p_not_member'): 'wuhan_edz' is not a member of "
        "'wuhan_metro', the geography of 'wm_t_hightech_enterprises_2028' "
        "(reference/geographies.csv parent_geo_id)",
        f"{where}[12].due_date (target_id 'p_due'): 2027-12-31 differs from its area target "
        "'wm_t_hightech_enterprises_2028' (2028-12-31); a part shares its due_date",
        f"{where}[13].part_of (target_id 'p_twice'): 'xianning' already has a part of "
        "'wm_t_hightech_enterprises_2028': 'p_due'",
        f"{where}[14].source_quote_zh (target_id 'p_quote'): not found verbatim in the source "
        "document: '全市规上高新技术企业达到500家'",
        f"{where}[15].source_document (target_id 'p_doc'): 'missing.txt' not found under plans/",
    ):
        assert expected in problems, (expected, problems)


@pytest.mark.slow
def test_a_member_with_its_own_part_is_judged_on_it(raw_copy: Path, tmp_path: Path) -> None:
    _with_parts(raw_copy, _part())
    warehouse = tmp_path / "warehouse"
    run_pipeline(raw_copy, warehouse)
    with duckdb.connect(str(warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        assert con.execute(
            "select part_of_target_id, source_document from marts.fct_target "
            "where target_id = 'wm_t_hightech_enterprises_2028_xianning'"
        ).fetchall() == [(AREA_TARGET, "xianning_decomposition.txt")]
        [own] = con.execute(
            "select expected_value, status from marts.fct_target_vs_actual "
            "where target_id = 'wm_t_hightech_enterprises_2028_xianning' and is_latest"
        ).fetchall()
        rows = {
            geo_id: rest
            for geo_id, *rest in con.execute(
                "select geo_id, expected_basis, member_target_id, member_target_value, "
                "expected_value, status from marts.fct_target_contribution where target_id = ?",
                [AREA_TARGET],
            ).fetchall()
        }
    assert own[0] is not None  # 咸宁 reports the indicator: its part has a path
    assert rows["xianning"] == [
        "member_target",
        "wm_t_hightech_enterprises_2028_xianning",
        400.0,
        *own,
    ]
    others = [rest for geo_id, rest in rows.items() if geo_id != "xianning"]
    assert len(others) == 8 and {r[0] for r in others} == {"first_share"}
    assert all(r[1] is None for r in others)
    page = write_report(warehouse / "plan_tracker.duckdb", tmp_path / "report")
    assert page.read_text(encoding="utf-8").count(f"分解自 part of {AREA_TARGET}") == 1
    assert f"  part of {AREA_TARGET} (分解目标)" in explain(
        warehouse / "plan_tracker.duckdb", "wm_t_hightech_enterprises_2028_xianning"
    )


@pytest.mark.slow
def test_parts_that_do_not_add_up_to_their_area_target_are_warned_of(
    bundled_warehouse: Path, tmp_path: Path
) -> None:
    # Every member given a part (a copy of the built working warehouse, the parts written into
    # its fct_target): 9 × 800 = 7,200 against more than 7,500, then 9 × 850 = 7,650.
    work = tmp_path / "work.duckdb"
    shutil.copyfile(bundled_warehouse / "work" / "plan_tracker.duckdb", work)

    def warned(each: float) -> str:
        with duckdb.connect(str(work)) as con:
            con.execute("delete from marts.fct_target where part_of_target_id is not null")
            con.execute(
                "insert into marts.fct_target by name select * replace ("
                "  target_id || '_' || g.geo_id as target_id, g.geo_id as geo_id,"
                "  ? as target_value, target_id as part_of_target_id) "
                "from marts.fct_target, (select geo_id from marts.dim_geography "
                "  where parent_geo_id = 'wuhan_metro') as g where target_id = ?",
                [each, AREA_TARGET],
            )
        result = subprocess.run(
            [
                *(
                    str(DBT),
                    "test",
                    "--select",
                    "assert_member_targets_add_up_to_their_area_target",
                ),
                *("--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path)),
            ],
            cwd=DBT_DIR,
            env={**os.environ, "PLAN_TRACKER_WORK_DB": str(work)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:]  # a warning does not fail
        return result.stdout

    assert "WARN 1 assert_member_targets_add_up_to_their_area_target" in warned(800)
    assert "PASS assert_member_targets_add_up_to_their_area_target" in warned(850)
