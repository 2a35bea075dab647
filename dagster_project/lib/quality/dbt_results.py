"""dbt test outcomes (data tests and unit tests) as rows of dq.check_results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster_project.lib.quality.results import CheckResult


def read_artifact(path: Path) -> dict[str, Any]:
    """A dbt artifact (run_results.json, manifest.json) as a dictionary."""
    return json.loads(path.read_text(encoding="utf-8"))


def _layer(node: Mapping[str, Any] | None) -> str:
    if not node:
        return "unknown"
    path = node.get("original_file_path", "")
    for layer in ("staging", "intermediate", "marts"):
        if f"models/{layer}/" in path:
            return layer
    return node.get("schema") or "unknown"


def dbt_check_results(
    run_results: Mapping[str, Any], manifest: Mapping[str, Any], run_id: str
) -> list[CheckResult]:
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    out: list[CheckResult] = []
    for result in run_results.get("results", []):
        unique_id: str = result["unique_id"]
        kind = unique_id.split(".", 1)[0]
        if kind not in ("test", "unit_test"):
            continue
        test = nodes.get(unique_id, {})
        attached = test.get("attached_node") or next(
            iter(test.get("depends_on", {}).get("nodes", [])), None
        )
        if kind == "unit_test":
            attached = f"model.{test.get('package_name', 'plan_tracker')}.{test.get('model', '')}"
        model = manifest.get("nodes", {}).get(attached or "", {})
        status = result.get("status")
        severity = (test.get("config") or {}).get("severity", "error").lower()
        out.append(
            CheckResult(
                run_id=run_id,
                stage=_layer(model),
                asset_key=f"{model.get('schema', '?')}/{model.get('name', '?')}",
                check_name=test.get("name", unique_id),
                check_kind="dbt_unit_test" if kind == "unit_test" else "dbt_test",
                success=status == "pass",
                severity="warn" if severity == "warn" else "error",
                observed_value={"status": status, "failures": result.get("failures")},
                failing_sample=None,
                message=(result.get("message") or status or "")[:2000],
            )
        )
    return out
