"""`marts.target_status_log`: each target's status as the publications showed it, one row each
time it changed — so that the office can say what moved since the last publication, and since
when a target has been where it is.

Written by the publication (lib/warehouse.py), into the copy about to be published and then into
the working file, as `marts.publish_log` is. Why not a dbt snapshot, dbt's own tool for a history
of changes: a snapshot records when dbt builds, before the gates judge the build, so it would
keep statuses that a blocked run never published and that nobody saw; and a look back
(PLAN_TRACKER_AS_OF_DATE before the last logged date) would enter the past as the newest change.
The log holds what was published, moving forward only: a publication whose as-of date is
before the latest logged one logs nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import yaml

from dagster_project.lib.paths import DBT_DIR
from dagster_project.lib.sql import OFFICE_TIMEZONE, quote_literal, table_exists

TABLE = "marts.target_status_log"

# The status vocabulary (DESIGN.md), worst news first.
WORST_FIRST = ("off_track", "at_risk", "no_data", "on_track", "achieved")


def worst_first_sql(column: str) -> str:
    """A SQL sort key putting `column`'s statuses worst first."""
    statuses = ", ".join(f"'{status}'" for status in WORST_FIRST)
    return f"list_position([{statuses}], {column})"


DDL = f"""
create table if not exists {TABLE} (
    target_id varchar not null,
    run_id varchar not null,
    published_at timestamp with time zone not null,
    as_of_date date not null,
    status varchar not null,
    projected_status varchar,
    pace_ratio double,
    actual_value double,
    expected_value double,
    data_through_date date,
    previous_status varchar,
    previous_projected_status varchar,
    previous_as_of_date date
)
"""

# The table's and its columns' descriptions, English and Chinese: written once, for dbt docs,
# where the log is declared as a source; put on the table as DuckDB comments too, for the BI tools
# that show them (DBeaver, Superset).
DESCRIBED_IN = DBT_DIR / "models" / "marts" / "_marts__published.yml"


def descriptions() -> dict[str, str]:
    """{"": the table's description, column: its description} from DESCRIBED_IN."""
    sources = yaml.safe_load(DESCRIBED_IN.read_text(encoding="utf-8"))["sources"]
    [table] = [
        t for source in sources for t in source["tables"] if t["name"] == "target_status_log"
    ]
    return {"": table["description"]} | {c["name"]: c["description"] for c in table["columns"]}


# Each target's latest logged row, with the day (in the office's time zone) of the first
# publication of the status it has held since — its projection may have moved after.
_LATEST_SQL = f"""
select
    target_id, status as logged_status, projected_status as logged_projected_status,
    as_of_date as logged_as_of_date, previous_status, previous_projected_status,
    run_id as logged_run,
    cast(timezone('{OFFICE_TIMEZONE}', max(published_at) filter (
        where previous_status is distinct from status
    ) over (partition by target_id)) as date) as status_since
from {TABLE}
qualify row_number() over (partition by target_id order by published_at desc) = 1
"""  # noqa: S608 - constants
_NOTHING_LOGGED_SQL = """
select
    null::varchar as target_id, null::varchar as logged_status,
    null::varchar as logged_projected_status, null::date as logged_as_of_date,
    null::varchar as previous_status,
    null::varchar as previous_projected_status, null::varchar as logged_run,
    null::date as status_since
where false
"""


def latest_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A query of each target's latest logged row (`_LATEST_SQL`'s columns); none where the
    warehouse has no log yet (published before it existed)."""
    return _LATEST_SQL if table_exists(con, "marts", "target_status_log") else _NOTHING_LOGGED_SQL


# The targets' statuses in the warehouse being published, against the last logged row of each:
# a row for each target first published or whose status or projection changed. The caller
# logs nothing for a look back (`looked_back_from`).
_CHANGES_SQL = f"""
with logged as ({_LATEST_SQL})

select
    v.target_id, ? as run_id, ? as published_at, v.as_of_date, v.status, v.projected_status,
    v.pace_ratio, v.actual_value, v.expected_value, v.data_through_date,
    logged.logged_status, logged.logged_projected_status, logged.logged_as_of_date
from marts.fct_target_vs_actual as v
left join logged on v.target_id = logged.target_id
where v.is_latest and (
    logged.target_id is null
    or v.status is distinct from logged.logged_status
    or v.projected_status is distinct from logged.logged_projected_status
)
order by v.target_id
"""  # noqa: S608 - constants


# The position of previous_status in a logged row (the table's column order).
PREVIOUS_STATUS = 10


@dataclass(frozen=True)
class Logged:
    rows: list[tuple[object, ...]]
    # The latest as-of date logged before, when this publication's is earlier (a look back):
    # nothing was logged.
    looked_back_from: dt.date | None = None

    @property
    def changed(self) -> int:
        """Targets whose status or projection changed (the others logged are new)."""
        return sum(row[PREVIOUS_STATUS] is not None for row in self.rows)

    def describe(self) -> str:
        if self.looked_back_from is not None:
            return f"nothing logged: a look back, before {self.looked_back_from}"
        return f"{self.changed} target(s) changed, {len(self.rows) - self.changed} first published"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the log in a warehouse that has none yet, and describe it as the code publishing
    describes it."""
    con.execute(DDL)
    for column, text in descriptions().items():
        target = f"column {TABLE}.{column}" if column else f"table {TABLE}"
        # COMMENT takes no bound parameters; the texts are this module's constants.
        con.execute(f"comment on {target} is {quote_literal(text)}")


def record(con: duckdb.DuckDBPyConnection, run_id: str, published_at: dt.datetime) -> Logged:
    """Append this publication's changes to the log of the warehouse `con` has open (the copy
    being published); the rows, to append to the working file too (`append`). Nothing when the
    warehouse has no target evaluation yet."""
    if not table_exists(con, "marts", "fct_target_vs_actual"):
        return Logged([])
    ensure_table(con)
    back = looked_back_from(con)
    if back is not None:
        return Logged([], back)
    rows = [tuple(r) for r in con.execute(_CHANGES_SQL, [run_id, published_at]).fetchall()]
    _insert(con, rows)
    return Logged(rows)


def looked_back_from(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The latest as-of date logged, when the warehouse's own is earlier (a look back,
    PLAN_TRACKER_AS_OF_DATE): the log moves forward only."""
    if not table_exists(con, "marts", "target_status_log"):
        return None
    [(logged, current)] = con.execute(
        f"select (select max(as_of_date) from {TABLE}), "  # noqa: S608 - constant
        "(select max(as_of_date) from marts.fct_target_vs_actual where is_latest)"
    ).fetchall()
    return logged if logged is not None and current is not None and current < logged else None


def append(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
    """Append logged rows (the working file's copy of them: its comments are set when the
    next publication copies it)."""
    con.execute(DDL)
    _insert(con, rows)


def _insert(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> None:
    if rows:
        placeholders = ", ".join("?" * len(rows[0]))
        con.executemany(f"insert into {TABLE} values ({placeholders})", rows)  # noqa: S608


def disagreements(con: duckdb.DuckDBPyConnection) -> int:
    """How many targets' last logged row is not their status and projection in this warehouse:
    0 in every publication that is not a look back, whatever runs were killed before it
    (`make stress` and the pipeline's tests check it)."""
    if not table_exists(con, "marts", "target_status_log"):
        return 0
    [(count,)] = con.execute(
        f"""
        with logged as ({_LATEST_SQL})

        select count(*)
        from marts.fct_target_vs_actual as v
        left join logged on v.target_id = logged.target_id
        where v.is_latest and (
            logged.logged_status is distinct from v.status
            or logged.logged_projected_status is distinct from v.projected_status
        )
        """  # noqa: S608 - constants
    ).fetchall()
    return int(count)
