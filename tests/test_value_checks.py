"""Values landed far from the report before them are named, with both rows (value_checks.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dagster_project.lib.progress.value_checks import JUMP_FACTORS
from tests.test_ingest import Landing

HEADER = "报告期,城市,指标,数值,单位\n"


@pytest.fixture
def landing(tmp_path: Path) -> Landing:
    return Landing(tmp_path)


def _send(landing: Landing, name: str, rows: str) -> int:
    (landing.raw / "progress" / name).write_text(HEADER + rows, encoding="utf-8")
    (outcome,) = landing.ingest()
    assert outcome.status == "loaded", outcome.reason
    return int(outcome.values_to_check)


def _checked(landing: Landing) -> list[tuple[object, ...]]:
    return landing.rows(
        "select source_file, source_row, previous_source_file, previous_source_row, "
        "round(factor, 4) from dq.value_checks order by source_file, source_row"
    )


def test_a_value_far_from_the_report_before_it_is_named_and_lands(landing: Landing) -> None:
    assert JUMP_FACTORS == {"stock": 10.0, "ratio": 10.0, "flow": 1000.0}
    _send(
        landing,
        "a.csv",
        "2026-08,黄石,技术合同成交额,7.5,亿元\n"
        "2026-09,黄石,技术合同成交额,8.2,亿元\n"
        "2026年二季度,黄石,规上高新技术企业,312,家\n"
        "2026-09,鄂州,技术合同成交额,3,亿元\n"
        "2026-09,孝感,技术合同成交额,0,亿元\n",
    )
    assert _checked(landing) == []  # each series' first report, or within its limit
    sent = (
        "2026-10,黄石,技术合同成交额,8200,亿元\n"  # a flow 1,000 times: named
        "2026年三季度,黄石,规上高新技术企业,3120,家\n"  # a level 10 times: named
        "2026-10,鄂州,技术合同成交额,2997,亿元\n"  # a flow 999 times: within its limit
        "2026-10,孝感,技术合同成交额,5,亿元\n"  # after a zero: nothing to compare
    )
    assert _send(landing, "b.csv", sent) == 2
    assert _checked(landing) == [
        ("progress/b.csv", 2, "progress/a.csv", 3, 1000.0),
        ("progress/b.csv", 3, "progress/a.csv", 4, 10.0),
    ]
    # Smaller by the limit, in the unit as written: named too, against the latest report.
    assert _send(landing, "c.csv", "2026-11,黄石,技术合同成交额,820,万元\n") == 1
    [(message,)] = landing.rows(
        "select message from dq.value_checks where source_file = 'progress/c.csv'"
    )
    assert message == (
        "progress/c.csv, row 2: 0.082 亿元 (written 820 万元) for 黄石 技术合同成交额 2026-11 is "
        "1/100,000 of the report before it (8200 亿元 for 2026-10, progress/b.csv, row 2): a "
        "slip (a figure in 万元 under 亿元, a fraction for a percent, a digit typed twice)? It "
        "landed; if it is a slip, correct the file and send it again"
    )
    assert landing.rows("select count(*) from raw.progress_rows") == [(10,)]


def test_within_a_file_and_a_revision_against_the_period_before(landing: Landing) -> None:
    # A percent written as a fraction among a file's months; a revision with its point slipped.
    assert (
        _send(
            landing,
            "a.csv",
            "2026-01,武汉经开区,全社会研发投入强度,4.6,%\n"
            "2026-02,武汉经开区,全社会研发投入强度,0.047,%\n"
            "2026-03,武汉经开区,全社会研发投入强度,4.8,%\n",
        )
        == 2
    )
    assert _send(landing, "b.csv", "2026-03,武汉经开区,全社会研发投入强度,0.48,%\n") == 1
    assert _checked(landing) == [
        ("progress/a.csv", 3, "progress/a.csv", 2, pytest.approx(0.0102, abs=1e-4)),
        ("progress/a.csv", 4, "progress/a.csv", 3, pytest.approx(102.1277, abs=1e-4)),
        # March's revision against February, the period before: not against March's 4.8.
        ("progress/b.csv", 2, "progress/a.csv", 3, pytest.approx(10.2128, abs=1e-4)),
    ]


def test_the_correction_of_a_slip_is_not_named_for_being_far_from_it(
    landing: Landing,
) -> None:
    _send(landing, "sep.csv", "2026-09,黄石,技术合同成交额,21.16,亿元\n")
    oct_slip = "报告期,城市,指标,数值,单位\n2026-10,黄石,技术合同成交额,0.0021,亿元\n"
    path = landing.raw / "progress" / "oct.csv"
    path.write_text(oct_slip, encoding="utf-8")
    (outcome,) = landing.ingest()
    assert outcome.values_to_check == 1
    path.write_text(oct_slip.replace("0.0021", "21.2"), encoding="utf-8")  # sent again, mended
    (outcome,) = landing.ingest()
    assert outcome.values_to_check == 0
    assert landing.rows("select count(*) from dq.value_checks") == [(1,)]


def test_a_withdrawn_report_is_not_the_one_before(landing: Landing) -> None:
    _send(landing, "a.csv", "2026-09,黄石,规上高新技术企业,31,家\n")
    with duckdb.connect(str(landing.db)) as con:
        con.execute(
            "create table raw.withdrawals as select source_file, file_sha256 "
            "from raw.file_manifest where source_file = 'progress/a.csv'"
        )
    assert _send(landing, "b.csv", "2026-10,黄石,规上高新技术企业,312,家\n") == 0


def test_a_period_filled_in_later_names_the_report_after_it(landing: Landing) -> None:
    """October's slip landed first, with no report before it; September's, sent after, is the
    report before October's, and October's is named then."""
    assert _send(landing, "oct.csv", "2026-10,黄石,规上高新技术企业,3120,家\n") == 0
    assert _send(landing, "sep.csv", "2026-09,黄石,规上高新技术企业,312,家\n") == 1
    assert _checked(landing) == [("progress/oct.csv", 2, "progress/sep.csv", 2, 10.0)]


def test_versions_left_unchecked_are_checked_by_the_next_run_and_old_ones_are_not(
    landing: Landing,
) -> None:
    """The check runs once at the end of a run's ingest over every landed version not checked
    yet: a run stopped before it leaves them to the next. A warehouse made before the check
    counts its versions as checked: their history is not named all at once."""
    slip = "2026-08,黄石,规上高新技术企业,31,家\n2026-09,黄石,规上高新技术企业,312,家\n"
    assert _send(landing, "a.csv", slip) == 1
    with duckdb.connect(str(landing.db)) as con:
        con.execute("delete from dq.value_checks")
        con.execute("delete from dq.value_checked_files")  # stopped before the check
    assert landing.ingest() == []  # nothing new to land; the check still runs
    assert _checked(landing) == [("progress/a.csv", 3, "progress/a.csv", 2, 10.0645)]
    # Made before the check: neither table. a.csv counts as checked; b.csv is checked.
    with duckdb.connect(str(landing.db)) as con:
        con.execute("drop table dq.value_checks")
        con.execute("drop table dq.value_checked_files")
    assert _send(landing, "b.csv", "2026-10,黄石,规上高新技术企业,3120,家\n") == 1
    assert _checked(landing) == [("progress/b.csv", 2, "progress/a.csv", 3, 10.0)]


def test_an_indicator_may_set_its_own_limit(tmp_path: Path) -> None:
    """value_check_factor in the catalog: here 2 for 技术合同成交额, a flow (a thousand else)."""
    landing = Landing(tmp_path)
    with duckdb.connect(str(landing.db)) as con:
        con.execute(
            "update raw.indicators set value_check_factor = 2 "
            "where indicator_id = 'tech_contract_turnover'"
        )
    _send(landing, "a.csv", "2026-09,黄石,技术合同成交额,8.2,亿元\n")
    assert _send(landing, "b.csv", "2026-10,黄石,技术合同成交额,20,亿元\n") == 1
