"""Quoting for the few SQL statements that take no bound parameters (COPY, ATTACH, identifiers)."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """A quoted SQL identifier. Only for names the code itself chose (tables, columns), never for
    values read from files."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A SQL string literal, for the few statements (COPY, ATTACH) that take no bound parameters;
    used only for paths the pipeline itself builds."""
    return "'" + text.replace("'", "''") + "'"
