"""Plan a run: validate the manifest and the selection, then one job per (gateway, feature, provider) cell."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

from ccmatrix.contract import FINISH_RUN_TASK, RUN_CELL_TASK, CellJob, CellOutcome
from ccmatrix.manifest import Manifest, Selection, load_manifest
from ccmatrix.outcomes import TierResult
from producer.gateway_selection import (DEFAULT_GATEWAY, PlannedGateway, check_known, litellm_request,
                                        no_route_reason, parse_specs, plan_gateways)


class RunOptions(BaseModel):
    features: list[str] | None = None
    providers: list[str] | None = None
    tiers: list[str] | None = None
    litellm_version: str | None = None
    claude_code_version: str | None = None
    faults: list[dict[str, Any]] = Field(default_factory=list)
    strict_fidelity: bool = False
    offline: bool = False  # `latest` from the last resolution instead of asking the registries
    gateway_profile: str | None = None  # a profile of gateway_profiles/litellm.yaml; None: CCMATRIX_GATEWAY_PROFILE
    tier_models: dict[str, str] | None = None  # --tier-models: tier → Claude API id (or policy) for this run only
    gateways: list[str] | None = None  # --gateway NAME[@VERSION] items (producer.gateway_selection); None: litellm


class RunPlan(BaseModel):
    run_id: str
    created_at: datetime
    litellm_version: str
    claude_code_version: str
    selection: Selection
    manifest: dict[str, Any]
    jobs: list[CellJob]
    strict_fidelity: bool = False
    versions: dict[str, Any] = Field(default_factory=dict)  # how each version was chosen (ccmatrix.resolve)
    gateway_profile: dict[str, Any] | None = None  # {name, settings}: the gateway profile every job runs with
    harness: list[dict[str, Any]] = Field(default_factory=list)  # [{setting, value, reason}] on top of the profile
    # tier → {policy, requested, model, source[, model_table, table_model]}: how each tier's model was chosen
    # (ccmatrix.tiers); the per-column ids are in the concrete `manifest` every job carries.
    tier_models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # The gateways under test, in --gateway order ({name, display_name, version, requested, profile}); a plan made
    # before the field has none and means LiteLLM alone. One matrix per gateway is published.
    gateways: list[dict[str, Any]] = Field(default_factory=list)
    # The cells of a gateway that has no route to their column: not enqueued, planned here as not_applicable with
    # the plug-in's reason (CellOutcome as JSON); the callback adds them to that gateway's matrix.
    no_route: list[dict[str, Any]] = Field(default_factory=list)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def plan_run(options: RunOptions, manifest: Manifest | None = None, manifest_path=None) -> RunPlan:
    """Raises ManifestError (with the field named) before anything is enqueued."""
    manifest = manifest or load_manifest(manifest_path)
    selection = manifest.select(options.features, options.providers, options.tiers)
    check_faults(options.faults)  # a fault the emulator would refuse: refused here, not an error in every cell
    profiles, profile = gateway_profile(options.gateway_profile)  # an unknown name: GatewayProfileError (ValueError)
    specs = parse_specs(options.gateways)  # a malformed --gateway: ValueError, before anything is resolved
    check_known(specs)  # an unknown gateway: the registry's ValueError
    litellm_version = litellm_request(specs, options.litellm_version) or manifest.litellm_version
    claude_code_version = options.claude_code_version or manifest.claude_code_version
    versions = resolve_versions(litellm_version, claude_code_version, offline=options.offline)
    litellm_version = versions["litellm"]["version"]
    claude_code_version = versions["claude_code"]["version"]
    # Re-validate the pins an operator passed on the command line, with the manifest's own rules.
    from ccmatrix.manifest import parse_manifest

    from ccmatrix.local_source import is_local  # a local tree or wheel is no pin: the manifest keeps its own

    checked = parse_manifest({**manifest.model_dump(mode="json"), "litellm_version": (
        manifest.litellm_version if is_local(litellm_version) else litellm_version),
                              "claude_code_version": claude_code_version}, "run options")
    # Tiers follow the CLI under test: policies and columns without models resolved once, here, from the model
    # table of the resolved Claude Code version (read only when something needs it); every job gets the result.
    from ccmatrix import tiers

    table = (model_table(claude_code_version) if tiers.needs_table(checked, options.tier_models) else None)
    resolution = tiers.resolve(checked, claude_code_version, table, options.tier_models)
    manifest_data = resolution.manifest.model_dump(mode="json", exclude_none=True)
    gateways = plan_gateways(specs, litellm_version, profile.name, offline=options.offline)
    run_id = new_run_id()
    cost = previous_durations()
    jobs: list[CellJob] = []
    no_route: list[dict[str, Any]] = []
    for gateway in gateways:
        unreachable = {p: no_route_reason(gateway.name, checked.provider(p).route) for p in selection.providers}
        for f in selection.features:
            for p in selection.providers:
                job = CellJob(run_id=run_id, feature=f, provider=p, tiers=selection.tiers,
                              litellm_version=litellm_version, claude_code_version=claude_code_version,
                              manifest=manifest_data, faults=options.faults, strict_fidelity=options.strict_fidelity,
                              gateway_profile=gateway.profile, gateway=gateway.name,
                              gateway_version=None if gateway.name == DEFAULT_GATEWAY else gateway.version)
                if unreachable[p]:
                    no_route.append(not_routed(job, gateway, unreachable[p]).model_dump(mode="json"))
                else:
                    jobs.append(job)
    # Longest first (from the last published run's durations), so no worker idles at the end waiting for one slow
    # cell; cells never seen keep manifest order, ahead of the known-quick ones.
    if cost:
        unknown = max(cost.values())
        jobs.sort(key=lambda j: -cost.get((j.feature, j.provider), unknown))
    return RunPlan(run_id=run_id, created_at=datetime.now(timezone.utc), litellm_version=litellm_version,
                   claude_code_version=claude_code_version, selection=selection, manifest=manifest_data, jobs=jobs,
                   strict_fidelity=options.strict_fidelity, versions=versions, gateway_profile=profile.record(),
                   harness=profiles.harness_report(), tier_models=resolution.tiers,
                   gateways=[g.model_dump(mode="json") for g in gateways], no_route=no_route)


def not_routed(job: CellJob, gateway: PlannedGateway, reason: str) -> CellOutcome:
    """The outcome of a cell whose column the gateway has no route to: not_applicable on every tier, with the
    plug-in's reason ("gateway has no route: ...") — planned here, never enqueued (nothing to run, nothing to error)."""
    return CellOutcome.from_tiers(job.feature, job.provider, {t: TierResult.not_applicable(reason) for t in job.tiers},
                                  claude_code_version=job.claude_code_version, gateway=gateway.name,
                                  gateway_version=gateway.version)


def check_faults(faults: list[dict[str, Any]]) -> None:
    """Each emulator fault as the emulator will read it (emulator/faults.py Fault.from_json): one it would refuse
    raises ValueError (one line, naming the fault) before anything is enqueued."""
    import json

    from emulator.faults import Fault

    for fault in faults:
        try:
            Fault.from_json(fault)
        except (TypeError, ValueError) as error:
            raise ValueError(f"--emulator-fault {json.dumps(fault)}: {error}") from None


def model_table(claude_code_version: str):
    """The model table of the Claude Code version under test, read from its binary (provisioned into the cache on
    first use). A binary that cannot be provisioned or read raises ValueError (one line) before anything is
    enqueued."""
    from ccmatrix.model_table import load
    from ccmatrix.provision import ProvisionError, ensure_claude
    from ccmatrix.settings import get_settings

    try:
        return load(ensure_claude(get_settings().cache_dir, claude_code_version))
    except (ProvisionError, OSError) as error:
        raise ValueError(f"the tiers need Claude Code {claude_code_version}'s model table, and its binary could not "
                         f"be provisioned: {error}") from None


def gateway_profile(name: str | None = None):
    """(all profiles, the one a run uses): `name`, else the setting CCMATRIX_GATEWAY_PROFILE. An unknown name raises
    GatewayProfileError (a ValueError naming the known ones), before anything is enqueued."""
    from ccmatrix.gateway_profiles import default_profile_name, load_profiles

    profiles = load_profiles()
    return profiles, profiles.get(name or default_profile_name())


def resolve_versions(litellm: str, claude_code: str, offline: bool = False) -> dict[str, Any]:
    """Concrete versions for the run, with where they came from; `latest` asks the registries once, here, so every
    job of the run tests the same releases; a LiteLLM local tree or wheel is hashed once, here (its spec: path,
    sha256, declared version). A registry that cannot answer, or a local path that is not there or not LiteLLM,
    raises ResolveError (a ValueError)."""
    from ccmatrix.resolve import resolve
    from ccmatrix.settings import get_settings

    settings = get_settings()
    found = resolve(litellm, claude_code, cache_dir=settings.cache_dir, offline=offline,
                    min_age_days=settings.claude_code_min_age_days)
    return {key: value.to_json() for key, value in found.items()}


def previous_durations(path=None) -> dict[tuple[str, str], int]:
    """(feature, provider) → total tier duration in ms, from the last published matrix (empty if none)."""
    import json

    from ccmatrix.settings import get_settings

    path = path or get_settings().out_dir / "compatibility-matrix.json"
    try:
        document = json.loads(path.read_text())
        return {(row["id"], provider): sum((t.get("duration_ms") or 0) for t in cell.get("tiers", {}).values())
                for row in document["features"] for provider, cell in row["providers"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def build_chord(plan: RunPlan, app):
    """The Celery chord: one run_cell job per cell, finish_run as the callback (tasks by name, on `app`)."""
    from celery import chord

    header = [app.signature(RUN_CELL_TASK, args=(job.model_dump(mode="json"),), task_id=job.task_id)
              for job in plan.jobs]
    run_info = plan.model_dump(mode="json", exclude={"jobs"})
    callback = app.signature(FINISH_RUN_TASK, args=(run_info,), task_id=f"{plan.run_id}:finish")
    return chord(header, callback, app=app)
