"""The chord callback: aggregate, build the matrix, validate it and publish it — or publish nothing and say why."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from ccmatrix.celery_app import app
from ccmatrix.contract import FINISH_RUN_TASK, CellOutcome
from ccmatrix.manifest import parse_manifest
from ccmatrix.matrix import IncompleteMatrix, build_matrix, cause_report, column_upstreams, run_gateway_profile
from ccmatrix.settings import get_settings

log = logging.getLogger("ccmatrix.producer")


def _pick_version(cells: list[CellOutcome], attr: str, requested: str) -> tuple[str, list[str]]:
    seen = Counter(getattr(c, attr) for c in cells if getattr(c, attr))
    problems = []
    if len(seen) > 1:
        problems.append(f"workers reported different {attr} values: {dict(seen)}")
    if seen:
        value = seen.most_common(1)[0][0]
        if value != requested:
            problems.append(f"{attr}: requested {requested}, the binaries report {value}")
        return value, problems
    return requested, problems


def finish(results: list[Any], run: dict[str, Any]) -> dict[str, Any]:
    from ccmatrix.publish import PublishRefused, publish_run

    summary: dict[str, Any] = {"run_id": run["run_id"], "published": False}
    try:
        cells = [CellOutcome.model_validate(r) for r in results]
    except Exception as error:
        summary["reason"] = f"a cell result is malformed, nothing published: {error}"[:2000]
        return summary
    manifest = parse_manifest(run["manifest"], "run manifest")
    from ccmatrix.manifest import Selection

    selection = Selection.model_validate(run["selection"])
    litellm_version, p1 = _pick_version(cells, "litellm_version", run["litellm_version"])
    claude_version, p2 = _pick_version(cells, "claude_code_version", run["claude_code_version"])
    counts = Counter(c.status.value for c in cells)
    upstreams, p3 = column_upstreams(cells, selection.providers)
    gateway_profile, p4 = run_gateway_profile(cells, run.get("gateway_profile"))
    # causes: non-pass tiers by who is to blame; emulator_gaps: tiers the emulator could not judge (always present)
    report = {"counts": dict(counts), "problems": p1 + p2 + p3 + p4, **cause_report(cells)}
    # harness: the test harness's own gateway settings, on top of every profile, each with its reason
    report["harness"] = run["harness"] if run.get("harness") is not None else harness_settings()
    if run.get("versions"):
        report["versions"] = run["versions"]  # how `latest` (or a pin) became the versions under test
    fidelity = fidelity_report(cells, selection.providers)
    if fidelity:
        report["fidelity"] = fidelity
    try:
        matrix = build_matrix(manifest, selection, cells, run_id=run["run_id"], litellm_version=litellm_version,
                              claude_code_version=claude_version, report=report, upstreams=upstreams,
                              gateway_profile=gateway_profile, tier_models=run.get("tier_models") or None)
    except IncompleteMatrix as error:
        summary["reason"] = f"partial matrix, nothing published: {error}"
        return summary
    try:
        report = publish_run(matrix, get_settings())
    except PublishRefused as error:
        summary["reason"] = f"publishing refused: {error.reason}"
        return summary
    regression = report.regression
    summary.update(published=report.published, targets=report.targets, counts=dict(counts),
                   report=report.model_dump(mode="json"), litellm_version=litellm_version,
                   claude_code_version=claude_version,
                   regression=getattr(regression, "status", None) if regression is not None else None)
    return summary


def harness_settings() -> list[dict[str, Any]]:
    """The harness settings from this host's profiles file (for a plan made before the plan carried them)."""
    from ccmatrix.gateway_profiles import GatewayProfileError, load_profiles

    try:
        return load_profiles().harness_report()
    except GatewayProfileError as error:
        return [{"setting": "?", "value": None, "reason": f"the profiles file could not be read: {error}"}]


def fidelity_report(cells: list[CellOutcome], providers: list[str]) -> dict[str, Any] | None:
    """Verdict counts over the run and the expected-difference rules that matched nothing (stale)."""
    judged = [c.fidelity for c in cells if c.fidelity]
    if not judged:
        return None
    from fidelity import RuleSet

    matched = {rule for f in judged for rule in f.get("matched_rules", [])}
    try:
        stale = RuleSet.load().stale(matched, providers=providers)
    except Exception as error:
        stale = [f"(rules could not be loaded: {error})"]
    return {"verdicts": dict(Counter(f["verdict"] for f in judged)), "stale_rules": stale,
            "unexpected_cells": sum(1 for f in judged if f["verdict"] == "unexpected")}


@app.task(name=FINISH_RUN_TASK, acks_late=True, reject_on_worker_lost=True)
def finish_run(results: list[Any], run: dict[str, Any]) -> dict[str, Any]:
    try:
        return finish(results, run)
    except Exception as error:  # a crashed callback publishes nothing and says why
        log.exception("finish_run crashed")
        return {"run_id": run.get("run_id"), "published": False, "reason": f"callback crashed: {error}"[:2000]}
