"""Run one (feature, provider) cell: every tier through the real CLI and proxy, then aggregate.

Never raises: any exception becomes an `error` outcome carrying the reason.
"""
from __future__ import annotations

import logging
import re
import time
import traceback
from functools import lru_cache
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from pydantic import BaseModel, Field

from ccmatrix.manifest import Manifest, alias_for, parse_manifest
from ccmatrix.outcomes import CellResult, Status, TierResult, cell_from_tiers
from ccmatrix.provision import ProvisionError, claude_version_of, ensure_claude, ensure_litellm, litellm_installed_version
from ccmatrix.settings import Settings, get_settings
from worker.check import Check, CheckContext
from worker.checks import load_check
from worker.runtimes import ProxyBootError
from worker.rate_limit import limiter_from_settings
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
    proxy_params: dict[str, Any] = Field(default_factory=dict)  # extra litellm_params for every route (experiments)
    strict_fidelity: bool = False


class CellOutcome(CellResult):
    litellm_version: str | None = None
    claude_code_version: str | None = None
    upstream: str | None = None  # "emulator" | "real": how this cell's provider column ran


@lru_cache(maxsize=8)
def _claude_version(path: str) -> str:
    from pathlib import Path

    return claude_version_of(Path(path))


def run_cell(job: CellJob, settings: Settings | None = None) -> CellOutcome:
    started = time.monotonic()
    settings = settings or get_settings()
    done: dict[str, TierResult] = {}  # tiers finished so far: kept when the job hits its time limit
    try:
        result = _run_cell(job, settings, done)
    except SoftTimeLimitExceeded:
        # Celery's soft limit: what finished stands, the rest is an infrastructure error, and the chord goes on.
        limit = settings.job_time_limit_s
        log.warning("cell %s/%s hit its time limit after %s", job.feature, job.provider, sorted(done))
        tiers = {t: done.get(t) or TierResult.errored(f"time limit: the job did not finish within its "
                                                      f"{limit} s limit (this tier never completed)")
                 for t in job.tiers}
        result = CellOutcome(**cell_from_tiers(job.feature, job.provider, tiers).model_dump())
    except Exception as error:  # the last line of defence: a job never raises into the chord
        log.exception("cell %s/%s crashed", job.feature, job.provider)
        reason = f"{type(error).__name__}: {error}"
        tiers = {t: TierResult.errored(f"worker crashed: {reason}"[:1500]) for t in job.tiers}
        result = CellOutcome(**cell_from_tiers(job.feature, job.provider, tiers).model_dump())
        result.error = f"worker crashed: {reason}"[:1500] + "\n" + traceback.format_exc(limit=3)[-800:]
    if result.upstream is None:
        result.upstream = _upstream_of(job, settings)
    result.duration_ms = int((time.monotonic() - started) * 1000)
    return result


def _upstream_of(job: CellJob, settings: Settings) -> str | None:
    try:
        route = parse_manifest(job.manifest, "job manifest").provider(job.provider).route
    except Exception:
        return None
    return "real" if route in settings.real_providers() else "emulator"


def _run_cell(job: CellJob, settings: Settings, tiers: dict[str, TierResult]) -> CellOutcome:
    from worker.environment import EnvironmentError_, environment_for

    manifest: Manifest = parse_manifest(job.manifest, "job manifest")
    feature = manifest.feature(job.feature)
    provider = manifest.provider(job.provider)
    real = provider.route in settings.real_providers()
    versions = {"litellm_version": None, "claude_code_version": None, "upstream": "real" if real else "emulator"}

    def finish(tiers: dict[str, TierResult]) -> CellOutcome:
        cell = cell_from_tiers(job.feature, job.provider, tiers)
        return CellOutcome(**cell.model_dump(), **versions)

    # Data first: tiers a row skips and providers where it does not apply.
    wanted = [t for t in job.tiers]
    row_tiers = manifest.feature_tiers(feature)
    if provider.id in feature.not_applicable:
        return finish({t: TierResult.not_applicable(feature.not_applicable[provider.id]) for t in wanted})
    runnable = []
    for tier in wanted:
        if tier not in row_tiers:
            tiers[tier] = TierResult.not_applicable(f"{feature.name} is not offered on the {tier} tier")
        else:
            runnable.append(tier)
    if not runnable:
        return finish(tiers)

    check: Check = load_check(feature.check)
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
        proxy = env.proxy(manifest, job.litellm_version, job.proxy_params)
    except (ProvisionError, ProxyBootError, SandboxError, EnvironmentError_) as error:
        reason = f"{type(error).__name__}: {error}"[:1500]
        return finish({**tiers, **{t: TierResult.errored(reason) for t in runnable}})

    limiter = limiter_from_settings(settings, emulated=not real)
    for tier in runnable:
        attempts = 0
        while True:
            attempts += 1
            outcome = _run_tier(job, settings, env, proxy, check, manifest, feature, provider, tier, claude, real,
                                limiter, attempt=attempts)
            if not _retryable(outcome) or attempts > settings.tier_retries:
                break
            time.sleep(min(settings.retry_max_wait_s, settings.retry_backoff_s * 2 ** (attempts - 1)))
        if attempts > 1 and outcome.evidence is not None:
            outcome.evidence.extra["attempts"] = attempts
        tiers[tier] = outcome
    result = finish(tiers)
    result.fidelity = cell_fidelity(tiers) if env.fidelity else None
    return result


def _secret_values(settings: Settings) -> list[str]:
    values = []
    for name in ("anthropic_api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
                 "azure_api_key"):
        value = getattr(settings, name, None)
        if value is not None:
            values.append(value.get_secret_value())
    return values


def _retryable(outcome: TierResult) -> bool:
    return outcome.status == Status.ERROR and bool(outcome.evidence and outcome.evidence.extra.get("retryable"))


def _run_tier(job: CellJob, settings: Settings, env, proxy, check: Check, manifest: Manifest, feature, provider,
              tier: str, claude, real: bool, limiter, attempt: int) -> TierResult:
    job_id = f"{job.run_id}:{job.feature}:{job.provider}:{tier}" + (f":{attempt}" if attempt > 1 else "")
    tier_started = time.monotonic()
    try:
        limiter.acquire(provider.id, requests=getattr(check, "expected_requests", 2))
        # A fault limited to N requests was used up by the first attempt; "always" faults stay on for retries.
        faults = job.faults if attempt == 1 else [f for f in job.faults if f.get("times") is None]
        env.begin_job(job_id, faults, job.scenario)
        ctx = CheckContext(
            feature=feature, provider=provider, tier=tier, model=alias_for(manifest.tiers[tier], provider.id),
            job_id=job_id, settings=settings, emulated=not real, claude_binary=claude,
            proxy_url=env.client_url(proxy.url, job_id), proxy_key=proxy.master_key, sandbox=env.sandbox,
            upstream_reader=lambda j=job_id: env.captures(j), set_faults=env.set_faults,
            direct_service="recorder" if env.fidelity else "proxy",
            direct_prefix=f"/_job/{job_id}" if env.fidelity else "",
            client_reader=lambda j=job_id: env.client_captures(j), decisive=tuple(check.decisive),
            secrets=(proxy.master_key, *_secret_values(settings)),
        )
        outcome = ctx.finalize(check.run(ctx))
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
    return outcome


VERDICT_ORDER = ["clean", "expected-only", "unknown", "unexpected"]  # best to worst


def judge_fidelity(outcome: TierResult, env, job: CellJob, job_id: str, provider, tier: str, strict: bool) -> None:
    """Diff what the CLI sent against what the provider received; attach it. Nothing captured on a side, or a
    comparison that crashed, is `unknown` with the reason — never `clean`. Strict mode fails a passing tier whose
    verdict is `unexpected` or `unknown`."""
    if outcome.status in (Status.ERROR, Status.NOT_APPLICABLE, Status.NOT_TESTED):
        return
    from fidelity import compare_run

    try:
        result = compare_run(env.client_captures(job_id), env.captures(job_id), provider=provider.id, tier=tier,
                             litellm_version=job.litellm_version, rules=_rules(),
                             expected_upstream_model=provider.models.get(tier))
        outcome.fidelity = compact_fidelity(result.model_dump(mode="json"))
        verdict = result.verdict
        detail = (", ".join(r.path for r in result.unexpected[:8]) if verdict == "unexpected"
                  else "; ".join(result.notes)[:300])
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # fidelity must never break the functional verdict (strict mode aside)
        log.exception("fidelity comparison failed for %s", job_id)
        verdict, detail = "unknown", f"fidelity comparison failed: {type(error).__name__}: {error}"[:500]
        outcome.fidelity = {"verdict": "unknown", "notes": [detail]}
    if strict and verdict in ("unexpected", "unknown") and outcome.status == Status.PASS:
        outcome.status = Status.FAIL
        outcome.cause = "gateway"  # strict mode: what cannot be shown faithful counts against the gateway
        outcome.error = (f"strict fidelity: unexpected translation differences at {detail}" if verdict == "unexpected"
                         else f"strict fidelity: fidelity could not be judged: {detail}")
        if outcome.evidence is not None:
            outcome.evidence.assertion = outcome.error


_INDEX = re.compile(r"\[[^\]]*\]")


def compact_fidelity(data: dict, limit: int = 60) -> dict:
    """Keep every unexpected record (up to `limit`); fold expected ones sharing (rule, kind, path shape) into one
    record with a `count`, so 24 tools losing the same keyword are one line, not 24."""
    records = data.get("records") or []
    unexpected = [r for r in records if r.get("status") != "expected"]
    folded: dict[tuple, dict] = {}
    for record in records:
        if record.get("status") != "expected":
            continue
        key = (record.get("rule"), record.get("kind"), _INDEX.sub("[*]", record.get("path", "")))
        if key in folded:
            folded[key]["count"] += 1
            if len(folded[key]["examples"]) < 5 and record.get("path") not in folded[key]["examples"]:
                folded[key]["examples"].append(record.get("path"))
        else:
            folded[key] = {**record, "count": 1, "examples": [record.get("path")]}
    for record in folded.values():
        if record["count"] > 1 and len(set(record["examples"])) > 1:
            record["path"] = _INDEX.sub("[*]", record["path"])
            record.pop("before", None)
            record.pop("after", None)
        else:
            record.pop("examples", None)
    data["records"] = unexpected[:limit] + list(folded.values())
    if len(unexpected) > limit:
        data.setdefault("notes", []).append(f"{len(unexpected) - limit} more unexpected records not shown")
    return data


def cell_fidelity(tiers: dict[str, TierResult]) -> dict | None:
    judged = {name: t.fidelity for name, t in tiers.items() if t.fidelity and t.fidelity.get("verdict") in VERDICT_ORDER}
    if not judged:
        return None
    worst = max((f["verdict"] for f in judged.values()), key=VERDICT_ORDER.index)
    matched = sorted({rule for f in judged.values() for rule in f.get("matched_rules", [])})
    unexpected = sum(1 for f in judged.values() for r in f.get("records", []) if r.get("status") == "unexpected")
    return {"verdict": worst, "matched_rules": matched, "unexpected": unexpected,
            "tiers": {name: f["verdict"] for name, f in judged.items()}}


@lru_cache(maxsize=1)
def _rules():
    from fidelity import RuleSet

    return RuleSet.load()
