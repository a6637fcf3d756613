"""Run one (feature, provider) cell: every tier through the real CLI and proxy, then aggregate.

Never raises: any exception becomes an `error` outcome carrying the reason.
"""
from __future__ import annotations

import logging
import time
import traceback
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, Field

from ccmatrix.manifest import Manifest, alias_for, parse_manifest
from ccmatrix.outcomes import CellResult, Status, TierResult, cell_from_tiers
from ccmatrix.provision import ProvisionError, claude_version_of, ensure_claude, ensure_litellm, litellm_installed_version
from ccmatrix.settings import Settings, get_settings
from worker.check import Check, CheckContext
from worker.checks import load_check
from worker.runtimes import ProxyBootError
from worker.sandbox import SandboxError

log = logging.getLogger("ccmatrix.worker")


class CellJob(BaseModel):
    run_id: str
    feature: str
    provider: str
    tiers: list[str]
    litellm_version: str
    claude_code_version: str
    manifest: dict[str, Any]
    faults: list[dict[str, Any]] = Field(default_factory=list)
    scenario: dict[str, Any] = Field(default_factory=dict)  # emulator scenario overrides (tests, debugging)
    strict_fidelity: bool = False


class CellOutcome(CellResult):
    litellm_version: str | None = None
    claude_code_version: str | None = None


@lru_cache(maxsize=8)
def _claude_version(path: str) -> str:
    from pathlib import Path

    return claude_version_of(Path(path))


def run_cell(job: CellJob, settings: Settings | None = None) -> CellOutcome:
    started = time.monotonic()
    settings = settings or get_settings()
    try:
        result = _run_cell(job, settings)
    except Exception as error:  # the last line of defence: a job never raises into the chord
        log.exception("cell %s/%s crashed", job.feature, job.provider)
        reason = f"{type(error).__name__}: {error}"
        tiers = {t: TierResult.errored(f"worker crashed: {reason}"[:1500]) for t in job.tiers}
        result = CellOutcome(**cell_from_tiers(job.feature, job.provider, tiers).model_dump())
        result.error = f"worker crashed: {reason}"[:1500] + "\n" + traceback.format_exc(limit=3)[-800:]
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _run_cell(job: CellJob, settings: Settings) -> CellOutcome:
    from worker.environment import EnvironmentError_, environment_for

    manifest: Manifest = parse_manifest(job.manifest, "job manifest")
    feature = manifest.feature(job.feature)
    provider = manifest.provider(job.provider)
    versions = {"litellm_version": None, "claude_code_version": None}

    def finish(tiers: dict[str, TierResult]) -> CellOutcome:
        cell = cell_from_tiers(job.feature, job.provider, tiers)
        return CellOutcome(**cell.model_dump(), **versions)

    # Data first: tiers a row skips and providers where it does not apply.
    wanted = [t for t in job.tiers]
    row_tiers = manifest.feature_tiers(feature)
    if provider.id in feature.not_applicable:
        return finish({t: TierResult.not_applicable(feature.not_applicable[provider.id]) for t in wanted})
    tiers: dict[str, TierResult] = {}
    runnable = []
    for tier in wanted:
        if tier not in row_tiers:
            tiers[tier] = TierResult.not_applicable(f"{feature.name} is not offered on the {tier} tier")
        else:
            runnable.append(tier)
    if not runnable:
        return finish(tiers)

    check: Check = load_check(feature.check)
    real = provider.route in settings.real_providers()
    if check.needs_emulator and real:
        for tier in runnable:
            tiers[tier] = TierResult.not_tested("this check needs the emulator's upstream capture")
        return finish(tiers)

    try:
        claude = ensure_claude(settings.cache_dir, job.claude_code_version)
        versions["claude_code_version"] = _claude_version(str(claude))
        venv = ensure_litellm(settings.cache_dir, job.litellm_version)
        versions["litellm_version"] = litellm_installed_version(venv)
        env = environment_for(settings, real)
        proxy = env.proxy(manifest, job.litellm_version)
    except (ProvisionError, ProxyBootError, SandboxError, EnvironmentError_) as error:
        reason = f"{type(error).__name__}: {error}"[:1500]
        return finish({**tiers, **{t: TierResult.errored(reason) for t in runnable}})

    for tier in runnable:
        job_id = f"{job.run_id}:{job.feature}:{job.provider}:{tier}"
        tier_started = time.monotonic()
        try:
            env.begin_job(job_id, job.faults, job.scenario)
            ctx = CheckContext(
                feature=feature, provider=provider, tier=tier, model=alias_for(manifest.tiers[tier], provider.id),
                job_id=job_id, settings=settings, emulated=not real, claude_binary=claude, proxy_url=proxy.url,
                proxy_key=proxy.master_key, sandbox=env.sandbox, upstream_reader=lambda j=job_id: env.captures(j),
                set_faults=env.set_faults,
            )
            outcome = check.run(ctx)
        except Exception as error:
            log.exception("tier %s of %s/%s crashed", tier, job.feature, job.provider)
            outcome = TierResult.errored(f"check crashed: {type(error).__name__}: {error}"[:1500])
        if outcome.duration_ms is None:
            outcome.duration_ms = int((time.monotonic() - tier_started) * 1000)
        tiers[tier] = outcome
    return finish(tiers)
