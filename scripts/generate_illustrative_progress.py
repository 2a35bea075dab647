"""Generate the ILLUSTRATIVE 2026 progress reports bundled under raw/progress/illustrative/.

These numbers are invented to exercise the pipeline: they are not real statistics. Every row says
so in its note (备注) column, and every file name contains "illustrative". The generator is
deterministic (a fixed seed and fixed dates), so re-running it reproduces the same reports.

What it writes, as cities and departments really send them:
- metro/<city>/<city>_2026Qn_illustrative.{csv,xlsx}: each of the nine cities, one file per quarter
  (Q1–Q3), monthly flows and quarter-end stocks; Wuhan as XLSX with title rows and an instructions
  sheet, Huanggang in GBK, Ezhou in 万元, Xianning with full-width digits, Xiaogan year-to-date
  (累计) values, Qianjiang with English headers;
- metro/xiaogan/xiaogan_2026Q2_correction_illustrative.csv: a resubmission that corrects Q2;
- corridor/chegu_2026Qn_illustrative.xlsx: the corridor's seven areas, monthly output, quarterly
  stocks;
- a few deliberately bad rows (a misspelt city, a non-numeric value, an unknown unit, a formula),
  which the pipeline must quarantine with a clear reason.

Usage: python scripts/generate_illustrative_progress.py [RAW_DIR]
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl

SEED = 20260224
NOTE = "示例数据 ILLUSTRATIVE, not real statistics"
HEADER = ["报告期", "城市/地区", "指标", "数值", "单位", "口径", "填报单位", "填报日期", "备注"]
HEADER_EN = [
    "period",
    "geography",
    "indicator",
    "value",
    "unit",
    "basis",
    "reporter",
    "reported_on",
    "note",
]

CITIES = {
    # geo name: (scale of the city's activity, its science bureau)
    "武汉": (10.0, "武汉市科创局"),
    "黄石": (1.2, "黄石市科技局"),
    "鄂州": (0.8, "鄂州市科技局"),
    "孝感": (1.0, "孝感市科技局"),
    "黄冈": (1.0, "黄冈市科技局"),
    "咸宁": (0.8, "咸宁市科技局"),
    "仙桃": (0.6, "仙桃市科技局"),
    "天门": (0.5, "天门市科技局"),
    "潜江": (0.6, "潜江市科技局"),
}
HIGHTECH_2025 = {
    "武汉": 3900,
    "黄石": 380,
    "鄂州": 210,
    "孝感": 330,
    "黄冈": 300,
    "咸宁": 240,
    "仙桃": 160,
    "天门": 120,
    "潜江": 150,
}
CORRIDOR = {
    # area: (monthly vehicle output in 万辆, NEV share, export share, 规上高企 at end 2025)
    "武汉经开区": (5.2, 0.55, 0.14, 420),
    "蔡甸": (0.9, 0.45, 0.08, 160),
    "江夏": (0.6, 0.60, 0.05, 210),
    "汉阳": (0.35, 0.40, 0.05, 120),
    "洪山": (0.08, 0.80, 0.02, 260),
    "洪湖新滩": (0.04, 0.30, 0.00, 15),
    "汉川马口": (0.05, 0.30, 0.00, 20),
}
QUARTER_MONTHS = {1: (1, 2, 3), 2: (4, 5, 6), 3: (7, 8, 9)}
QUARTER_ZH = {1: "一", 2: "二", 3: "三"}


def _reported_on(quarter: int, day: int = 12) -> str:
    return dt.date(2026, quarter * 3 + 1, day).isoformat()


def _fmt(value: float, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def metro_rows(city: str, quarter: int, rng: random.Random) -> list[list[str]]:
    scale, bureau = CITIES[city]
    rows: list[list[str]] = []
    reported_on = _reported_on(quarter)
    ytd_turnover = 0.0
    for month in QUARTER_MONTHS[quarter]:
        turnover = scale * rng.uniform(14, 22)  # 亿元 per month
        ytd_turnover += turnover
        rows.append([f"2026-{month:02d}", city, "技术合同成交额", _fmt(turnover), "亿元", "当期"])
        # Reported every month, 0 when no platform was added: a blank would mean "not reported".
        new_platforms = "1" if rng.random() < 0.12 * scale**0.5 else "0"
        rows.append(
            [f"2026年{month}月", city, "新建省级及以上创新平台", new_platforms, "家", "当期"]
        )
        rows.append(
            [f"2026年{month}月", city, "校地产学研合作项目", str(rng.randint(0, 2)), "项", "当期"]
        )
    if quarter in (2, 3) or rng.random() < 0.5:
        rows.append(
            [f"2026Q{quarter}", city, "成果转化对接活动", str(rng.randint(0, 1)), "场", "当期"]
        )
    level = HIGHTECH_2025[city] * (1 + 0.035 * quarter + rng.uniform(-0.01, 0.01))
    rows.append(
        [
            f"2026年{QUARTER_ZH[quarter]}季度",
            city,
            "规上高新技术企业",
            str(round(level)),
            "家",
            "当期",
        ]
    )
    if city == "武汉":
        for month in QUARTER_MONTHS[quarter]:
            rows.append(
                [
                    f"2026-{month:02d}",
                    "武汉",
                    "科技人才技术服务人次",
                    str(rng.randint(18, 34)),
                    "人次",
                    "当期",
                ]
            )
        rows.append(
            [
                f"2026Q{quarter}",
                "武汉都市圈",
                "离岸科创中心入驻企业",
                str(231 + 14 * quarter + rng.randint(0, 5)),
                "家",
                "当期",
            ]
        )
        rows.append(
            [
                f"2026Q{quarter}",
                "武汉都市圈",
                "解决关键技术难题",
                str(rng.randint(5, 10)),
                "项",
                "当期",
            ]
        )
        rows.append(
            [
                f"2026Q{quarter}",
                "武汉都市圈",
                "科技结对高校院所",
                str(10 + 6 * quarter),
                "所",
                "当期",
            ]
        )
    return [[*r, bureau, reported_on, NOTE] for r in rows]


def ytd_rows(rows: list[list[str]], quarter: int) -> list[list[str]]:
    """Xiaogan reports technology contract turnover year to date (累计 1–n月)."""
    out, running = [], ytd_base.get(quarter, 0.0)
    for r in rows:
        if r[2] == "技术合同成交额":
            running += float(r[3])
            month = int(r[0][-2:])
            out.append([f"2026年1-{month}月", *r[1:3], _fmt(running), r[4], "累计", *r[6:]])
        else:
            out.append(r)
    ytd_base[quarter + 1] = running
    return out


ytd_base: dict[int, float] = {}


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]], encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))


def write_xlsx(
    path: Path, title: str, rows: Sequence[Sequence[object]], with_instructions: bool
) -> None:
    workbook = openpyxl.Workbook()
    if with_instructions:
        notes = workbook.active
        notes.title = "填表说明"
        notes.append(["填表说明：数值按所列单位填写；流量指标填当期值，存量指标填期末值。"])
        notes.append(["本表为示例数据 ILLUSTRATIVE，不是真实统计。"])
        sheet = workbook.create_sheet("数据")
    else:
        sheet = workbook.active
        sheet.title = "数据"
    sheet.append([title])
    sheet.append([f"填报说明：{NOTE}"])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    fixed = dt.datetime(2026, 10, 15, 9, 0, 0)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    reproducible_zip(path)


def reproducible_zip(path: Path) -> None:
    """Rewrite an XLSX with fixed member timestamps, so the same content gives the same bytes."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


def corridor_rows(quarter: int, rng: random.Random) -> list[list[object]]:
    rows: list[list[object]] = []
    reported_on = _reported_on(quarter, 15)
    for area, (output, nev, export, hightech) in CORRIDOR.items():
        for month in QUARTER_MONTHS[quarter]:
            vehicles = output * rng.uniform(0.85, 1.15)
            rows.append([f"2026年{month}月", area, "整车产量", round(vehicles, 2), "万辆", "当期"])
            rows.append(
                [
                    f"2026年{month}月",
                    area,
                    "新能源汽车产量",
                    round(vehicles * nev, 2),
                    "万辆",
                    "当期",
                ]
            )
            if export:
                # The core reports exports in vehicles (辆), the others in 万辆.
                if area == "武汉经开区":
                    rows.append(
                        [
                            f"2026年{month}月",
                            area,
                            "汽车出口",
                            round(vehicles * export * 10000),
                            "辆",
                            "当期",
                        ]
                    )
                else:
                    rows.append(
                        [
                            f"2026年{month}月",
                            area,
                            "汽车出口",
                            round(vehicles * export, 3),
                            "万辆",
                            "当期",
                        ]
                    )
        rows.append(
            [
                f"2026Q{quarter}",
                area,
                "规模以上高新技术企业",
                round(hightech * (1 + 0.04 * quarter)),
                "家",
                "当期",
            ]
        )
        rows.append(
            [
                f"2026Q{quarter}",
                area,
                "制造业企业数字化转型",
                rng.randint(4, 12) if area in ("武汉经开区", "蔡甸", "江夏") else rng.randint(0, 3),
                "家",
                "当期",
            ]
        )
    rows.append(
        [
            f"2026Q{quarter}",
            "车谷产业创新大走廊",
            "汽车产业生态圈营收",
            round(2350 * rng.uniform(0.95, 1.08), 1),
            "亿元",
            "当期",
        ]
    )
    rows.append(
        [
            f"2026Q{quarter}",
            "车谷产业创新大走廊",
            "国家高能级创新平台",
            4 + (quarter >= 3),
            "家",
            "当期",
        ]
    )
    rows.append(
        [
            f"2026Q{quarter}",
            "车谷产业创新大走廊",
            "新增10亿元以上核心零部件企业",
            rng.randint(2, 6),
            "家",
            "当期",
        ]
    )
    rows.append(
        [
            f"2026Q{quarter}",
            "车谷产业创新大走廊",
            "国产车规级芯片和车用软件批量装车",
            rng.randint(0, 2),
            "款",
            "当期",
        ]
    )
    if quarter == 2:
        rows.append(["2026H1", "车谷产业创新大走廊", "千亿级整车企业", 2, "家", "当期"])
        rows.append(["2026H1", "车谷产业创新大走廊", "五百亿级整车企业", 2, "家", "当期"])
    return [[*r, "武汉经开区统计局", reported_on, NOTE] for r in rows]


def main(raw_dir: Path) -> list[Path]:
    rng = random.Random(SEED)
    out = raw_dir / "progress" / "illustrative"
    written: list[Path] = []
    for quarter in (1, 2, 3):
        for city in CITIES:
            rows = metro_rows(city, quarter, rng)
            slug = {
                "武汉": "wuhan",
                "黄石": "huangshi",
                "鄂州": "ezhou",
                "孝感": "xiaogan",
                "黄冈": "huanggang",
                "咸宁": "xianning",
                "仙桃": "xiantao",
                "天门": "tianmen",
                "潜江": "qianjiang",
            }[city]
            base = out / "metro" / slug / f"{slug}_2026Q{quarter}_illustrative"
            if city == "武汉":
                path = base.with_suffix(".xlsx")
                title = f"2026年第{QUARTER_ZH[quarter]}季度 武汉都市圈科技同兴进度报表（武汉市）"
                write_xlsx(path, title, rows, with_instructions=True)
            elif city == "黄冈":
                path = base.with_suffix(".csv")
                write_csv(path, HEADER, rows, "gbk")
            elif city == "鄂州":
                rows = [
                    [*r[:3], _fmt(float(r[3]) * 10000, 0), "万元", *r[5:]]
                    if r[2] == "技术合同成交额"
                    else r
                    for r in rows
                ]
                if quarter == 3:
                    rows.append(
                        ["2026-09", "鄂州", "校地产学研合作项目", "约3", "项", "当期", *rows[0][6:]]
                    )
                path = base.with_suffix(".csv")
                write_csv(path, HEADER, rows, "utf-8-sig")
            elif city == "咸宁":
                full = str.maketrans("0123456789.", "０１２３４５６７８９．")
                rows = [[*r[:3], r[3].translate(full), *r[4:]] for r in rows]
                path = base.with_suffix(".csv")
                write_csv(path, HEADER, rows, "utf-8")
            elif city == "孝感":
                rows = ytd_rows(rows, quarter)
                path = base.with_suffix(".csv")
                write_csv(path, HEADER, rows, "utf-8-sig")
                if quarter == 2:
                    corrected = [
                        [
                            *r[:3],
                            _fmt(float(r[3]) * 1.05),
                            *r[4:7],
                            "2026-07-28",
                            f"更正 correction; {NOTE}",
                        ]
                        for r in rows
                        if r[2] == "技术合同成交额"
                    ]
                    correction = out / "metro" / slug / f"{slug}_2026Q2_correction_illustrative.csv"
                    write_csv(correction, HEADER, corrected, "utf-8-sig")
                    written.append(correction)
            elif city == "潜江":
                path = base.with_suffix(".csv")
                write_csv(path, HEADER_EN, rows, "utf-8")
            else:
                if city == "天门" and quarter == 2:
                    rows.append(
                        ["2026-05", "天门石", "校地产学研合作项目", "1", "项", "当期", *rows[0][6:]]
                    )
                if city == "黄石" and quarter == 1:
                    rows.append(
                        ["2026-03", "黄石", "技术合同成交额", "3.1", "亿", "当期", *rows[0][6:]]
                    )
                path = base.with_suffix(".csv")
                write_csv(path, HEADER, rows, "utf-8")
            written.append(path)
        crows = corridor_rows(quarter, rng)
        if quarter == 3:
            crows.append(
                [
                    "2026年9月",
                    "汉阳",
                    "汽车出口",
                    "=D5*0.1",
                    "万辆",
                    "当期",
                    "武汉经开区统计局",
                    _reported_on(3, 15),
                    NOTE,
                ]
            )
        path = out / "corridor" / f"chegu_2026Q{quarter}_illustrative.xlsx"
        title = f"车谷产业创新大走廊 2026年第{QUARTER_ZH[quarter]}季度 产业指标（示例数据）"
        write_xlsx(path, title, crows, with_instructions=False)
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "raw"
    files = main(target)
    print(f"wrote {len(files)} illustrative files under {target / 'progress' / 'illustrative'}")
