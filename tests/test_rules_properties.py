"""Property-based tests of the period and unit rules: any spelling of a period gives the same date
range, and any unit of the indicator's dimension converts to the same canonical value."""

from __future__ import annotations

import calendar
import datetime as dt
import shutil

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagster_project.lib.catalog import load_catalog
from dagster_project.lib.catalog_tables import catalog_tables
from dagster_project.lib.progress.rules import PARSE_SQL
from dagster_project.lib.text import HALFWIDTH_SQL_MACRO, LOOKUP_KEY_SQL_MACRO
from dagster_project.lib.warehouse import SCHEMAS, replace_table
from tests.conftest import RAW

ZH_DIGITS = "一二三四"
FULLWIDTH = str.maketrans("0123456789-Q", "０１２３４５６７８９－Ｑ")


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    raw = tmp_path_factory.mktemp("rules") / "raw"
    for part in ("plans", "reference"):
        shutil.copytree(RAW / part, raw / part)
    connection = duckdb.connect()
    for schema in SCHEMAS:
        connection.execute(f"create schema {schema}")
    connection.execute(HALFWIDTH_SQL_MACRO)
    connection.execute(LOOKUP_KEY_SQL_MACRO)
    for name, data in catalog_tables(load_catalog(raw), dt.datetime.now(dt.UTC)).items():
        replace_table(connection, "raw", name, data)
    return connection


def parse(
    con,
    period: str,
    value: str = "1",
    unit: str = "亿元",
    basis: str = "当期",
    indicator: str = "技术合同成交额",
):
    con.execute(
        "create or replace temp table incoming as select 0 as file_no, 2 as source_row, "
        "null::varchar as sheet, null::varchar as source_column, "
        "?::varchar as period_raw, '黄石'::varchar as geography_raw, ?::varchar as indicator_raw, "
        "?::varchar as value_raw, ?::varchar as unit_raw, ?::varchar as basis_raw, "
        "null::varchar as reporter, null::varchar as reported_on_raw, null::varchar as note",
        [period, indicator, value, unit, basis],
    )
    con.execute(PARSE_SQL)
    return con.execute("select period_start, period_end, value, reason_code from parsed").fetchone()


def month_spellings(year: int, month: int) -> list[str]:
    return [
        f"{year}-{month:02d}",
        f"{year}-{month}",
        f"{year}年{month}月",
        f"{year}{month:02d}",
        f"{year}/{month:02d}",
        f"{year}.{month}",
        f"{year}年{month:02d}月",
    ]


def quarter_spellings(year: int, q: int) -> list[str]:
    return [
        f"{year}Q{q}",
        f"{year}q{q}",
        f"{year}-Q{q}",
        f"{year}年{ZH_DIGITS[q - 1]}季度",
        f"{year}年第{ZH_DIGITS[q - 1]}季度",
        f"{year}年第{q}季度",
        f"{year}年{q}季度",
    ]


years = st.integers(min_value=2025, max_value=2026)
common = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@common
@given(year=years, month=st.integers(1, 10), data=st.data())
def test_any_month_spelling_is_that_month(con, year, month, data) -> None:
    spelling = data.draw(st.sampled_from(month_spellings(year, month)))
    if data.draw(st.booleans()):
        spelling = spelling.translate(FULLWIDTH)
    start, end, _, reason = parse(con, spelling)
    assert reason is None, (spelling, reason)
    assert (start, end) == (
        dt.date(year, month, 1),
        dt.date(year, month, calendar.monthrange(year, month)[1]),
    )


@common
@given(year=years, q=st.integers(1, 3), data=st.data())
def test_any_quarter_spelling_is_that_quarter(con, year, q, data) -> None:
    spelling = data.draw(st.sampled_from(quarter_spellings(year, q)))
    start, end, _, reason = parse(con, spelling)
    assert reason is None, (spelling, reason)
    last = 3 * q
    assert (start, end) == (
        dt.date(year, last - 2, 1),
        dt.date(year, last, calendar.monthrange(year, last)[1]),
    )


@common
@given(year=years, first=st.integers(1, 10), span=st.integers(0, 2), ytd=st.booleans())
def test_month_ranges_and_year_to_date(con, year, first, span, ytd) -> None:
    last = min(first + span, 10)
    start, end, _, reason = parse(con, f"{year}年{first}-{last}月", basis="累计" if ytd else "当期")
    if ytd and first != 1:
        assert reason == "basis_conflicts_with_period"
        return
    assert reason is None
    assert start == dt.date(year, first, 1)
    assert end == dt.date(year, last, calendar.monthrange(year, last)[1])


@common
@given(year=years, month=st.integers(1, 10))
def test_cumulative_month_starts_in_january(con, year, month) -> None:
    start, end, _, reason = parse(con, f"{year}-{month:02d}", basis="累计")
    assert reason is None
    assert start == dt.date(year, 1, 1) and end.month == month


@common
@given(
    amount=st.decimals(min_value="0.01", max_value="9999", places=2),
    unit=st.sampled_from([("元", 1.0), ("万元", 1e4), ("亿元", 1e8)]),
)
def test_currency_converts_to_yi_yuan(con, amount, unit) -> None:
    name, yuan_per_unit = unit
    reported = float(amount) * 1e8 / yuan_per_unit
    _, _, got, reason = parse(con, "2026-03", value=repr(reported), unit=name)
    assert reason is None
    assert got == pytest.approx(float(amount), rel=1e-9)


@common
@given(n=st.integers(min_value=0, max_value=2_000_000), thousands=st.booleans())
def test_vehicle_counts_convert_to_wan_liang(con, n, thousands) -> None:
    text = f"{n:,}" if thousands else str(n)
    _, _, got, reason = parse(con, "2026-03", value=text, unit="辆", indicator="整车产量")
    assert reason is None
    assert got == pytest.approx(n / 1e4)


@common
@given(garbage=st.text(alphabet="年月季度-Qq0123456789", min_size=1, max_size=8))
def test_no_spelling_parses_to_an_impossible_period(con, garbage) -> None:
    start, end, _, reason = parse(con, garbage)
    if reason is None:
        assert start <= end
        assert start.day == 1
        assert (end + dt.timedelta(days=1)).day == 1
