"""Run single cells at chosen versions as Celery jobs, for `ccmatrix bisect` and `ccmatrix corpus run`.

A probe is one `ccmatrix.run_cell` job (one CellJob, planned by producer.plan with the probe's versions) on the same
local stack `ccmatrix run` uses: our own Redis unless a broker is configured, and a local worker with N slots (a
cluster's workers take the jobs too when CCMATRIX_BROKER_URL names its broker). The versions are provisioned here
first (ccmatrix.provision, cached under the cache directory), so a release that does not install is known as such —
a skip with its reason — before any job is sent.

Also here: the release lists of the two axes (the package index's final releases, via ccmatrix.resolve's metadata
fetch) and the release-notes links.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from ccmatrix.bisect import Probe

AXES = ("litellm", "claude-code")


# --- releases and their notes ----------------------------------------------------------------------------------
def final_releases(axis: str, fetch: Callable[[str], dict] | None = None) -> list[str]:
    """Every final release of the axis's package, oldest first (PyPI `litellm`, npm `@anthropic-ai/claude-code`)."""
    from packaging.version import Version

    from ccmatrix import resolve

    fetch = fetch or resolve.fetch_json
    if axis == "litellm":
        found = resolve.litellm_finals(fetch(resolve.PYPI_JSON.format(name=resolve.LITELLM)))
    elif axis == "claude-code":
        metadata = fetch(resolve.NPM_REGISTRY.format(name=resolve.CLAUDE_CODE))
        found = [v for v in (metadata.get("versions") or {}) if resolve._final(v) is not None]
    else:
        raise ValueError(f"unknown axis {axis!r} (one of {', '.join(AXES)})")
    return sorted(found, key=Version)


def notes_url(axis: str, version: str) -> str:
    if axis == "litellm":
        return f"https://github.com/BerriAI/litellm/releases/tag/v{version}-stable (or /v{version})"
    return (f"https://www.npmjs.com/package/@anthropic-ai/claude-code/v/{version} "
            f"(CHANGELOG: https://github.com/anthropics/claude-code/blob/main/CHANGELOG.md)")



def resolve_pin(axis: str, version: str) -> str:
    """`latest` (e.g. the manifest's) as a concrete release of the axis's tool, the way a run resolves it
    (ccmatrix.resolve); an explicit version passes through. A registry that cannot answer: ResolveError (ValueError)."""
    from ccmatrix import resolve
    from ccmatrix.settings import get_settings

    if version != "latest":
        return version
    settings = get_settings()
    if axis == "litellm":
        cache = resolve.ProbeCache(settings.cache_dir / "resolve" / "litellm-probes.json")
        return resolve.resolve_litellm(version, cache=cache).version
    return resolve.resolve_claude_code(version, min_age_days=settings.claude_code_min_age_days).version

# --- one cell's outcome in one line -----------------------------------------------------------------------------
def one_line(text: Any, limit: int = 240) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def outcome_cause(outcome) -> str | None:
    """The cause of the tiers that made the cell's status (the first such tier's)."""
    for tier in outcome.tiers.values():
        if tier.status == outcome.status and tier.cause:
            return tier.cause
    return None


def outcome_reason(outcome) -> str:
    """One line: the failed assertion (or the gateway's answer) of each tier that made the status, else the cell's
    error or reason."""
    parts = []
    for name, tier in outcome.tiers.items():
        if tier.status != outcome.status or outcome.status.value == "pass":
            continue
        evidence = tier.evidence
        what = tier.error or tier.reason or ""
        if evidence and evidence.assertion and evidence.assertion not in what:
            what = f"{evidence.assertion}: {what}" if what else evidence.assertion
        parts.append(f"{name}: {what}" if what else name)
    return one_line("; ".join(parts) or outcome.error or outcome.reason or "")


def to_probe(version: str, outcome) -> Probe:
    """A cell outcome as a bisect probe: pass is good, fail (the gateway is wrong) is bad; error, not_tested and
    not_applicable could not tell (an error probe: retried, then excluded — never good or bad)."""
    status = outcome.status.value
    verdict = status if status in ("pass", "fail") else "error"
    return Probe(version, verdict, status=status, cause=outcome_cause(outcome), reason=outcome_reason(outcome))


# --- the stack and the jobs --------------------------------------------------------------------------------------
@dataclass
class Cell:
    """What to run: a (feature, provider) cell at one (LiteLLM, Claude Code) pair, with the run's other options."""

    feature: str
    provider: str
    litellm_version: str
    claude_code_version: str
    tiers: list[str] | None = None
    tier_models: dict[str, str] | None = None
    gateway_profile: str | None = None
    manifest_path: str | None = None
    # A Claude Code version whose model table gives the columns' ids of `tier_models` when the version under test
    # embeds none (a corpus case at 2.1.23): plan_job then plans an explicit manifest (explicit_manifest).
    table_fallback: str | None = None

    @property
    def label(self) -> str:
        return f"{self.feature}/{self.provider} @ litellm {self.litellm_version}, claude-code {self.claude_code_version}"


@dataclass
class Ran:
    """A cell's answer: the outcome, or why it could not run (`not_run`: does not install / cannot be planned;
    `failed`: the job itself did not come back)."""

    cell: Cell
    outcome: Any = None  # CellOutcome
    not_run: str | None = None
    failed: str | None = None


def plan_job(cell: Cell, run_id: str):
    """The CellJob for `cell` (producer.plan, versions pinned); a ValueError (one line) when it cannot be planned."""
    from ccmatrix.manifest import ManifestError
    from ccmatrix.model_table import ModelTableError
    from producer.plan import RunOptions, plan_run

    def plan(tier_models, manifest_path):
        return plan_run(RunOptions(features=[cell.feature], providers=[cell.provider], tiers=cell.tiers,
                                   litellm_version=cell.litellm_version, claude_code_version=cell.claude_code_version,
                                   tier_models=tier_models, gateway_profile=cell.gateway_profile),
                        manifest_path=manifest_path)

    try:
        try:
            planned = plan(cell.tier_models, cell.manifest_path)
        except ModelTableError:
            if not (cell.table_fallback and cell.tier_models):
                raise
            planned = plan(None, explicit_manifest(cell.tier_models, cell.table_fallback, cell.manifest_path))
    except (ManifestError, ValueError) as error:
        raise ValueError(one_line(error, 400)) from None
    return planned.jobs[0].model_copy(update={"run_id": run_id})


def provision(cell: Cell) -> str | None:
    """Install (or find cached) the cell's two tools; None when both are there, else why not (one line)."""
    from ccmatrix.provision import ProvisionError, ensure_claude, ensure_litellm
    from ccmatrix.settings import get_settings

    cache = get_settings().cache_dir
    try:
        ensure_claude(cache, cell.claude_code_version)
    except (ProvisionError, OSError) as error:
        return one_line(f"claude-code {cell.claude_code_version} does not install: {error}", 400)
    try:
        ensure_litellm(cache, cell.litellm_version)
    except (ProvisionError, OSError) as error:
        return one_line(f"litellm {cell.litellm_version} does not install: {error}", 400)
    return None


class CeleryCells:
    """Run cells as `ccmatrix.run_cell` Celery jobs on a local stack (started on `__enter__`, stopped on exit)."""

    def __init__(self, concurrency: int | None = None, log: Callable[[str], None] | None = None,
                 poll_s: float = 2.0, timeout_s: float | None = None):
        from ccmatrix.settings import get_settings

        self.settings = get_settings()
        self.concurrency = concurrency or self.settings.worker_concurrency
        self.log = log or (lambda line: print(line, file=sys.stderr))
        self.poll_s = poll_s
        self.timeout_s = timeout_s or (self.settings.job_time_limit_s + self.settings.job_time_limit_grace_s + 600)
        self.stack = None
        self.app = None

    @property
    def slots(self) -> int:
        return self.concurrency

    def __enter__(self) -> "CeleryCells":
        from ccmatrix.local_stack import LocalStack
        from ccmatrix.settings import get_settings

        log_dir = self.settings.cache_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stack = LocalStack(self.settings.cache_dir, log_dir)
        try:
            broker = self.settings.broker_url
            if not broker:
                broker = self.stack.start_redis()
                os.environ["CCMATRIX_BROKER_URL"] = broker
                os.environ["CCMATRIX_RESULT_BACKEND"] = broker
                self.log(f"started redis at {broker}")
            self.stack.start_worker(dict(os.environ), self.concurrency, name="ccmatrix-probe")
            self.log(f"started a celery worker (concurrency {self.concurrency}); logs in {log_dir}")
            get_settings.cache_clear()
            from ccmatrix.celery_app import make_app

            self.app = make_app()
        except BaseException:
            self.stack.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.stack:
            self.stack.stop()

    def run(self, cells: list[Cell]) -> list[Ran]:
        """Provision each cell's tools (in parallel, cached), plan its job, send the jobs at once, wait for all."""
        ran = [Ran(cell) for cell in cells]
        with ThreadPoolExecutor(max_workers=max(1, min(len(cells), self.concurrency))) as pool:
            reasons = list(pool.map(provision, cells))
        jobs = {}
        batch = f"probe-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        for index, (item, reason) in enumerate(zip(ran, reasons)):
            if reason:
                item.not_run = reason
                continue
            try:
                job = plan_job(item.cell, f"{batch}-{index}")
            except ValueError as error:
                item.not_run = f"cannot be planned: {error}"
                continue
            jobs[index] = job
        from ccmatrix.contract import RUN_CELL_TASK, CellOutcome

        results = {index: self.app.send_task(RUN_CELL_TASK, args=(job.model_dump(mode="json"),), task_id=job.task_id)
                   for index, job in jobs.items()}
        started = time.monotonic()
        waiting = set(results)
        while waiting:
            for index in sorted(waiting):
                result = results[index]
                if not result.ready():
                    continue
                waiting.discard(index)
                if result.successful():
                    try:
                        ran[index].outcome = CellOutcome.model_validate(result.result)
                    except Exception as error:  # noqa: BLE001 - a malformed answer is the job's failure
                        ran[index].failed = one_line(f"the job answered something else: {error}")
                else:
                    ran[index].failed = one_line(f"the job failed: {result.result!r}")
            if not waiting:
                break
            dead = self.stack.dead() if self.stack else None
            if dead:
                for index in waiting:
                    ran[index].failed = one_line(f"{dead}; logs in {self.settings.cache_dir / 'logs'}")
                break
            if time.monotonic() - started > self.timeout_s:
                for index in waiting:
                    ran[index].failed = f"no answer after {self.timeout_s:.0f} s"
                break
            time.sleep(self.poll_s)
        for result in results.values():
            try:
                result.forget()
            except Exception:  # noqa: BLE001 - best effort
                pass
        return ran


def bisect_probe(runner, make_cell: Callable[[str], Cell]) -> Callable[[list[str]], list[Probe]]:
    """The bisect's probe callable over `runner.run`: a release that does not install is a skip; a job that did not
    come back is an error (infrastructure); otherwise the cell's outcome decides (ccmatrix.probes.to_probe)."""

    def probe(versions: list[str]) -> list[Probe]:
        out = []
        for version, item in zip(versions, runner.run([make_cell(v) for v in versions])):
            if item.not_run:
                out.append(Probe(version, "skip", reason=item.not_run))
            elif item.failed or item.outcome is None:
                out.append(Probe(version, "error", status="error", cause="infrastructure",
                                 reason=item.failed or "no outcome"))
            else:
                out.append(to_probe(version, item.outcome))
        return out

    return probe



# --- a corpus case's cell ----------------------------------------------------------------------------------------
def explicit_manifest(tier_models: dict[str, str], table_version: str, manifest_path: str | None = None) -> str:
    """A copy of the manifest whose tiers are `tier_models` and whose columns name their per-provider model ids,
    resolved with the model table of Claude Code `table_version` (a model's Bedrock / Vertex id is a fact about the
    model, not about the CLI), so a CLI without a table of its own can run it. Written under the cache; the path."""
    import hashlib
    import json

    from ccmatrix import tiers
    from ccmatrix.manifest import load_manifest
    from ccmatrix.settings import get_settings
    from producer.plan import model_table

    manifest = load_manifest(manifest_path)
    resolved = tiers.resolve(manifest, table_version, model_table(table_version), tier_models).manifest
    text = json.dumps(resolved.model_dump(mode="json", exclude_none=True), indent=1, sort_keys=True)
    path = get_settings().cache_dir / "corpus" / f"manifest-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def corpus_cell(case, litellm_version: str, manifest_path: str | None = None) -> Cell:
    """The cell of a corpus case at one LiteLLM release, in the era of its bug (ccmatrix.corpus): the case's Claude
    Code version (else its era's) and explicit tier models (the case's `models`, else ERA_MODELS; never the manifest's
    `latest`), with the case's gateway profile. A Claude Code version without an embedded model table (2.1.23,
    2.1.126) gets the columns' model ids from ERA_CLAUDE_CODE's table at plan time (plan_job, explicit_manifest);
    the version under test is unchanged."""
    from ccmatrix.corpus import ERA_CLAUDE_CODE

    return Cell(feature=case.cell.feature, provider=case.cell.provider, litellm_version=litellm_version,
                claude_code_version=case.run_claude_code, tiers=list(case.cell.tiers), tier_models=case.run_models,
                gateway_profile=case.gateway_profile, manifest_path=manifest_path, table_fallback=ERA_CLAUDE_CODE)
