"""Quoting for the few SQL statements that take no bound parameters (COPY, ATTACH, identifiers),
and asking DuckDB's catalog whether a table exists."""

from __future__ import annotations

import duckdb


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
