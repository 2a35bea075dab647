"""Text normalisation shared by Python and SQL, so that an alias matches the same way everywhere.

Reports arrive with full-width digits and letters (`１２３`, `Ｑ１`), ideographic spaces and stray
whitespace. `lookup_key` is the one normal form used for every lookup (geographies, indicators,
units, headers); `HALFWIDTH_SQL_MACRO` is its DuckDB twin, vectorised over whole columns.
"""

from __future__ import annotations

# Full-width ASCII forms U+FF01..U+FF5E map to U+0021..U+007E; U+3000 (ideographic space) and
# U+00A0 (no-break space, common in spreadsheets) map to a plain space.
_FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000\u00a0"
_HALFWIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + "  "
_TO_HALFWIDTH = str.maketrans(_FULLWIDTH, _HALFWIDTH)
# Dashes and tildes typed between months: 1－9月, 1—9月, 1–9月, 1~9月, 1～9月 all mean a range.
_DASHES = "—–－~～〜"


def to_halfwidth(text: str) -> str:
    """Full-width ASCII forms and ideographic spaces to their ASCII equivalents."""
    return text.translate(_TO_HALFWIDTH)


def lookup_key(text: str) -> str:
    """The normal form in which names, aliases and headers are compared: half-width, lower case,
    without any whitespace."""
    return "".join(to_halfwidth(text).lower().split())


def sql_string_literal(text: str) -> str:
    """A SQL string literal for a constant that this module defines (never for file content)."""
    return "'" + text.replace("'", "''") + "'"


# DuckDB macros with the same behaviour as the functions above. `translate` maps character by
# character, exactly like str.translate, so Python and SQL agree on every input. Temporary: they
# live as long as the connection that made them, so making them writes nothing to the file — a
# stored macro, made again by every connection, made DuckDB write the file's catalog at each
# close (17 ms a connection at 9M reports, ~19 connections a run).
HALFWIDTH_SQL_MACRO = (
    "create or replace temp macro pt_halfwidth(s) as "
    f"translate(s, {sql_string_literal(_FULLWIDTH)}, {sql_string_literal(_HALFWIDTH)})"
)
LOOKUP_KEY_SQL_MACRO = (
    "create or replace temp macro pt_lookup_key(s) as "
    "regexp_replace(lower(pt_halfwidth(s)), '\\s+', '', 'g')"
)
DASHES = _DASHES
