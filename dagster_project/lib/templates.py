"""Report templates: for each geography, a CSV of the reports it owes as of the published
warehouse's as-of date — periods ended and not received (fct_report_completeness) — in the
catalog's own names, units and period spellings, with the value left blank. The plan office
sends each one out; filled in and dropped into raw/progress/, it lands without a quarantined row.

Written by hand: no tool of the stack writes a sender's form from the warehouse.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

# The column names the ingest reads (lib/progress/headers.py), in the order of the bundled files.
HEADER = ("报告期", "城市/地区", "指标", "数值", "单位", "口径", "填报单位", "填报日期", "备注")
# A period in a spelling the ingest reads for each reporting frequency of the catalog.
_PERIOD_SQL = """
case c.reporting_frequency
    when 'month' then strftime(c.period_start, '%Y-%m')
    when 'quarter' then year(c.period_start) || 'Q' || quarter(c.period_start)
    when 'half_year'
        then year(c.period_start) || 'H' || (case when month(c.period_start) <= 6 then 1 else 2 end)
    when 'year' then cast(year(c.period_start) as varchar)
end
"""
OWED_SQL = f"""
select
    c.geo_id,
    g.name_zh as geography_zh,
    i.name_zh as indicator_zh,
    i.unit,
    {_PERIOD_SQL} as period,
    c.reporting_frequency
from marts.fct_report_completeness as c
inner join marts.dim_geography as g on c.geo_id = g.geo_id
inner join marts.dim_indicator as i on c.indicator_id = i.indicator_id
where not c.is_received
order by c.geo_id, c.period_start, c.indicator_id
"""  # noqa: S608 - the CASE is this module's constant


@dataclass(frozen=True)
class Templates:
    files: list[Path]
    reports: int
    as_of_date: str


def write_templates(published_db: Path, out_dir: Path) -> Templates:
    """One `<geo_id>.csv` per geography that owes reports, in UTF-8 with a BOM (Excel shows the
    Chinese), under `out_dir`, whose earlier templates are removed: a geography that owes
    nothing gets none."""
    with duckdb.connect(str(published_db), read_only=True) as con:
        owed = con.execute(OWED_SQL).fetchall()
        (as_of,) = con.execute("select max(as_of_date) from marts.scorecard_plan").fetchone() or (
            None,
        )
    unknown = sorted({row[5] for row in owed if row[4] is None})
    if unknown:
        raise ValueError(f"no period spelling for reporting frequency {unknown}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.csv"):
        old.unlink()
    by_geo: dict[str, list[tuple[str, ...]]] = {}
    names: dict[str, str] = {}
    for geo_id, geography_zh, indicator_zh, unit, period, _ in owed:
        names[geo_id] = geography_zh
        by_geo.setdefault(geo_id, []).append(
            (period, geography_zh, indicator_zh, "", unit, "当期", "", "", "")
        )
    files = []
    for geo_id, rows in by_geo.items():
        path = out_dir / f"{geo_id}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            # A title row above the header, which the ingest skips.
            writer.writerow(
                [f"{names[geo_id]} 应报未报 reports owed as of {as_of}: fill in 数值 and send back"]
            )
            writer.writerow(HEADER)
            writer.writerows(rows)
        files.append(path)
    return Templates(files=files, reports=len(owed), as_of_date=str(as_of))
