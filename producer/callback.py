"""The chord callback: aggregate, build one matrix per gateway, validate them all and publish them — or publish
nothing and say why."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from ccmatrix.celery_app import app
from ccmatrix.contract import FINISH_RUN_TASK, CellOutcome
from ccmatrix.manifest import parse_manifest
from ccmatrix.matrix import (IncompleteMatrix, Matrix, build_matrix, cause_report, column_upstreams,
                             run_gateway_profile)
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
    """One matrix per gateway of the run, all built and validated before any is published (never a partial set)."""
    from ccmatrix.publish import PublishRefused, publish_gateways

    summary: dict[str, Any] = {"run_id": run["run_id"], "published": False}
    try:
        routed = [CellOutcome.model_validate(r) for r in results]
        # the cells a gateway has no route to were planned as not_applicable and never enqueued
        cells = routed + [CellOutcome.model_validate(r) for r in run.get("no_route") or []]
    except Exception as error:
        summary["reason"] = f"a cell result is malformed, nothing published: {error}"[:2000]
        return summary
    manifest = parse_manifest(run["manifest"], "run manifest")
    from ccmatrix.manifest import Selection

    selection = Selection.model_validate(run["selection"])
    gateways = run_gateways(run)
    strays = sorted({c.gateway for c in cells} - {g["name"] for g in gateways})
    if strays:
        summary["reason"] = f"partial matrix, nothing published: results of gateway(s) {strays} the run did not plan"
        return summary
    # how a column ran is a property of the column (its credentials), whichever gateway sat in front of it
    upstreams, upstream_problems = column_upstreams(routed, selection.providers)
    matrices = []
    for gateway in gateways:
        own = [c for c in cells if c.gateway == gateway["name"]]
        ran = [c for c in routed if c.gateway == gateway["name"]]
        try:
            matrices.append(gateway_matrix(gateway, own, run, manifest, selection, upstreams, upstream_problems,
                                           ran=ran))
        except IncompleteMatrix as error:
            summary["reason"] = f"partial matrix, nothing published: {gateway['name']}: {error}"
            return summary
    try:
        report = publish_gateways(matrices, get_settings())
    except PublishRefused as error:
        summary["reason"] = f"publishing refused: {error.reason}"
        return summary
    first = matrices[0]
    summary.update(published=report.published, targets=report.targets, counts=dict(Counter(c.status.value for c in cells)),
                   report=report.model_dump(mode="json"), litellm_version=first.litellm_version,
                   claude_code_version=first.claude_code_version, regression=report.regression_status,
                   gateways={m.gateway.name: {"version": m.gateway.version, "counts": m.report["counts"]}
                             for m in matrices})
    if not report.published:  # a publisher failed (e.g. a full disk): say why in one line, as every other refusal
        summary["reason"] = "not published: " + "; ".join(" ".join(p.split()) for p in report.problems)[:2000]
    return summary


def run_gateways(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's gateways as planned; a plan made before --gateway means LiteLLM alone, at the run's version."""
    return run.get("gateways") or [{"name": "litellm", "display_name": "LiteLLM", "version": run["litellm_version"],
                                    "profile": (run.get("gateway_profile") or {}).get("name")}]


def gateway_matrix(gateway: dict[str, Any], cells: list[CellOutcome], run: dict[str, Any], manifest, selection,
                   upstreams: dict[str, str], upstream_problems: list[str],
                   ran: list[CellOutcome] | None = None) -> Matrix:
    """The matrix of one gateway's cells. LiteLLM's is the LiteLLM-only matrix of before (its version in
    litellm_version); another gateway's carries that gateway's release there, and `gateway` says whose it is.
    `ran`: the cells a worker ran (not those planned not_applicable for want of a route): what the gateway's
    processes reported — its release, the profile it ran with — is read from them."""
    ran = cells if ran is None else ran
    litellm = gateway["name"] == "litellm"
    if litellm:
        version, p1 = _pick_version(ran, "litellm_version", run["litellm_version"])
        requested_profile = run.get("gateway_profile")
    else:
        version, p1 = _pick_version(ran, "gateway_version", gateway["version"])
        requested_profile = None  # the plug-in's profile: whatever its cells report
    claude_version, p2 = _pick_version(ran, "claude_code_version", run["claude_code_version"])
    profile, p4 = run_gateway_profile(ran, requested_profile)
    if profile is None and gateway.get("profile"):
        profile = {"name": gateway["profile"], "settings": {}}
    counts = Counter(c.status.value for c in cells)
    # causes: non-pass tiers by who is to blame; emulator_gaps: tiers the emulator could not judge (always present)
    report = {"counts": dict(counts), "problems": p1 + p2 + upstream_problems + p4, **cause_report(cells)}
    if litellm:  # the harness's own LiteLLM settings, on top of every profile, each with its reason
        report["harness"] = run["harness"] if run.get("harness") is not None else harness_settings()
        if run.get("versions"):
            report["versions"] = run["versions"]  # how `latest` (or a pin) became the versions under test
    elif run.get("versions"):
        report["versions"] = {"claude_code": run["versions"].get("claude_code"),
                              gateway["name"]: {"requested": gateway.get("requested") or "default",
                                                "version": gateway["version"]}}
    fidelity = fidelity_report(cells, selection.providers)
    if fidelity:
        report["fidelity"] = fidelity
    return build_matrix(manifest, selection, cells, run_id=run["run_id"], litellm_version=version,
                        claude_code_version=claude_version, report=report, upstreams=upstreams,
                        gateway_profile=profile, tier_models=run.get("tier_models") or None,
                        gateway={"name": gateway["name"], "display_name": gateway.get("display_name"),
                                 "version": version, "profile": (profile or {}).get("name")})


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
