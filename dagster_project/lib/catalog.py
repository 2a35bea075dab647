"""The plan catalog (`raw/plans/*.yaml`) and the reference data (`raw/reference/*.csv`): schema,
validation and the flat rows that land in the `raw` schema.

Validation happens in two passes. Pydantic checks each file's shape (types, vocabularies, required
fields). Then `validate_catalog` checks what crosses records and files: references between ids,
units, dates inside the horizon, quotes present in the source document, aliases that resolve to one
entity only. Every problem is reported as `file: path.inside.file: message`, all at once, so a
person can fix a catalog in one pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dagster_project.lib.text import lookup_key

Comparator = Literal[">", ">=", "=", "<=", "<"]
Cadence = Literal["by_due_date", "per_year"]
FlowWindow = Literal["since_plan_start", "calendar_year"]
IndicatorKind = Literal["stock", "flow", "ratio"]
ValueQualifier = Literal["exact", "more_than", "nearly", "about"]

COMPARATORS: tuple[str, ...] = (">", ">=", "=", "<=", "<")
CADENCES: tuple[str, ...] = ("by_due_date", "per_year")


class CatalogError(Exception):
    """A plan catalog or reference file is invalid. `problems` lists every `file: path: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} problem(s) in the plan catalog:\n  " + "\n  ".join(problems)
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanMeta(_Strict):
    plan_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    short_name_zh: str | None = None
    short_name_en: str | None = None
    issuer_zh: str | None = None
    issuer_en: str | None = None
    issued_on: dt.date | None = None
    horizon_start: dt.date
    horizon_end: dt.date
    baseline_date: dt.date | None = None
    source_document: str
    source_title: str
    notes: str | None = None


class PlanGeography(_Strict):
    geo_id: str
    role: str


class Action(_Strict):
    action_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    seq: int = Field(ge=0)
    kind: Literal["goals", "task"]
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    note: str | None = None


class Indicator(_Strict):
    indicator_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    unit: str
    kind: IndicatorKind
    is_additive: bool
    good_direction: Literal["up", "down"]
    plausible_min: float = 0.0
    plausible_max: float
    aliases: tuple[str, ...] = ()
    description: str | None = None
    # How often each reporting geography is expected to report it; by default monthly for flows,
    # quarterly for stocks, yearly for ratios (fct_report_completeness).
    reporting_frequency: Literal["month", "quarter", "half_year", "year"] | None = None
    # Who is expected to report a target set for an area: its member geographies (the default for
    # additive indicators) or the area itself (the lead office, e.g. the corridor's statistics
    # bureau).
    reported_by: Literal["members", "area"] | None = None
    # How many times above or below the report before it a reported value is named as one to
    # check (dq.value_checks); by default ten for a level or a ratio, a thousand for a flow
    # (lib/progress/value_checks.py).
    value_check_factor: float | None = Field(default=None, gt=1)


class Baseline(_Strict):
    baseline_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    indicator_id: str
    geo_id: str
    value: float
    value_qualifier: ValueQualifier = "exact"
    as_of_date: dt.date | None
    period_start: dt.date | None = None
    source_quote_zh: str = Field(min_length=1)
    source_quote_en: str = Field(min_length=1)
    note: str | None = None


class Target(_Strict):
    target_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    indicator_id: str
    action_id: str
    geo_id: str
    comparator: Comparator
    target_value: float
    unit: str
    due_date: dt.date
    cadence: Cadence
    flow_window: FlowWindow | None = None
    baseline_id: str | None = None
    source_quote_zh: str = Field(min_length=1)
    source_quote_en: str = Field(min_length=1)
    also_stated_zh: tuple[str, ...] = ()
    note: str | None = None
    # A 分解目标: this member geography's part of an area target of the plan (`part_of`, its
    # target_id), with the same indicator, cadence and due date. The member's contribution is
    # then judged against it rather than its first share of the area (fct_target_contribution).
    part_of: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    # The document under plans/ its quotes come from, when not the plan's own (a 分解方案).
    source_document: str | None = None

    @field_validator("target_value")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("a target value must be greater than 0")
        return value


class ExcludedFigure(_Strict):
    quote_zh: str
    reason: str


class PlanFile(_Strict):
    schema_version: Literal[1]
    plan: PlanMeta
    geographies: tuple[PlanGeography, ...] = Field(min_length=1)
    actions: tuple[Action, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    baselines: tuple[Baseline, ...] = ()
    targets: tuple[Target, ...] = Field(min_length=1)
    excluded_figures: tuple[ExcludedFigure, ...] = ()


class Geography(_Strict):
    geo_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    admin_code: str | None
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    level: Literal[
        "metro_area", "corridor", "city", "district", "development_zone", "co_built_area"
    ]
    parent_geo_id: str | None
    aliases: tuple[str, ...]
    note: str | None


class Unit(_Strict):
    unit: str = Field(min_length=1)
    dimension: str = Field(min_length=1)
    factor: float = Field(gt=0)
    # The unit counts whole things (enterprises, events, vehicles): a value times its factor is
    # a whole number. Optional in units.csv (yes/no, blank is no).
    whole: bool = False
    name_en: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class SourceFile:
    """A catalog or reference file as read: its path relative to the raw folder and its hash."""

    path: Path
    relative: str
    sha256: str


@dataclass
class Catalog:
    """Every validated plan plus the reference data, ready to land."""

    plans: list[tuple[SourceFile, PlanFile]]
    geographies: list[Geography]
    units: list[Unit]
    reference_files: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def indicators(self) -> dict[str, Indicator]:
        return {i.indicator_id: i for _, p in self.plans for i in p.indicators}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _source(path: Path, raw_dir: Path) -> SourceFile:
    return SourceFile(path, path.relative_to(raw_dir).as_posix(), _sha256(path))


def _loc(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _pydantic_problems(relative: str, error: ValidationError, data: Any) -> list[str]:
    problems = []
    for item in error.errors():
        where = _loc(item["loc"])
        # Name the record by its id where the location points inside a list of records.
        label = _record_label(data, item["loc"])
        message = item["msg"]
        if item["type"] == "literal_error":
            message += f" (got {item.get('input')!r})"
        elif item["type"] == "extra_forbidden":
            message = "unknown field (not part of the catalog schema)"
        problems.append(f"{relative}: {where}{label}: {message}")
    return problems


def _record_label(data: Any, loc: tuple[Any, ...]) -> str:
    node = data
    for part in loc[:2]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return ""
    if isinstance(node, dict):
        for key in ("target_id", "baseline_id", "indicator_id", "action_id", "geo_id"):
            if key in node:
                return f" ({key} {node[key]!r})"
    return ""


def _read_yaml(path: Path, relative: str) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError([f"{relative}: not UTF-8 text ({exc.reason})"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown place)"
        raise CatalogError([f"{relative}: {where}: invalid YAML: {exc}"]) from exc


def _split_aliases(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (text or "").split("|") if a.strip())


def read_geographies(path: Path, relative: str) -> list[Geography]:
    rows, problems = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rows.append(
                    Geography(
                        geo_id=row["geo_id"],
                        admin_code=row["admin_code"] or None,
                        name_zh=row["name_zh"],
                        name_en=row["name_en"],
                        level=row["level"],  # type: ignore[arg-type]
                        parent_geo_id=row["parent_geo_id"] or None,
                        aliases=_split_aliases(row["aliases"]),
                        note=row.get("note") or None,
                    )
                )
            except (ValidationError, KeyError) as exc:
                problems.append(f"{relative}: row {line_no}: {exc}")
    if problems:
        raise CatalogError(problems)
    return rows


def _yes_no(text: str | None) -> bool:
    """A yes/no cell of a reference file: blank is no."""
    value = (text or "").strip().lower()
    if value in ("yes", "true", "1", "是"):
        return True
    if value in ("", "no", "false", "0", "否"):
        return False
    raise ValueError(f"expected yes or no, got {text!r}")


def read_units(path: Path, relative: str) -> list[Unit]:
    rows, problems = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rows.append(
                    Unit(
                        unit=row["unit"],
                        dimension=row["dimension"],
                        factor=float(row["factor"]),
                        whole=_yes_no(row.get("whole")),
                        name_en=row["name_en"],
                        aliases=_split_aliases(row["aliases"]),
                    )
                )
            except (ValidationError, KeyError, ValueError) as exc:
                problems.append(f"{relative}: row {line_no}: {exc}")
    if problems:
        raise CatalogError(problems)
    return rows


def load_catalog(raw_dir: Path) -> Catalog:
    """Read and validate `plans/*.yaml` and `reference/*.csv` under `raw_dir`.

    Raises CatalogError listing every problem found, each naming the file and the path inside it.
    """
    raw_dir = raw_dir.resolve()
    plan_paths = sorted((raw_dir / "plans").glob("*.yaml")) + sorted(
        (raw_dir / "plans").glob("*.yml")
    )
    if not plan_paths:
        raise CatalogError([f"{raw_dir / 'plans'}: no plan files (*.yaml) found"])
    problems: list[str] = []
    plans: list[tuple[SourceFile, PlanFile]] = []
    for path in plan_paths:
        source = _source(path, raw_dir)
        try:
            data = _read_yaml(path, source.relative)
        except CatalogError as exc:
            problems += exc.problems
            continue
        try:
            plans.append((source, PlanFile.model_validate(data)))
        except ValidationError as exc:
            problems += _pydantic_problems(source.relative, exc, data)

    reference: dict[str, SourceFile] = {}
    geographies: list[Geography] = []
    units: list[Unit] = []
    for name, reader in (("geographies.csv", read_geographies), ("units.csv", read_units)):
        path = raw_dir / "reference" / name
        if not path.exists():
            problems.append(f"reference/{name}: missing (required reference data)")
            continue
        reference[name] = _source(path, raw_dir)
        try:
            result = reader(path, reference[name].relative)
        except CatalogError as exc:
            problems += exc.problems
            continue
        if name == "geographies.csv":
            geographies = result  # type: ignore[assignment]
        else:
            units = result  # type: ignore[assignment]
    if problems:
        raise CatalogError(problems)
    catalog = Catalog(plans=plans, geographies=geographies, units=units, reference_files=reference)
    validate_catalog(catalog, raw_dir)
    return catalog


def _normalised_text(text: str) -> str:
    return "".join(text.split())


def validate_catalog(catalog: Catalog, raw_dir: Path) -> None:
    """Cross-record rules; raises CatalogError with every violation."""
    problems: list[str] = []
    geos = {g.geo_id: g for g in catalog.geographies}
    units = {u.unit: u for u in catalog.units}

    for g in catalog.geographies:
        if g.parent_geo_id and g.parent_geo_id not in geos:
            problems.append(
                f"reference/geographies.csv: geo_id {g.geo_id!r}: parent_geo_id "
                f"{g.parent_geo_id!r} is not a known geography"
            )
    _check_unique(
        [("reference/geographies.csv", "geo_id", g.geo_id) for g in catalog.geographies], problems
    )
    _check_unique([("reference/units.csv", "unit", u.unit) for u in catalog.units], problems)
    _check_alias_collisions(
        "reference/geographies.csv", "geo_id", geography_alias_rows(catalog), problems
    )
    _check_alias_collisions("reference/units.csv", "unit", unit_alias_rows(catalog), problems)

    seen_plan_ids: dict[str, str] = {}
    seen_ids: dict[tuple[str, str], str] = {}
    indicator_defs: dict[str, tuple[str, Indicator]] = {}
    for source, plan in catalog.plans:
        f = source.relative
        meta = plan.plan
        if meta.plan_id in seen_plan_ids:
            problems.append(
                f"{f}: plan.plan_id: {meta.plan_id!r} is also defined in "
                f"{seen_plan_ids[meta.plan_id]}"
            )
        seen_plan_ids[meta.plan_id] = f
        if Path(f).stem != meta.plan_id:
            problems.append(f"{f}: plan.plan_id: {meta.plan_id!r} must match the file name")
        if meta.horizon_end <= meta.horizon_start:
            problems.append(f"{f}: plan.horizon_end: must be after horizon_start")
        document = _read_document(
            raw_dir, meta.source_document, f"{f}: plan.source_document", problems
        )

        plan_geos = {g.geo_id for g in plan.geographies}
        for i, member in enumerate(plan.geographies):
            if member.geo_id not in geos:
                problems.append(
                    f"{f}: geographies[{i}].geo_id: {member.geo_id!r} is not in "
                    "reference/geographies.csv"
                )
        actions = {a.action_id for a in plan.actions}
        for kind, items in (
            ("action_id", [a.action_id for a in plan.actions]),
            ("indicator_id", [i.indicator_id for i in plan.indicators]),
            ("baseline_id", [b.baseline_id for b in plan.baselines]),
            ("target_id", [t.target_id for t in plan.targets]),
        ):
            for item in items:
                key = (kind, item)
                if key in seen_ids and kind != "indicator_id":
                    problems.append(f"{f}: {kind} {item!r} is also defined in {seen_ids[key]}")
                elif items.count(item) > 1 and key not in seen_ids:
                    problems.append(f"{f}: {kind} {item!r} is defined more than once")
                seen_ids[key] = f

        indicators = {i.indicator_id: i for i in plan.indicators}
        for n, ind in enumerate(plan.indicators):
            where = _at(f, f"indicators[{n}]", f"indicator_id {ind.indicator_id!r}")
            if ind.unit not in units:
                problems.append(f"{where('unit')}: {ind.unit!r} is not in reference/units.csv")
            if ind.kind == "ratio" and ind.is_additive:
                problems.append(f"{where('is_additive')}: a ratio cannot add up across geographies")
            if ind.plausible_max <= ind.plausible_min:
                problems.append(f"{where('plausible_max')}: must exceed plausible_min")
            earlier = indicator_defs.get(ind.indicator_id)
            if earlier and earlier[1] != ind:
                problems.append(
                    f"{where()}: defined differently in {earlier[0]}; an indicator shared by "
                    "plans must have one definition"
                )
            indicator_defs.setdefault(ind.indicator_id, (f, ind))

        baselines = {b.baseline_id: b for b in plan.baselines}
        for n, b in enumerate(plan.baselines):
            where = _at(f, f"baselines[{n}]", f"baseline_id {b.baseline_id!r}")
            _check_refs(where, b.indicator_id, indicators, b.geo_id, plan_geos, problems)
            _check_quote(where, "source_quote_zh", b.source_quote_zh, document, problems)

        for n, t in enumerate(plan.targets):
            where = _at(f, f"targets[{n}]", f"target_id {t.target_id!r}")
            _check_refs(where, t.indicator_id, indicators, t.geo_id, plan_geos, problems)
            if t.action_id not in actions:
                problems.append(
                    f"{where('action_id')}: {t.action_id!r} is not an action of this plan "
                    f"(known: {', '.join(sorted(actions))})"
                )
            indicator = indicators.get(t.indicator_id)
            if indicator is not None:
                if t.unit != indicator.unit:
                    problems.append(
                        f"{where('unit')}: {t.unit!r} differs from the indicator's unit "
                        f"{indicator.unit!r}; state the value in {indicator.unit!r}"
                    )
                if t.cadence == "per_year" and indicator.kind != "flow":
                    problems.append(
                        f"{where('cadence')}: per_year needs a flow indicator; "
                        f"{indicator.indicator_id!r} is a {indicator.kind}"
                    )
                if t.flow_window is not None and indicator.kind != "flow":
                    problems.append(f"{where('flow_window')}: only a flow indicator has one")
            if not meta.horizon_start <= t.due_date <= meta.horizon_end:
                problems.append(
                    f"{where('due_date')}: {t.due_date} is outside the plan horizon "
                    f"{meta.horizon_start}..{meta.horizon_end}"
                )
            if t.baseline_id is not None:
                baseline = baselines.get(t.baseline_id)
                if baseline is None:
                    problems.append(f"{where('baseline_id')}: {t.baseline_id!r} is not a baseline")
                elif baseline.indicator_id != t.indicator_id or baseline.geo_id != t.geo_id:
                    problems.append(
                        f"{where('baseline_id')}: {t.baseline_id!r} measures "
                        f"{baseline.indicator_id}@{baseline.geo_id}, "
                        f"not {t.indicator_id}@{t.geo_id}"
                    )
            quoted_in = document
            if t.source_document is not None:
                quoted_in = _read_document(
                    raw_dir, t.source_document, where("source_document"), problems
                )
            _check_quote(where, "source_quote_zh", t.source_quote_zh, quoted_in, problems)
            for k, quote in enumerate(t.also_stated_zh):
                _check_quote(where, f"also_stated_zh[{k}]", quote, quoted_in, problems)
        _check_parts(f, plan, geos, indicators, problems)
        for n, ex in enumerate(plan.excluded_figures):
            where = _at(f, f"excluded_figures[{n}]", "")
            _check_quote(where, "quote_zh", ex.quote_zh, document, problems)

    _check_alias_collisions("plans/*.yaml", "indicator_id", indicator_alias_rows(catalog), problems)
    if problems:
        raise CatalogError(problems)


def _read_document(raw_dir: Path, name: str, where: str, problems: list[str]) -> str | None:
    """A source document under plans/, whitespace removed for quote checks; None (and a problem
    at `where`) when it is not there."""
    path = (raw_dir / "plans" / name).resolve()
    if not path.is_file() or raw_dir not in path.parents:
        problems.append(f"{where}: {name!r} not found under plans/")
        return None
    return _normalised_text(path.read_text(encoding="utf-8"))


def _check_parts(
    f: str,
    plan: PlanFile,
    geos: dict[str, Geography],
    indicators: dict[str, Indicator],
    problems: list[str],
) -> None:
    """A 分解目标 (`part_of`) names an area target of its plan, for one of the area's members,
    with the same indicator (an additive one), cadence and due date, one per member."""
    targets = {t.target_id: t for t in plan.targets}
    seen: dict[tuple[str, str], str] = {}
    for n, t in enumerate(plan.targets):
        if t.part_of is None:
            continue
        where = _at(f, f"targets[{n}]", f"target_id {t.target_id!r}")
        area = targets.get(t.part_of)
        if area is None:
            problems.append(f"{where('part_of')}: {t.part_of!r} is not a target of this plan")
            continue
        member = geos.get(t.geo_id)
        if member is None or member.parent_geo_id != area.geo_id:
            problems.append(
                f"{where('geo_id')}: {t.geo_id!r} is not a member of {area.geo_id!r}, the "
                f"geography of {area.target_id!r} (reference/geographies.csv parent_geo_id)"
            )
        for name in ("indicator_id", "cadence", "due_date", "flow_window"):
            if getattr(t, name) != getattr(area, name):
                problems.append(
                    f"{where(name)}: {getattr(t, name)!s} differs from its area target "
                    f"{area.target_id!r} ({getattr(area, name)!s}); a part shares its {name}"
                )
        indicator = indicators.get(t.indicator_id)
        if indicator is not None and not indicator.is_additive:
            problems.append(
                f"{where('part_of')}: {t.indicator_id!r} does not add up across geographies, "
                "so an area target of it has no parts"
            )
        key = (t.part_of, t.geo_id)
        if key in seen:
            problems.append(
                f"{where('part_of')}: {t.geo_id!r} already has a part of {t.part_of!r}: "
                f"{seen[key]!r}"
            )
        seen.setdefault(key, t.target_id)


def _at(file: str, path: str, label: str) -> Callable[..., str]:
    """Formats a problem's location: `file: path.field (label)`."""

    def where(field: str = "") -> str:
        suffix = f" ({label})" if label else ""
        return f"{file}: {path}{'.' + field if field else ''}{suffix}"

    return where


def _check_unique(items: list[tuple[str, str, str]], problems: list[str]) -> None:
    seen: set[str] = set()
    for file, kind, value in items:
        if value in seen:
            problems.append(f"{file}: {kind} {value!r} is defined more than once")
        seen.add(value)


def _check_refs(
    where: Callable[..., str],
    indicator_id: str,
    indicators: dict[str, Indicator],
    geo_id: str,
    plan_geos: set[str],
    problems: list[str],
) -> None:
    if indicator_id not in indicators:
        problems.append(
            f"{where('indicator_id')}: {indicator_id!r} is not an indicator of this plan "
            f"(known: {', '.join(sorted(indicators))})"
        )
    if geo_id not in plan_geos:
        problems.append(
            f"{where('geo_id')}: {geo_id!r} is not one of the plan's geographies "
            f"(known: {', '.join(sorted(plan_geos))})"
        )


def _check_quote(
    where: Callable[..., str],
    name: str,
    quote: str,
    document: str | None,
    problems: list[str],
) -> None:
    if document is not None and _normalised_text(quote) not in document:
        problems.append(f"{where(name)}: not found verbatim in the source document: {quote!r}")


def _check_alias_collisions(
    file: str, owner_column: str, rows: list[dict[str, str]], problems: list[str]
) -> None:
    what = {"geo_id": "geography", "indicator_id": "indicator"}.get(owner_column, owner_column)
    owners: dict[str, str] = {}
    for row in rows:
        key, owner = row["alias_key"], row[owner_column]
        if key in owners and owners[key] != owner:
            problems.append(
                f"{file}: {what} alias {row['alias']!r} is ambiguous: it names both "
                f"{owners[key]!r} and {owner!r}"
            )
        owners.setdefault(key, owner)


# Provinces by the first two digits of an administrative code (GB/T 2260), for names written
# with their province first (湖北省黄石市): the code says which, so no list of aliases has to.
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip
LEVEL_SUFFIXES = {"city": ("市", "City"), "district": ("区", "District")}


def _qualified_names(g: Geography, by_code: dict[str, Geography]) -> list[str]:
    """A coded geography's name as official reports write it, after its province and, for a
    district, its city (湖北省黄石市, 武汉市江夏区, 湖北武汉江夏), and its English name with its
    level (Huangshi City). The city is the geography whose code ends in 00 where the district's
    last two digits are (420115 → 420100)."""
    if not g.admin_code:
        return []
    zh_suffix, en_suffix = LEVEL_SUFFIXES.get(g.level, ("", ""))
    own = {g.name_zh, g.name_zh + zh_suffix}
    city = by_code.get(g.admin_code[:4] + "00")
    cities = {""} | ({city.name_zh, city.name_zh + "市"} if city and city is not g else set())
    province = PROVINCES.get(g.admin_code[:2], "")
    short = re.sub("(省|市|(壮族|回族|维吾尔)?自治区|特别行政区)$", "", province)  # 湖北, 广西
    provinces = {""} | ({province, short} - {""})
    names = [p + c + o for p in provinces for c in cities for o in own if p or c]
    return names + ([f"{g.name_en} {en_suffix}"] if en_suffix else [])


def geography_alias_rows(catalog: Catalog) -> list[dict[str, str]]:
    """Every spelling that names a geography: id, code, Chinese name with and without its
    市/区 suffix, English name, the listed aliases and the name after its province and city
    (`_qualified_names`), each with its lookup key."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    by_code = {g.admin_code: g for g in catalog.geographies if g.admin_code}
    for g in catalog.geographies:
        names = [g.geo_id, g.name_zh, g.name_en, *g.aliases]
        if g.admin_code:
            names.append(g.admin_code)
        for suffix in ("市", "区"):
            names += [n[: -len(suffix)] for n in [g.name_zh, *g.aliases] if n.endswith(suffix)]
        if g.level == "city":
            names.append(g.name_zh + "市")
        if g.level == "district":
            names.append(g.name_zh + "区")
        names += _qualified_names(g, by_code)
        for name in names:
            key = lookup_key(name)
            if key:
                rows.setdefault(
                    (key, g.geo_id), {"geo_id": g.geo_id, "alias": name, "alias_key": key}
                )
    return list(rows.values())


def indicator_alias_rows(catalog: Catalog) -> list[dict[str, str]]:
    """Every spelling that names an indicator: id, Chinese and English names and aliases."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for _, plan in catalog.plans:
        for ind in plan.indicators:
            for name in (ind.indicator_id, ind.name_zh, ind.name_en, *ind.aliases):
                key = lookup_key(name)
                rows.setdefault(
                    (key, ind.indicator_id),
                    {"indicator_id": ind.indicator_id, "alias": name, "alias_key": key},
                )
    return list(rows.values())


def unit_alias_rows(catalog: Catalog) -> list[dict[str, str]]:
    """Every spelling of a unit, with its lookup key."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for u in catalog.units:
        for name in (u.unit, *u.aliases):
            key = lookup_key(name)
            rows.setdefault((key, u.unit), {"unit": u.unit, "alias": name, "alias_key": key})
    return list(rows.values())
