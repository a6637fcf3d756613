"""Running one tier of a cell: build the CheckContext, run the check, finalize its evidence, judge fidelity.

A tier whose CLI makes more model calls than the check's bound (Check.max_model_calls) is stopped while it runs
and reported as a loop (CheckContext.loop_outcome), never left to spin until the CLI's timeout and its retries.

Never raises, except the job's soft time limit (SoftTimeLimitExceeded), which run_cell answers.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from ccmatrix.contract import CellJob
from ccmatrix.manifest import Feature, Manifest, Provider
from ccmatrix.outcomes import TierResult
from ccmatrix.settings import Settings
from providers import registry
from worker.check import DEFAULT_MAX_MODEL_CALLS, Check, CheckContext, ModelCallLoop
from worker.judge import judge_fidelity
from worker.proxy import crash_report

log = logging.getLogger("ccmatrix.worker")


@dataclass(frozen=True)
class CellSetup:
    """What a cell sets up once (its check, environment, proxy, CLI binary) and every tier of it runs on."""

    job: CellJob
    settings: Settings
    manifest: Manifest
    feature: Feature
    provider: Provider
    check: Check
    env: Any  # worker.environment.JobEnvironment
    proxy: Any  # the running proxy: url, master_key
    claude: Path
    real: bool
    limiter: Any  # worker.rate_limit.RateLimiter
    gateway_profile: str | None = None  # the gateway profile the proxy runs with (named in each tier's evidence)
    gateway: Any = None  # the gateway plug-in under test (gateways.base.Gateway); None: LiteLLM's defaults below


def _client_env(setup: CellSetup, url: str) -> dict[str, str]:
    """How the CLI is pointed at the gateway for this column (the plug-in's say; the provider's client mode for
    LiteLLM)."""
    if setup.gateway is not None:
        return setup.gateway.client_env(setup.provider.route, getattr(setup.proxy, "config", None) or {}, url,
                                        setup.proxy.master_key)
    return registry.get(setup.provider.route).client_env(url, setup.proxy.master_key)


def run_tier(setup: CellSetup, tier: str, attempt: int = 1) -> TierResult:
    job, settings, env, proxy, check, provider = (setup.job, setup.settings, setup.env, setup.proxy, setup.check,
                                                  setup.provider)
    job_id = f"{job.run_id}:{job.feature}:{job.provider}:{tier}" + (f":{attempt}" if attempt > 1 else "")
    tier_started = time.monotonic()
    try:
        setup.limiter.acquire(provider.id, requests=getattr(check, "expected_requests", 2))
        # A fault limited to N requests was used up by the first attempt; "always" faults stay on for retries.
        faults = job.faults if attempt == 1 else [f for f in job.faults if f.get("times") is None]
        env.begin_job(job_id, faults, job.scenario)
        ctx = CheckContext(
            feature=setup.feature, provider=provider, tier=tier,
            model=(setup.gateway.cli_model(setup.manifest, tier, provider.id) if setup.gateway is not None
                   else setup.manifest.proxy_alias(tier, provider.id)),
            claude_model=setup.manifest.api_model(tier, provider.id),
            job_id=job_id, settings=settings, emulated=not setup.real, claude_binary=setup.claude,
            proxy_url=env.client_url(proxy.url, job_id), proxy_key=proxy.master_key, sandbox=env.sandbox,
            upstream_reader=lambda j=job_id: env.captures(j), set_faults=env.set_faults,
            direct_service="recorder" if env.fidelity else "proxy",
            direct_prefix=f"/_job/{job_id}" if env.fidelity else "",
            client_reader=lambda j=job_id: env.client_captures(j), decisive=tuple(check.decisive),
            secrets=(proxy.master_key, *registry.secret_values(settings)),  # masked in evidence
            client_env=_client_env(setup, env.client_url(proxy.url, job_id)),
            max_model_calls=getattr(check, "max_model_calls", DEFAULT_MAX_MODEL_CALLS),
        )
        try:
            outcome = check.run(ctx)
        except ModelCallLoop as loop:  # the worker stopped the CLI: more model calls than the check's bound
            outcome = loop.outcome
        outcome = ctx.finalize(outcome)
        crashed = crash_report(proxy)  # whatever the CLI made of it, a dead gateway teaches nothing about the gateway
        if crashed:
            outcome = TierResult.errored(crashed, evidence=outcome.evidence, duration_ms=outcome.duration_ms)
        if outcome.evidence is not None and setup.gateway_profile:
            outcome.evidence.extra["gateway_profile"] = setup.gateway_profile
        if outcome.evidence is not None:  # how the gateway under test was booted (worker/runtimes): process | docker
            outcome.evidence.extra["proxy_runtime"] = settings.proxy_runtime
        if outcome.evidence is not None and ctx.cli_runs:
            outcome.evidence.extra["cli_cpu_s"] = round(sum(r.cpu_s for r in ctx.cli_runs), 3)
            outcome.evidence.extra["cli_ms"] = sum(r.duration_ms for r in ctx.cli_runs)
        if env.fidelity:
            judge_fidelity(outcome, env, job, job_id, provider, tier,
                           strict=job.strict_fidelity or settings.strict_fidelity)
    except SoftTimeLimitExceeded:
        raise  # the job's time limit: run_cell turns the unfinished tiers into errors
    except Exception as error:
        log.exception("tier %s of %s/%s crashed", tier, job.feature, job.provider)
        outcome = TierResult.errored(f"check crashed: {type(error).__name__}: {error}"[:1500])
    finally:
        env.end_job(job_id)
    if outcome.duration_ms is None:
        outcome.duration_ms = int((time.monotonic() - tier_started) * 1000)
    if outcome.evidence is not None:  # the whole tier (every CLI run, direct call and capture read): bench/latency.py
        outcome.evidence.extra["tier_ms"] = int((time.monotonic() - tier_started) * 1000)
    return outcome
