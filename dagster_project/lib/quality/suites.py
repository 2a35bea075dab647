"""The Great Expectations suites of every stage, defined once here and committed as files.

`python -m dagster_project.lib.quality.suites` (re)writes the GX project under `expectations/`:
a pandas data source with one dataframe asset per validated table, the suites, one validation
definition per suite and one checkpoint per stage, all with stable names (`<table>__suite`,
`<table>__validation`, `<stage>_checkpoint`). A test keeps the committed files in step with this
module. Values that come from the catalog (known ids, windows) are suite parameters
(`{"$PARAMETER": ...}`) bound at run time, so the suites never go stale.

Expectations whose `meta.severity` is "warn" make a check warn instead of block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_project.lib.paths import EXPECTATIONS_DIR

DATASOURCE = "pandas_frames"

# A stage's `chunk_key` when every expectation looks at one row at a time: any split will do.
ANY_SPLIT = "*"


@dataclass(frozen=True)
class Stage:
    stage: str  # catalog, landing, staging, marts
    table: str  # the validated table (the dataframe asset's name)
    index_columns: tuple[str, ...]  # columns that identify a failing row in messages
    # Large frames are validated in chunks (lib/quality/frames.py); rows with equal values of
    # these columns always share a chunk, so every expectation of the suite can be judged chunk by
    # chunk; ANY_SPLIT: any rows may go together. None: the suite has whole-table expectations
    # (e.g. distinct values equal a set), and the frame is validated at once; such frames stay
    # small (catalog rows, targets × months).
    chunk_key: str | None = None

    @property
    def suite(self) -> str:
        return f"{self.table}__suite"

    @property
    def validation(self) -> str:
        return f"{self.table}__validation"

    @property
    def checkpoint(self) -> str:
        return f"{self.stage}_checkpoint"


STAGES: dict[str, Stage] = {
    "catalog": Stage("catalog", "targets", ("source_file", "target_id")),
    # Every landing expectation looks at one row at a time.
    # A row and, in a form with a column per basis (本月 | 本年累计), indicator, geography or
    # period, its value's column.
    "landing": Stage(
        "landing",
        "progress_rows",
        ("source_file", "sheet", "source_row", "source_column"),
        ANY_SPLIT,
    ),
    # One latest value per key: all periods of a geography × indicator go together.
    "staging": Stage(
        "staging",
        "fct_actual",
        ("source_file", "source_row", "source_column"),
        "geo_id, indicator_id",
    ),
    "marts": Stage("marts", "fct_target_vs_actual", ("target_id", "month_end")),
}


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def expectation_specs(stage: str) -> list[tuple[str, dict[str, Any]]]:
    """(expectation class name, keyword arguments) for a stage's suite."""
    warn = {"meta": {"severity": "warn"}}
    if stage == "catalog":
        return [
            ("ExpectColumnValuesToNotBeNull", {"column": "target_id"}),
            ("ExpectColumnValuesToBeUnique", {"column": "target_id"}),
            (
                "ExpectColumnValuesToBeInSet",
                {"column": "indicator_id", "value_set": _param("indicator_ids")},
            ),
            (
                "ExpectColumnValuesToBeInSet",
                {"column": "action_id", "value_set": _param("action_ids")},
            ),
            # A geography the reference does not hold (frames.py: the id, else empty); not a
            # value set of every geography's id, which GX re-reads for each metric (0.2 s with
            # 3,000 geographies, see the landing suite).
            ("ExpectColumnValuesToBeNull", {"column": "unknown_geo_id"}),
            (
                "ExpectColumnValuesToBeInSet",
                {"column": "comparator", "value_set": [">", ">=", "=", "<=", "<"]},
            ),
            (
                "ExpectColumnValuesToBeInSet",
                {"column": "cadence", "value_set": ["by_due_date", "per_year"]},
            ),
            (
                "ExpectColumnValuesToBeBetween",
                {"column": "target_value", "min_value": 0, "strict_min": True},
            ),
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "due_date", "column_B": "horizon_start", "or_equal": True},
            ),
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "horizon_end", "column_B": "due_date", "or_equal": True},
            ),
        ]
    if stage == "landing":
        return [
            (
                "ExpectTableColumnsToMatchSet",
                {
                    "column_set": [
                        "source_file",
                        "file_sha256",
                        "source_row",
                        "geo_id",
                        "indicator_id",
                        "period_start",
                        "period_end",
                        "value",
                        "unit",
                        "is_reported",
                        "unknown_geo_id",
                        "unknown_indicator_id",
                    ],
                    "exact_match": False,
                },
            ),
            ("ExpectColumnValuesToNotBeNull", {"column": "source_row"}),
            # Geographies and indicators the catalog does not hold (frames.py: the id, else
            # empty). Not a value set of the catalog's ids: GX re-reads an expectation's whole
            # configuration for every metric of every chunk, and with 3,000 geographies that
            # was two thirds of the landing gate's time at scale.
            ("ExpectColumnValuesToBeNull", {"column": "unknown_geo_id"}),
            ("ExpectColumnValuesToBeNull", {"column": "unknown_indicator_id"}),
            (
                "ExpectColumnValuesToNotBeNull",
                {
                    "column": "value",
                    "row_condition": "is_reported==True",
                    "condition_parser": "pandas",
                },
            ),
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "value_is_finite",
                    "value_set": [True],
                    "row_condition": "is_reported==True",
                    "condition_parser": "pandas",
                },
            ),
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "value",
                    "column_B": "plausible_min",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "plausible_max",
                    "column_B": "value",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "period_start", "column_B": "window_start", "or_equal": True},
            ),
            (
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "window_end", "column_B": "period_end", "or_equal": True},
            ),
        ]
    if stage == "staging":
        return [
            (
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": ["geo_id", "indicator_id", "period_start", "period_end"]},
            ),
            ("ExpectColumnPairValuesToBeEqual", {"column_A": "unit", "column_B": "indicator_unit"}),
            (
                "ExpectColumnValuesToBeBetween",
                {
                    "column": "value",
                    "min_value": 0,
                    "max_value": 100,
                    "row_condition": 'unit=="%"',
                    "condition_parser": "pandas",
                },
            ),
            ("ExpectColumnValuesToBeBetween", {"column": "ytd_change", "min_value": 0, **warn}),
        ]
    if stage == "marts":
        return [
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "status",
                    "value_set": ["achieved", "on_track", "at_risk", "off_track", "no_data"],
                },
            ),
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "projected_status",
                    "value_set": ["achieved", "on_track", "at_risk", "off_track", "no_data"],
                },
            ),
            # A deadline passed with the data reaching it has an outcome, not a pace.
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "status",
                    "value_set": ["achieved", "off_track"],
                    "row_condition": "is_final==True",
                    "condition_parser": "pandas",
                },
            ),
            # Its reports due and the data short of it, the outcome is unknown: no data, unless
            # the target was met before.
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "status",
                    "value_set": ["achieved", "no_data"],
                    "row_condition": "is_final_overdue==True",
                    "condition_parser": "pandas",
                },
            ),
            # Data too far behind the reports due to judge (stale_after_months): no status and
            # no projection from them.
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "status",
                    "value_set": ["no_data"],
                    "row_condition": "is_data_stale==True",
                    "condition_parser": "pandas",
                },
            ),
            (
                "ExpectColumnValuesToBeInSet",
                {
                    "column": "projected_status",
                    "value_set": ["no_data"],
                    "row_condition": "is_data_stale==True",
                    "condition_parser": "pandas",
                },
            ),
            (
                "ExpectColumnValuesToNotBeNull",
                {
                    "column": "attainment_ratio",
                    "row_condition": "has_actual==True",
                    "condition_parser": "pandas",
                },
            ),
            (
                "ExpectColumnDistinctValuesToEqualSet",
                {"column": "target_id", "value_set": _param("target_ids")},
            ),
            (
                "ExpectColumnValuesToBeBetween",
                {"column": "rollup_difference", "min_value": -1e-6, "max_value": 1e-6},
            ),
        ]
    raise KeyError(stage)


# Where a run's validation results and Data Docs go: the warehouse folder, set by the runner
# (lib/quality/gate.py) through these variables, which great_expectations.yml substitutes.
RESULTS_DIR_VARIABLE = "PLAN_TRACKER_GX_RESULTS_DIR"
DOCS_DIR_VARIABLE = "PLAN_TRACKER_GX_DOCS_DIR"
_YML_SETTINGS = (
    ("base_directory: uncommitted/validations/", f"base_directory: ${{{RESULTS_DIR_VARIABLE}}}"),
    (
        "base_directory: uncommitted/data_docs/local_site/",
        f"base_directory: ${{{DOCS_DIR_VARIABLE}}}",
    ),
    ("show_how_to_buttons: true", "show_how_to_buttons: false"),
    # No file of config variables: the settings above come from the environment, and GX reads
    # and parses that YAML file again each time it looks up a store's name — dozens of times a
    # validation, 0.01 s of each 250,000-row chunk (docs/performance.md).
    (
        "config_variables_file_path: uncommitted/config_variables.yml\n",
        "# config_variables_file_path: none (lib/quality/suites.py)\n",
    ),
    ("analytics_enabled:\n", "analytics_enabled: false\n"),
)
# Progress bars on every validation would bury the pipeline's own log.
_PROGRESS_BARS = "progress_bars:\n  globally: false\n  metric_calculations: false\n"


def write_project(root: Path = EXPECTATIONS_DIR) -> None:
    """Create or update the file-backed GX project with every stage's suite, validation definition
    and checkpoint."""
    import os

    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.datasource.fluent import PandasDatasource

    os.environ.setdefault(RESULTS_DIR_VARIABLE, str(root / "gx" / "uncommitted" / "validations"))
    os.environ.setdefault(DOCS_DIR_VARIABLE, str(root / "gx" / "uncommitted" / "data_docs"))
    context = gx.get_context(mode="file", project_root_dir=str(root))
    source: PandasDatasource
    try:
        found = context.data_sources.get(DATASOURCE)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(DATASOURCE)
    else:
        if not isinstance(found, PandasDatasource):
            raise TypeError(f"{root}: data source {DATASOURCE!r} is not a pandas one: {found!r}")
        source = found
    for stage in STAGES.values():
        try:
            asset = source.get_asset(stage.table)
        except LookupError:
            asset = source.add_dataframe_asset(stage.table)
        try:
            batch = asset.get_batch_definition("whole_frame")
        except KeyError:
            batch = asset.add_batch_definition_whole_dataframe("whole_frame")
        suite = gx.ExpectationSuite(name=stage.suite)
        for name, kwargs in expectation_specs(stage.stage):
            suite.add_expectation(getattr(gxe, name)(**kwargs))
        suite = context.suites.add_or_update(suite)
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=stage.validation, data=batch, suite=suite)
        )
        context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=stage.checkpoint,
                validation_definitions=[validation],
                actions=[],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": list(stage.index_columns),
                    "partial_unexpected_count": 20,
                },
            )
        )
    config = root / "gx" / "great_expectations.yml"
    text = config.read_text(encoding="utf-8")
    for default, setting in _YML_SETTINGS:
        text = text.replace(default, setting)
    if "progress_bars:" not in text:
        text += _PROGRESS_BARS
    config.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_project()
