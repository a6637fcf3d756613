"""Run one (feature, provider) cell: data first (not applicable, tiers a row skips), then provisioning and the proxy
once, then every tier (worker.tier) with retries of transient errors (worker.retry), then aggregate and judge the
cell's fidelity (worker.judge).

Never raises: any exception becomes an `error` outcome carrying the reason. At the job's soft time limit the tiers
that finished are kept and the rest are `error` "time limit".
"""
from __future__ import annotations

import logging
import time
import traceback
from functools import lru_cache
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded

from ccmatrix.contract import CellJob, CellOutcome
from ccmatrix.gateway_profiles import GatewayProfileError, load_profiles
from ccmatrix.manifest import parse_manifest
from ccmatrix.outcomes import TierResult
from ccmatrix.provision import ProvisionError, claude_version_of, ensure_claude, ensure_litellm, litellm_installed_version
from ccmatrix.settings import Settings, get_settings
from gateways import registry as gateways
from ccmatrix.strictness import installed_versions
from worker.checks import load_check
from worker.judge import cell_fidelity
from worker.rate_limit import limiter_from_settings
from worker.retry import retry_transient
from worker.runtimes import ProxyBootError
from worker.sandbox import SandboxError
from worker.tier import CellSetup, run_tier

__all__ = ["CellJob", "CellOutcome", "gateway_profile_of", "run_cell", "time_limit_outcome", "upstream_of"]

log = logging.getLogger("ccmatrix.worker")


@lru_cache(maxsize=8)
def _claude_version(path: str) -> str:
    return claude_version_of(Path(path))


def run_cell(job: CellJob, settings: Settings | None = None) -> CellOutcome:
    started = time.monotonic()
    settings = settings or get_settings()
    done: dict[str, TierResult] = {}  # tiers finished so far: kept when the job hits its time limit
    try:
        result = _run_cell(job, settings, done)
    except SoftTimeLimitExceeded:
        # Celery's soft limit: what finished stands, the rest is an infrastructure error, and the chord goes on.
        log.warning("cell %s/%s hit its time limit after %s", job.feature, job.provider, sorted(done))
        result = time_limit_outcome(job, settings, done)
    except Exception as error:  # the last line of defence: a job never raises into the chord
        log.exception("cell %s/%s crashed", job.feature, job.provider)
        reason = f"{type(error).__name__}: {error}"
        tiers = {t: TierResult.errored(f"worker crashed: {reason}"[:1500]) for t in job.tiers}
        result = CellOutcome.from_tiers(job.feature, job.provider, tiers)
        result.error = f"worker crashed: {reason}"[:1500] + "\n" + traceback.format_exc(limit=3)[-800:]
    if result.upstream is None:
        result.upstream = upstream_of(job, settings)
    if result.gateway_profile is None:
        result.gateway_profile = gateway_profile_of(job, settings)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def time_limit_outcome(job: CellJob, settings: Settings | None = None,
                       done: dict[str, TierResult] | None = None) -> CellOutcome:
    """The cell of a job cut off by its time limit: the tiers in `done` stand, every other one is `error`."""
    settings = settings or get_settings()
    reason = (f"time limit: the job did not finish within its {settings.job_time_limit_s} s limit "
              f"(this tier never completed)")
    tiers = {t: (done or {}).get(t) or TierResult.errored(reason) for t in job.tiers}
    return CellOutcome.from_tiers(job.feature, job.provider, tiers, upstream=upstream_of(job, settings),
                                  gateway_profile=gateway_profile_of(job, settings))


def upstream_of(job: CellJob, settings: Settings) -> str | None:
    """How the job's provider column runs: "real" (credentials are set for its route) or "emulator"."""
    try:
        route = parse_manifest(job.manifest, "job manifest").provider(job.provider).route
    except Exception:
        return None
    return "real" if route in settings.real_providers() else "emulator"


def gateway_profile_of(job: CellJob, settings: Settings) -> dict | None:
    """The gateway profile the job's proxy runs with, as the matrix records it ({name, settings}); None when the
    name (or the gateway) is unknown here (the cell's tiers then say so)."""
    try:
        if job.gateway == "litellm":
            return load_profiles().get(job.gateway_profile or settings.gateway_profile).record()
        gateway = gateways.get(job.gateway)
        return gateway.profiles().get(job.gateway_profile or gateway.default_profile).record()
    except (GatewayProfileError, ValueError):
        return None


def _run_cell(job: CellJob, settings: Settings, tiers: dict[str, TierResult]) -> CellOutcome:
    from worker.environment import EnvironmentError_, environment_for

    manifest = parse_manifest(job.manifest, "job manifest")
    feature = manifest.feature(job.feature)
    provider = manifest.provider(job.provider)
    real = provider.route in settings.real_providers()
    try:
        gateway = gateways.get(job.gateway)
    except ValueError as error:  # an unknown gateway: every tier is an error naming the known ones
        return CellOutcome.from_tiers(job.feature, job.provider, {t: TierResult.errored(str(error)) for t in job.tiers},
                                      gateway=job.gateway)
    profile = job.gateway_profile or (settings.gateway_profile if job.gateway == "litellm" else gateway.default_profile)
    versions = {"gateway": job.gateway, "litellm_version": None, "claude_code_version": None,
                "upstream": "real" if real else "emulator",
                "emulator_strictness": None if real else installed_versions()}

    def finish(tiers: dict[str, TierResult]) -> CellOutcome:
        return CellOutcome.from_tiers(job.feature, job.provider, tiers, **versions)

    # Data first: tiers a row skips and providers where it does not apply.
    row_tiers = manifest.feature_tiers(feature)
    if provider.id in feature.not_applicable:
        return finish({t: TierResult.not_applicable(feature.not_applicable[provider.id]) for t in job.tiers})
    no_route = gateway.no_route_reason(provider.route)  # a column the gateway under test cannot reach
    if no_route:
        return finish({t: TierResult.not_applicable(no_route) for t in job.tiers})
    runnable = []
    for tier in job.tiers:
        if tier not in row_tiers:
            tiers[tier] = TierResult.not_applicable(f"{feature.name} is not offered on the {tier} tier")
        elif manifest.provider_model(tier, provider.id) is None:  # the column's provider does not offer the model
            tiers[tier] = TierResult.not_applicable(provider.not_offered.get(tier)
                                                    or f"{provider.name} does not offer the {tier} tier's model")
        else:
            runnable.append(tier)
    if not runnable:
        return finish(tiers)

    check = load_check(feature.check)
    if check.needs_emulator and real:
        for tier in runnable:
            tiers[tier] = TierResult.not_tested("this check needs the emulator's upstream capture")
        return finish(tiers)
    if real and gateway.real_columns_reason():
        for tier in runnable:
            tiers[tier] = TierResult.not_tested(f"{gateway.name}: {gateway.real_columns_reason()}")
        return finish(tiers)

    try:
        claude = ensure_claude(settings.cache_dir, job.claude_code_version)
        versions["claude_code_version"] = _claude_version(str(claude))
        if job.gateway == "litellm":
            venv = ensure_litellm(settings.cache_dir, job.litellm_version)
            versions["litellm_version"] = litellm_installed_version(venv)
        else:  # another gateway plug-in: its own release, provisioned under .cache/<gateway>/<version>/
            versions["gateway_version"] = gateway.installed_version(
                gateway.provision(settings.cache_dir, job.gateway_release))
        env = environment_for(settings, real)
        proxy = env.proxy(manifest, job.gateway_release, job.proxy_params, profile=profile, gateway=job.gateway)
    except (ProvisionError, ProxyBootError, SandboxError, EnvironmentError_, GatewayProfileError) as error:
        reason = f"{type(error).__name__}: {error}"[:1500]
        return finish({**tiers, **{t: TierResult.errored(reason) for t in runnable}})

    setup = CellSetup(job=job, settings=settings, manifest=manifest, feature=feature, provider=provider, check=check,
                      env=env, proxy=proxy, claude=claude, real=real, gateway_profile=profile, gateway=gateway,
                      limiter=limiter_from_settings(settings, emulated=not real))
    for tier in runnable:
        tiers[tier] = retry_transient(lambda attempt, tier=tier: run_tier(setup, tier, attempt),
                                      retries=settings.tier_retries, base_s=settings.retry_backoff_s,
                                      max_wait_s=settings.retry_max_wait_s)
    result = finish(tiers)
    result.fidelity = cell_fidelity(tiers) if env.fidelity else None
    return result
