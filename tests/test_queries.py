"""The analyst queries in docs/queries/ run on the bundled data and answer their question."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO

QUERIES = sorted((REPO / "docs" / "queries").glob("*.sql"))
pytestmark = pytest.mark.slow


def test_there_are_ten_documented_questions() -> None:
    assert len(QUERIES) >= 10
    for query in QUERIES:
        first = query.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("-- ") and first.endswith("?"), query.name


@pytest.mark.parametrize("query", QUERIES, ids=lambda p: p.stem)
def test_query_answers_on_the_bundled_data(bundled_warehouse: Path, query: Path) -> None:
    with duckdb.connect(str(bundled_warehouse / "plan_tracker.duckdb"), read_only=True) as con:
        rows = con.execute(query.read_text(encoding="utf-8")).fetchall()
    # Every question has an answer in the bundled data (the illustrative reports include lagging
    # targets, missing and corrected reports and rejected rows on purpose).
    assert rows, f"{query.name} returned nothing"
