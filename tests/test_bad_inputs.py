"""The hostile-input corpus (tests/fixtures/bad/): every case gets its documented behaviour, the
other files still load, every row is accounted for, and nothing from a file is ever executed."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from dagster_project.lib.progress.accounting import unaccounted_files
from tests.conftest import FIXTURES
from tests.test_ingest import Landing

BAD = FIXTURES / "bad"
CASES: dict[str, dict] = json.loads((BAD / "cases.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("corpus")
    landing = Landing(base)
    for name in CASES:
        shutil.copyfile(BAD / name, landing.raw / "progress" / name)
    shutil.copyfile(FIXTURES / "progress" / "utf8.csv", landing.raw / "progress" / "zz_good.csv")
    outside = base / "secret.csv"
    outside.write_text(
        "报告期,城市,指标,数值,单位\n2026-03,黄石,技术合同成交额,1,亿元\n", encoding="utf-8"
    )
    (landing.raw / "progress" / "40_link_outside.csv").symlink_to(outside)
    (landing.raw / "progress" / "41_dir_link").symlink_to(base, target_is_directory=True)
    outcomes = {o.source_file.removeprefix("progress/"): o for o in landing.ingest()}
    return landing, outcomes


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_behaves_as_documented(corpus, name: str) -> None:
    landing, outcomes = corpus
    expect = CASES[name]
    outcome = outcomes[name]
    assert outcome.status == expect["status"], (name, outcome.reason)
    if "reason" in expect:
        assert expect["reason"] in (outcome.reason or ""), (name, outcome.reason)
    if "codes" in expect:
        codes = [
            r[0]
            for r in landing.rows(
                "select reason_code from dq.quarantine where source_file = ? order by source_row",
                [f"progress/{name}"],
            )
        ]
        assert codes == expect["codes"], name
    assert outcome.rows_in == outcome.rows_loaded + outcome.rows_quarantined


def test_links_leading_outside_the_raw_folder_are_refused_unread(corpus) -> None:
    _, outcomes = corpus
    assert outcomes["40_link_outside.csv"].status == "rejected"
    assert "refused, not read" in outcomes["40_link_outside.csv"].reason
    # A link to a folder outside is refused as a whole; nothing under it is listed or read.
    linked = [o for name, o in outcomes.items() if name.startswith("41_dir_link")]
    assert [o.source_file for o in linked] == ["progress/41_dir_link"]
    assert linked[0].status == "rejected" and "outside the raw folder" in linked[0].reason


def test_good_file_still_loads_and_everything_is_accounted_for(corpus) -> None:
    landing, outcomes = corpus
    assert outcomes["zz_good.csv"].status == "loaded"
    with duckdb.connect(str(landing.db), read_only=True) as con:
        assert unaccounted_files(con) == []


def test_nothing_from_a_file_was_executed(corpus) -> None:
    landing, _ = corpus
    # The SQL-looking header and value are data: the catalog tables are intact.
    assert landing.rows("select count(*) from raw.targets") == [(24,)]
    reasons = [r[0] for r in landing.rows("select reason from dq.quarantine")]
    assert any("drop table raw.targets" in r for r in reasons)
    assert any(
        "<script>alert(1)</script>" in r for r in reasons
    )  # kept verbatim, escaped on output


def test_a_zip_bomb_is_refused_without_being_inflated(corpus) -> None:
    _, outcomes = corpus
    reason = outcomes["05_zip_bomb.xlsx"].reason
    assert "over the limit of 210 MB (PLAN_TRACKER_MAX_XLSX_BYTES)" in reason
