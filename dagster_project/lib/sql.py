"""Quoting for the few SQL statements that take no bound parameters (COPY, ATTACH, identifiers),
asking DuckDB's catalog whether a table exists, and the plan office's day."""

from __future__ import annotations

import duckdb

# The plan office's time zone: "today" is its day, whatever the server's clock is set to (a UTC
# server's date is still yesterday's at the daily run, 06:00 Beijing time). The daily schedule
# (defs/jobs.py) runs in it, the ingest rules judge a period "in the future" by it, and dbt's macro
# as_of_date uses it (dbt_project.yml: office_timezone; tests/test_dbt_state.py checks they agree).
OFFICE_TIMEZONE = "Asia/Shanghai"
OFFICE_TODAY_SQL = f"cast(timezone('{OFFICE_TIMEZONE}', current_timestamp) as date)"
# The day a landed report became known: its report date, else the office's day it was loaded on
# (dbt's macro known_on; a cast of the timestamp alone takes the server's day).
KNOWN_ON_SQL = f"coalesce(reported_on, cast(timezone('{OFFICE_TIMEZONE}', loaded_at) as date))"


def quote_ident(name: str) -> str:
    """A quoted SQL identifier. Only for names the code itself chose (tables, columns), never for
    values read from files."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal, for the few statements (COPY, ATTACH) that take no bound parameters;
    used only for paths the pipeline itself builds."""
    return "'" + text.replace("'", "''") + "'"


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]  # type: ignore[index]
    )


def column_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str, column: str) -> bool:
    """Whether a published warehouse has a column added since it was published (the page and
    the summary read warehouses published by older code too)."""
    return bool(
        con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = ? and table_name = ? and column_name = ?",
            [schema, table, column],
        ).fetchone()[0]  # type: ignore[index]
    )


def if_column(
    con: duckdb.DuckDBPyConnection, table: str, column: str, sql: str, otherwise: str = "null"
) -> str:
    """`sql` where marts.`table` has `column`, else `otherwise`: a query of the page, the workbook,
    the summary or explain naming a column added since older code published the warehouse read."""
    return sql if column_exists(con, "marts", table, column) else otherwise


def members_part_sql(con: duckdb.DuckDBPyConnection, contribution: str, indicator: str) -> str:
    """Whether a row of marts.fct_target_contribution (alias `contribution`, its dim_indicator
    joined as `indicator`) is a part the member has to be judged on: the mart's is_member_judged
    — not one of a figure the area reports itself (dim_indicator.reported_by 'area') where the
    member has no target or figure of its own, a grey "no data" there being of a report it does
    not owe. The page's heat map and the workbook's Members sheet leave those out. A warehouse
    published before the column: the same rule on reported_by; before that column, every row."""
    return if_column(
        con,
        "fct_target_contribution",
        "is_member_judged",
        f"{contribution}.is_member_judged",
        otherwise=if_column(
            con,
            "dim_indicator",
            "reported_by",
            f"not ({indicator}.reported_by = 'area' and {contribution}.member_target_id is null "
            f"and {contribution}.actual_value is null)",
            otherwise="true",
        ),
    )
