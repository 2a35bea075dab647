"""The plan catalog: what the bundled files hold, and the errors a broken catalog gets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
import yaml

from dagster_project.lib.catalog import CatalogError, geography_alias_rows, load_catalog
from dagster_project.lib.catalog_tables import (
    catalog_fingerprint,
    catalog_tables,
    record_catalog,
    unchanged_since,
)


def _edit_plan(raw: Path, plan_id: str, edit) -> None:
    path = raw / "plans" / f"{plan_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(raw: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(raw)
    return info.value.problems


def test_bundled_catalog_holds_both_plans_and_every_target() -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[1] / "raw")
    plans = {p.plan.plan_id: p for _, p in catalog.plans}
    assert set(plans) == {"wuhan_metro_sti_2026_2028", "chegu_corridor_2030"}
    metro, corridor = plans["wuhan_metro_sti_2026_2028"], plans["chegu_corridor_2030"]
    assert [a.name_zh for a in metro.actions if a.kind == "task"] == [
        "平台共建链接行动",
        "协同攻关链接行动",
        "成果转化链接行动",
        "校地合作链接行动",
        "武汉产业创新发展研究院赋能链接行动",
        "人才服务链接行动",
    ]
    assert len([a for a in corridor.actions if a.kind == "task"]) == 10
    assert len(metro.targets) == 10
    assert len(corridor.targets) == 14
    cities = {g.geo_id for g in metro.geographies if g.role == "member_city"}
    assert len(cities) == 9


@pytest.mark.parametrize(
    ("target_id", "comparator", "value", "unit", "due", "cadence"),
    [
        ("wm_t_new_platforms_2028", ">=", 30, "家", "2028-12-31", "by_due_date"),
        ("wm_t_hightech_enterprises_2028", ">", 7500, "家", "2028-12-31", "by_due_date"),
        ("wm_t_tech_contract_turnover_2028", ">", 4800, "亿元", "2028-12-31", "by_due_date"),
        ("wm_t_offshore_enterprises_2028", ">", 400, "家", "2028-12-31", "by_due_date"),
        ("wm_t_joint_research_problems_2028", ">=", 100, "项", "2028-12-31", "by_due_date"),
        ("wm_t_matchmaking_events_per_year", ">=", 10, "场", "2028-12-31", "per_year"),
        ("wm_t_paired_institutions_2028", ">=", 50, "所", "2028-12-31", "by_due_date"),
        ("wm_t_university_city_projects_per_year", ">=", 50, "项", "2028-12-31", "per_year"),
        ("wm_t_talent_person_times_per_year", ">=", 300, "人次", "2028-12-31", "per_year"),
        ("cv_t_vehicle_output_2030", ">", 200, "万辆", "2030-12-31", "by_due_date"),
        ("cv_t_nev_output_2030", ">", 150, "万辆", "2030-12-31", "by_due_date"),
        ("cv_t_vehicle_exports_2030", ">", 50, "万辆", "2030-12-31", "by_due_date"),
        ("cv_t_ecosystem_revenue_2030", ">", 13000, "亿元", "2030-12-31", "by_due_date"),
        ("cv_t_core_parts_enterprises_2030", ">=", 100, "家", "2030-12-31", "by_due_date"),
        ("cv_t_parts_vehicle_ratio_2030", ">=", 1, "比值", "2030-12-31", "by_due_date"),
        ("cv_t_rd_intensity_2030", ">=", 5, "%", "2030-12-31", "by_due_date"),
        ("cv_t_hightech_enterprises_2030", ">=", 1500, "家", "2030-12-31", "by_due_date"),
        ("cv_t_vehicle_makers_100bn_2030", ">=", 6, "家", "2030-12-31", "by_due_date"),
    ],
)
def test_target_is_transcribed_from_the_article(
    target_id: str, comparator: str, value: float, unit: str, due: str, cadence: str
) -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[1] / "raw")
    targets = {t.target_id: t for _, p in catalog.plans for t in p.targets}
    t = targets[target_id]
    assert (t.comparator, t.target_value, t.unit, t.due_date.isoformat(), t.cadence) == (
        comparator,
        value,
        unit,
        due,
        cadence,
    )


def test_offshore_target_has_its_2025_baseline() -> None:
    catalog = load_catalog(Path(__file__).resolve().parents[1] / "raw")
    baselines = {b.baseline_id: b for _, p in catalog.plans for b in p.baselines}
    assert baselines["wm_b_offshore_enterprises_2025"].value == 231
    assert baselines["wm_b_talent_person_times_2025"].value_qualifier == "nearly"


def test_unknown_indicator_is_named_with_file_and_path(raw_copy: Path) -> None:
    _edit_plan(
        raw_copy,
        "wuhan_metro_sti_2026_2028",
        lambda d: d["targets"][1].update(indicator_id="no_such_indicator"),
    )
    problems = _problems(raw_copy)
    assert any(
        p.startswith("plans/wuhan_metro_sti_2026_2028.yaml: targets[1]")
        and "'no_such_indicator' is not an indicator of this plan" in p
        for p in problems
    ), problems


def test_bad_comparator_reports_the_value_and_the_vocabulary(raw_copy: Path) -> None:
    _edit_plan(raw_copy, "chegu_corridor_2030", lambda d: d["targets"][0].update(comparator="≥"))
    (problem,) = _problems(raw_copy)
    assert problem.startswith("plans/chegu_corridor_2030.yaml: targets[0].comparator")
    assert "cv_t_vehicle_output_2030" in problem and "'≥'" in problem and "'>='" in problem


def test_quote_missing_from_the_source_is_refused(raw_copy: Path) -> None:
    _edit_plan(
        raw_copy,
        "chegu_corridor_2030",
        lambda d: d["targets"][2].update(source_quote_zh="汽车出口突破60万辆"),
    )
    (problem,) = _problems(raw_copy)
    assert "targets[2]" in problem and "not found verbatim in the source document" in problem


def test_target_unit_must_be_the_indicator_unit(raw_copy: Path) -> None:
    _edit_plan(raw_copy, "chegu_corridor_2030", lambda d: d["targets"][3].update(unit="万亿元"))
    (problem,) = _problems(raw_copy)
    assert problem.startswith("plans/chegu_corridor_2030.yaml: targets[3].unit (target_id")
    assert "'万亿元' differs from the indicator's unit '亿元'" in problem


def test_due_date_outside_the_horizon_is_refused(raw_copy: Path) -> None:
    _edit_plan(
        raw_copy,
        "wuhan_metro_sti_2026_2028",
        lambda d: d["targets"][0].update(due_date="2030-12-31"),
    )
    (problem,) = _problems(raw_copy)
    assert problem.startswith("plans/wuhan_metro_sti_2026_2028.yaml: targets[0].due_date")
    assert "2030-12-31 is outside the plan horizon 2026-01-01..2028-12-31" in problem


def test_every_problem_is_reported_at_once(raw_copy: Path) -> None:
    def edit(d):
        d["targets"][0]["geo_id"] = "atlantis"
        d["targets"][1]["action_id"] = "no_action"
        d["targets"][2]["target_value"] = -1

    _edit_plan(raw_copy, "wuhan_metro_sti_2026_2028", edit)
    problems = _problems(raw_copy)
    # Shape errors are reported first (pydantic); the cross-reference pass runs once they are fixed.
    assert any("targets[2].target_value" in p and "greater than 0" in p for p in problems)


def test_invalid_yaml_names_the_line(raw_copy: Path) -> None:
    path = raw_copy / "plans" / "chegu_corridor_2030.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - : [unclosed\n", encoding="utf-8")
    (problem,) = _problems(raw_copy)
    assert problem.startswith("plans/chegu_corridor_2030.yaml: line ") and "invalid YAML" in problem


def test_ambiguous_geography_alias_is_refused(raw_copy: Path) -> None:
    path = raw_copy / "reference" / "geographies.csv"
    text = path.read_text(encoding="utf-8").replace("黄石市,", "黄石市|Wuhan,", 1)
    path.write_text(text, encoding="utf-8")
    problems = _problems(raw_copy)
    assert any("geography alias 'Wuhan' is ambiguous" in p for p in problems), problems


def test_a_geography_is_found_after_its_province_and_city() -> None:
    """Official reports write 湖北省黄石市 and 武汉市江夏区: the province comes from the code's
    first two digits, a district's city from the code ending in 00 (420115 → 420100, 武汉)."""
    catalog = load_catalog(Path(__file__).resolve().parents[1] / "raw")
    owner = {row["alias"]: row["geo_id"] for row in geography_alias_rows(catalog)}
    assert owner["湖北省黄石市"] == owner["湖北黄石"] == owner["Huangshi City"] == "huangshi"
    assert owner["湖北省仙桃市"] == "xiantao"  # a city the province governs directly
    assert owner["武汉市江夏区"] == owner["湖北省武汉市江夏区"] == owner["武汉江夏"] == "jiangxia"
    assert owner["Jiangxia District"] == "jiangxia"
    # Without a code (a development zone, an area), nothing is made up.
    assert not any(alias.startswith("湖北") for alias, geo in owner.items() if geo == "wuhan_edz")
    assert "武汉市武汉市" not in owner  # a city is not its own city


def test_a_unit_is_whole_or_not_and_the_column_may_be_left_out(raw_copy: Path) -> None:
    path = raw_copy / "reference" / "units.csv"
    bundled = path.read_text(encoding="utf-8")
    assert {u.unit for u in load_catalog(raw_copy).units if u.whole} >= {"家", "万辆", "人次"}
    path.write_text(bundled.replace("家,count,1,yes,", "家,count,1,maybe,", 1), encoding="utf-8")
    (problem,) = _problems(raw_copy)
    assert problem.startswith("reference/units.csv: row 8: ") and "expected yes or no" in problem
    # A units.csv from before the column: no unit is whole.
    rows = [line.split(",") for line in bundled.splitlines()]
    path.write_text("\n".join(",".join(r[:3] + r[4:]) for r in rows) + "\n", encoding="utf-8")
    assert not any(u.whole for u in load_catalog(raw_copy).units)


def test_shared_indicator_must_be_defined_identically(raw_copy: Path) -> None:
    def edit(d):
        for ind in d["indicators"]:
            if ind["indicator_id"] == "hightech_enterprises_above_scale":
                ind["unit"] = "个"

    _edit_plan(raw_copy, "chegu_corridor_2030", edit)
    problems = _problems(raw_copy)
    assert any("defined differently in" in p for p in problems), problems


def test_an_unchanged_catalog_is_kept_and_any_change_reloads_it(raw_copy: Path) -> None:
    fingerprint = catalog_fingerprint(raw_copy)
    con = duckdb.connect()
    for schema in ("raw", "dq"):
        con.execute(f"create schema {schema}")
    assert unchanged_since(con, fingerprint) is None  # never loaded
    loaded_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for table, data in catalog_tables(load_catalog(raw_copy), loaded_at).items():
        con.register("incoming", data)
        con.execute(f"create table raw.{table} as select * from incoming")
        con.unregister("incoming")
    record_catalog(con, fingerprint, loaded_at)
    assert unchanged_since(con, fingerprint) == loaded_at
    assert catalog_fingerprint(raw_copy) == fingerprint  # the same files, read again

    plan = next((raw_copy / "plans").glob("*.yaml"))
    plan.write_text(plan.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert catalog_fingerprint(raw_copy) != fingerprint
    assert unchanged_since(con, catalog_fingerprint(raw_copy)) is None

    con.execute("drop table raw.units")  # a table gone: loaded again, whatever the state says
    assert unchanged_since(con, fingerprint) is None
