"""`dq.check_results`: one row per check per run, so BI can chart quality over time."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb

CHECK_RESULTS_DDL = """
create table if not exists dq.check_results (
    run_id varchar not null,
    stage varchar not null,
    asset_key varchar not null,
    check_name varchar not null,
    check_kind varchar not null,
    success boolean not null,
    severity varchar not null,
    observed_value json,
    failing_sample json,
    message varchar,
    checked_at timestamp with time zone not null
)
"""


@dataclass(frozen=True)
class CheckResult:
    run_id: str
    stage: str
    asset_key: str
    check_name: str
    check_kind: str  # great_expectations, dbt_test, invariant, value_check
    success: bool
    severity: str  # error (blocking) or warn
    observed_value: Any
    failing_sample: Any
    message: str


def record(con: duckdb.DuckDBPyConnection, results: list[CheckResult]) -> None:
    con.execute(CHECK_RESULTS_DDL)
    now = dt.datetime.now(dt.UTC)
    con.executemany(
        "insert into dq.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                r.run_id,
                r.stage,
                r.asset_key,
                r.check_name,
                r.check_kind,
                r.success,
                r.severity,
                json.dumps(r.observed_value, ensure_ascii=False, default=str),
                json.dumps(r.failing_sample, ensure_ascii=False, default=str),
                r.message,
                now,
            ]
            for r in results
        ],
    )


def last_outcomes(
    con: duckdb.DuckDBPyConnection, keys: Iterable[Any]
) -> dict[Any, tuple[bool, str, str]]:
    """The last recorded dbt test outcome — (success, severity, run id) — of each check key
    (Dagster's AssetCheckKey: `asset_key` [schema, model] and `name`, the test's name) that has
    one."""
    wanted = {(key.asset_key.to_user_string(), key.name): key for key in keys}
    if not wanted:
        return {}
    con.execute(CHECK_RESULTS_DDL)
    rows = con.execute(
        """
        select asset_key, check_name, success, severity, run_id
        from dq.check_results
        where check_kind = 'dbt_test'
        qualify row_number() over (partition by asset_key, check_name order by checked_at desc) = 1
        """
    ).fetchall()
    return {
        wanted[(asset_key, name)]: (success, severity, run_id)
        for asset_key, name, success, severity, run_id in rows
        if (asset_key, name) in wanted
    }


def last_result_since(
    con: duckdb.DuckDBPyConnection, asset_key: str, check_name: str, since: dt.datetime
) -> tuple[bool, str, str, str] | None:
    """The last outcome — (success, severity, message, run id) — of a check evaluated after
    `since`, if any; not an outcome carried over from an earlier run (`outcome_of_run`)."""
    con.execute(CHECK_RESULTS_DDL)
    rows = con.execute(
        """
        select success, severity, message, run_id
        from dq.check_results
        where
            asset_key = ? and check_name = ? and checked_at > ?
            and observed_value ->> 'outcome_of_run' is null
        order by checked_at desc
        limit 1
        """,
        [asset_key, check_name, since],
    ).fetchall()
    return (rows[0][0], rows[0][1], rows[0][2], rows[0][3]) if rows else None
