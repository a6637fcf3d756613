"""What a feature check sees (CheckContext) and the base classes checks are written with."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx
from celery.exceptions import SoftTimeLimitExceeded

from ccmatrix.manifest import Feature, Provider, alias_for
from ccmatrix.outcomes import Evidence, GatewayResponse, Status, TierResult, UpstreamCall
from ccmatrix.settings import Settings
from worker.classify import classify_run, evidence_for
from worker.driver import CliRun, run_cli

GATEWAY_BODY_LIMIT = 2048

# The loop bound: the most model calls one tier may make before the worker stops the CLI (Check.max_model_calls;
# a check whose scenario needs more declares its own). A tool round needs 2, a web search 3-4; the rest is headroom
# for the CLI's own side requests and a retry. A tier over it is a loop — the same question asked again and again
# (343 calls until the CLI's 180 s timeout were measured) — stopped at once, not left to the timeout and its retries.
DEFAULT_MAX_MODEL_CALLS = 12
LOOP_EVIDENCE_CALLS = 5  # how many of the last calls the loop's evidence quotes


class ModelCallLoop(Exception):
    """Raised out of CheckContext.run_cli when the worker stopped the CLI for making more model calls than the
    check's bound; carries the tier's outcome (worker/tier.py returns it instead of the check's)."""

    def __init__(self, outcome: TierResult):
        super().__init__(outcome.error)
        self.outcome = outcome


def custom_headers(client_env: dict[str, str] | None) -> dict[str, str]:
    """The headers the CLI adds to every request from ANTHROPIC_CUSTOM_HEADERS ("Name: value" lines), which a gateway
    plug-in may use to route (gateways/portkey: x-portkey-config); direct requests carry them too."""
    headers = {}
    for line in ((client_env or {}).get("ANTHROPIC_CUSTOM_HEADERS") or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip()] = value.strip()
    return headers


@dataclass
class CheckContext:
    feature: Feature
    provider: Provider
    tier: str
    model: str  # the model name the CLI asks the gateway for (LiteLLM: the proxy alias; other gateways name it their way)
    job_id: str
    settings: Settings
    emulated: bool
    claude_binary: Path
    proxy_url: str  # as the CLI sees it
    proxy_key: str
    sandbox: Any
    upstream_reader: Callable[[], list[dict]]
    set_faults: Callable[[list[dict]], None]
    direct_service: str = "proxy"  # where direct requests go: the proxy, or the fidelity recorder in front of it
    direct_prefix: str = ""  # e.g. /_job/<id> so the recorder tags the request with this tier run
    client_reader: Callable[[], list[dict]] = lambda: []  # what the CLI/direct requests got from the gateway
    decisive: tuple[str, ...] = ()  # the check's decisive assertions: a pass needs every one of them to have run
    max_model_calls: int = DEFAULT_MAX_MODEL_CALLS  # the loop bound (the check's own, see Check.max_model_calls)
    watch_every_s: float = 1.0  # how often the model calls are counted while the CLI runs
    secrets: tuple[str, ...] = ()  # values masked wherever evidence quotes the gateway
    client_env: dict[str, str] | None = None  # the column's client mode (Provider.client_env); None = Anthropic API
    started: float = field(default_factory=time.time)
    cli_runs: list[CliRun] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # decisive assertions that ran (and held)
    skipped: list[str] = field(default_factory=list)  # supporting upstream assertions not run (no capture)
    _captures: list[dict] | None = field(default=None, repr=False)  # cached until the next request we cause
    # The tier's Claude API id on this column (the manifest's), whatever name the gateway gives the model.
    claude_model: str | None = None

    @property
    def api_model(self) -> str:
        """The Claude API id this tier tests on this column: the manifest's (claude_model); else read from the LiteLLM
        proxy alias, named after it (ccmatrix.manifest.alias_for: `<Claude API id>-<provider id>`). Portkey and
        claude-code-router name the model their own way (`us.anthropic.…`, `provider,model`): only claude_model
        tells the catalogue which model it is."""
        if self.claude_model:
            return self.claude_model
        suffix = alias_for("", self.provider.id)
        return self.model[:-len(suffix)] if self.model.endswith(suffix) else self.model

    # --- driving ---------------------------------------------------------------------------------
    def run_cli(self, prompt: str | None, *, args: list[str] | None = None, env: dict[str, str] | None = None,
                stdin_data: str | None = None, files: dict[str, bytes] | None = None) -> CliRun:
        run = run_cli(self.claude_binary, prompt=prompt, model=self.model, base_url=self.proxy_url,
                      api_key=self.proxy_key, sandbox=self.sandbox, timeout_s=self.settings.cli_timeout_s,
                      max_retries=self.settings.cli_max_retries, args=args, env=env, stdin_data=stdin_data,
                      files=files, client_env=self.client_env, watch=self.over_bound,
                      watch_every_s=self.watch_every_s)
        self.cli_runs.append(run)
        self._captures = None
        if run.stopped:
            raise ModelCallLoop(self.loop_outcome(run))
        return run

    # --- the loop bound ------------------------------------------------------------------------------
    def counted_calls(self) -> list[dict]:
        """The model calls this tier has made so far, read afresh: the provider's side (the emulator's capture),
        or — against a real provider, which shows nothing — what the CLI sent through the recorder (its POSTs,
        token counting aside)."""
        self._captures = None
        if self.emulated:
            return self.model_calls()
        return [c for c in self.client_reader() if c.get("method") == "POST"
                and not re.search(r"count[_-]tokens", str(c.get("path") or ""))]

    def over_bound(self) -> str | None:
        """The driver's watch: "model-call loop: N calls > bound B" once the tier is over its bound, else None.
        A capture that cannot be read now is no verdict (the next look, or the CLI's own end, decides)."""
        try:
            n = len(self.counted_calls())
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            return None
        return f"model-call loop: {n} calls > bound {self.max_model_calls}" if n > self.max_model_calls else None

    def loop_outcome(self, run: CliRun) -> TierResult:
        """The outcome of a tier stopped by its loop bound, with the loop in the evidence.

        Who is to blame: a loop is the same question asked again and again. When the emulator tagged its answers
        as repeats it could not progress on (a capture's `response.repeat`: its script re-issued a tool call the
        conversation already carried, answered — emulator/model.py), the gateway delivered the conversation and
        the scripted model failed to read it: `error`, cause `emulator_gap`. Otherwise the model was not given
        what it needed to move on (e.g. the gateway dropped the tool result, so the model asked again): `fail`,
        cause `gateway`. Never retryable: a loop would only loop again."""
        try:
            calls = self.counted_calls()
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            calls = []
        repeats = [c for c in calls if ((c.get("response") or {}).get("repeat"))]
        reason = run.stopped or f"model-call loop: {len(calls)} calls > bound {self.max_model_calls}"
        loop = {"calls": len(calls), "bound": self.max_model_calls,
                "last_calls": [f"{c.get('method', '?')} {c.get('path', '?')} -> {c.get('status')}"
                               + (f" ({c.get('cause')})" if c.get("cause") else "")
                               for c in calls[-LOOP_EVIDENCE_CALLS:]]}
        if self.emulated and repeats:
            loop["repeats"] = len(repeats)
            loop["repeat"] = self.mask(str(repeats[-1]["response"]["repeat"]))[:500]
            text = f"emulator gap: {reason}; {loop['repeat']}"
            return TierResult.errored(text, cause="emulator_gap", duration_ms=run.duration_ms,
                                      evidence=evidence_for(run, self.calls(), findings=self.findings(),
                                                            model_call_loop=loop))
        return TierResult.failed(reason, cause="gateway", duration_ms=run.duration_ms,
                                 evidence=evidence_for(run, self.calls(), assertion=reason, findings=self.findings(),
                                                       model_call_loop=loop))

    def proxy_client(self, timeout: float = 60.0) -> httpx.Client:
        """A client for direct requests to the proxy (count_tokens, tool_search), authenticated."""
        self._captures = None  # the request about to be made adds captures
        client = self.sandbox.client(self.direct_service, timeout=timeout)
        if self.direct_prefix:
            client.base_url = str(client.base_url).rstrip("/") + self.direct_prefix + "/"
        client.headers.update({"x-api-key": self.proxy_key, "anthropic-version": "2023-06-01"})
        client.headers.update(custom_headers(self.client_env))  # what the CLI sends too (a gateway's routing headers)
        return client

    # --- evidence --------------------------------------------------------------------------------
    def upstream(self, operation: str | None = None) -> list[dict]:
        """What the (emulated) provider received during this tier run, oldest first."""
        if self._captures is None:
            self._captures = self.upstream_reader()
        return [c for c in self._captures if operation is None or c.get("operation") == operation]

    def calls(self) -> list[UpstreamCall]:
        return [UpstreamCall(method=c.get("method", "?"), path=c.get("path", "?"), status=c.get("status"),
                             cause=c.get("cause"), reason=(c.get("cause_reason") or None) and
                             self.mask(str(c.get("cause_reason")))[:500])
                for c in self.upstream()]

    # --- decisive assertions -----------------------------------------------------------------------
    @property
    def sees_upstream(self) -> bool:
        """True when the provider's side can be read (the emulator's capture); False against a real provider."""
        return self.emulated

    def asserted(self, *names: str) -> None:
        """Record decisive assertions that ran and held (call it after the assertion, on the passing path)."""
        for name in names:
            if name not in self.ran:
                self.ran.append(name)

    def supporting(self, name: str) -> bool:
        """Whether a supporting assertion on the upstream capture can run; records it as skipped when not."""
        if self.sees_upstream:
            return True
        self.skipped.append(name)
        return False

    def gateway_response(self) -> GatewayResponse | None:
        """The gateway's own answer to the last client request it answered with an error (from the recorder)."""
        try:
            captures = self.client_reader()
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # evidence only: never let it change a verdict
            return None
        for capture in reversed(captures):
            if capture.get("method") == "HEAD":
                continue
            status = capture.get("status")
            body = capture.get("response_error")
            if (isinstance(status, int) and status >= 400) or body:
                return GatewayResponse(status=status if isinstance(status, int) else 0,
                                       body=self.mask(body or "")[:GATEWAY_BODY_LIMIT] or None, source="recorder")
        return None

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            if secret and len(secret) >= 6:
                text = text.replace(secret, "***")
        return text

    def finalize(self, outcome: TierResult) -> TierResult:
        """One place for what every outcome carries, whatever path a check took to it: egress findings, the
        gateway's own answer when it answered an error, the decisive assertions that ran — and no pass without
        all of them."""
        if outcome.evidence is None:
            outcome.evidence = Evidence(upstream_calls=self.calls())
        evidence = outcome.evidence
        for finding in self.findings():
            if finding not in evidence.findings:
                evidence.findings.append(finding)
        if outcome.status in (Status.FAIL, Status.ERROR):
            recorded = self.gateway_response()
            if recorded is not None and (evidence.gateway_response is None or evidence.gateway_response.source != "direct"
                                         or recorded.status == evidence.gateway_response.status):
                evidence.gateway_response = recorded
            if evidence.gateway_response is not None and evidence.gateway_response.body:
                evidence.gateway_response.body = self.mask(evidence.gateway_response.body)[:GATEWAY_BODY_LIMIT]
        outcome = self._unserved_provider_host(outcome)
        evidence.decisive = list(self.ran)
        if self.skipped:
            evidence.extra["supporting_not_run"] = list(self.skipped)
        missing = [name for name in self.decisive if name not in self.ran]
        if outcome.status == Status.PASS and missing:
            reason = ("decisive assertion(s) did not run: " + "; ".join(missing)
                      + ("" if self.sees_upstream else " (they need the upstream capture, which a real provider "
                                                       "does not give)"))
            outcome = TierResult.not_tested(reason, evidence=evidence, duration_ms=outcome.duration_ms,
                                            fidelity=outcome.fidelity)
        return outcome

    def findings(self) -> list[str]:
        return [f"egress attempt blocked: DNS lookup of {name}"
                for name in self.sandbox.egress_attempts(since=self.started - 1)]

    def _unserved_provider_host(self, outcome: TierResult) -> TierResult:
        """A gateway `fail` in emulator mode while the gateway looked up a provider's own API host that the emulator
        does not serve (e.g. a new endpoint a release started to call): the emulator could not answer, so nothing
        was learnt about the gateway — an emulator gap, with the host named (never traffic: the lookup was blocked)."""
        if not self.emulated or outcome.status != Status.FAIL or outcome.cause != "gateway":
            return outcome
        hosts = [f.rsplit(" ", 1)[-1] for f in (outcome.evidence.findings if outcome.evidence else [])
                 if f.startswith("egress attempt blocked: DNS lookup of ")]
        owned = [(h, registry.provider_of_host(h)) for h in hosts]
        owned = [(h, p) for h, p in owned if p is not None]
        if not owned:
            return outcome
        host, provider = owned[0]
        reason = (f"emulator gap: the gateway reached for {host} ({registry.get(provider).name}'s own domain), "
                  f"which the emulator does not serve; the tier read: {outcome.error or '?'}")[:1500]
        return TierResult.errored(reason, cause="emulator_gap", evidence=outcome.evidence,
                                  duration_ms=outcome.duration_ms, fidelity=outcome.fidelity)

    def model_calls(self) -> list[dict]:
        """Upstream captures of message-creating calls (any dialect), excluding probes and token exchanges."""
        return [c for c in self.upstream() if c.get("operation") in MESSAGE_OPERATIONS]

    def upstream_requests(self, captures: list[dict] | None = None) -> list:
        """The model calls the provider received, decoded into the universal form by the provider's own package
        (one accessor whatever the wire)."""
        package = registry.get(self.provider.route)
        return [package.decode(c) for c in (self.model_calls() if captures is None else captures)]

    @staticmethod
    def response_usage(capture: dict) -> dict:
        """Usage the emulator answered for a call, in Anthropic's field names whatever the dialect."""
        return ((capture.get("response") or {}).get("usage")) or {}

    # --- outcomes --------------------------------------------------------------------------------
    def classify(self, run: CliRun) -> TierResult | None:
        return classify_run(run, self.calls(), self.emulated)

    def passed(self, run: CliRun | None, **extra) -> TierResult:
        return TierResult.passed(evidence=evidence_for(run, self.calls(), findings=self.findings(), **extra),
                                 duration_ms=run.duration_ms if run else None)

    def failed(self, run: CliRun | None, assertion: str, **extra) -> TierResult:
        return TierResult.failed(assertion, duration_ms=run.duration_ms if run else None,
                                 evidence=evidence_for(run, self.calls(), assertion=assertion,
                                                       findings=self.findings(), **extra))


from providers import registry  # noqa: E402  (the operations each provider package declares)

MESSAGE_OPERATIONS = registry.message_operations()


class Check:
    """A feature check. Subclasses implement `run`; most use CliCheck below.

    `decisive` names the assertions that make the row's claim; the check calls `ctx.asserted(name)` for each
    one that ran and held. A tier passes only when all of them ran (see CheckContext.finalize)."""

    needs_emulator = False  # True: the strong assertion needs the upstream capture (real mode → not_tested)
    decisive: tuple[str, ...] = ()
    # The loop bound: the most model calls a tier of this check may make (more than its scenario can need); over
    # it, the worker stops the CLI at once and the tier reports the loop (CheckContext.loop_outcome).
    max_model_calls: int = DEFAULT_MAX_MODEL_CALLS

    def run(self, ctx: CheckContext) -> TierResult:
        raise NotImplementedError


class CliCheck(Check):
    """Run the CLI once with `prompt`/`args`/`env`, classify, then `judge` the transcript and the capture."""

    prompt: str = ""
    args: list[str] = []
    env: dict[str, str] = {}

    def drive(self, ctx: CheckContext) -> CliRun:
        return ctx.run_cli(self.prompt, args=list(self.args), env=dict(self.env))

    def judge(self, ctx: CheckContext, run: CliRun) -> str | None:
        """Return None when the feature works, else the assertion that failed (becomes a `fail`)."""
        raise NotImplementedError

    def run(self, ctx: CheckContext) -> TierResult:
        run = self.drive(ctx)
        early = ctx.classify(run)
        if early is not None:
            return early
        problem = self.judge(ctx, run)
        if problem:
            return ctx.failed(run, problem)
        return ctx.passed(run)
