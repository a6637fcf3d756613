"""Outcome classification, written once and used by every check: who is to blame when a tier did not pass.

`fail` (cause `gateway`) = the gateway is wrong: the provider refused what it sent, it answered an error without
calling the provider, or it broke an answer the provider gave.
`error` = we could not learn anything about the gateway; its cause says why: `provider` (overloaded, rate limited,
a provider 5xx, a mid-stream provider error), `infrastructure` (credentials, deployment missing, timeouts, the
proxy not booting), `emulator_gap` (the emulator could not judge what the gateway sent), `client` (the CLI broke).

In emulator mode the emulator says why it answered what it did (each capture's `cause`: ok, injected, refused,
emulator_gap), so the verdict is ground truth, not a guess from status codes: a 401/403/404 the emulator gave
because the gateway signed the wrong bytes, built a wrong URL or named a wrong model is the gateway's `fail`;
the same status from a fault the run injected is `error`. Against a real provider only statuses and messages are
known, and the classic reading applies (401/403/404/429/5xx → infrastructure or provider).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ccmatrix.outcomes import Evidence, GatewayResponse, TierResult, UpstreamCall
from worker.driver import CliRun

INFRA_STATUS = {
    401: "credentials rejected (401)",
    402: "payment required / credit exhausted (402)",
    403: "access denied (403): credentials or model access",
    404: "deployment or model not found (404)",
    408: "provider timeout (408)",
    429: "rate limited or quota exhausted (429)",
    504: "gateway timeout (504)",
    529: "provider overloaded (529)",
}
# Statuses that are the provider's own trouble (vs our credentials/deployments): cause `provider`.
PROVIDER_STATUS = {408, 429, 500, 502, 503, 504, 529}
INFRA_MESSAGE = re.compile(
    r"credit balance|insufficient[_ ]quota|quota exceeded|billing|not logged in|invalid api key|"
    r"authentication|DeploymentNotFound|model_not_found|could not resolve host|connection refused",
    re.IGNORECASE,
)
# A provider failing mid-stream arrives inside an HTTP 200 (Anthropic `event: error` overloaded_error, a Bedrock
# exception frame): the CLI reports it without a status. It is the provider's fault, and worth a retry.
TRANSIENT_MESSAGE = re.compile(r"overloaded|service ?unavailable|throttl|too many requests|rate.?limit", re.IGNORECASE)
# The CLI could not reach the gateway at all: our side, not the gateway's translation.
UNREACHABLE_MESSAGE = re.compile(r"connection refused|ECONNREFUSED|unable to connect|socket hang up", re.IGNORECASE)
RESULT_TEXT_LIMIT = 600
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504, 529}


@dataclass
class Verdict:
    kind: str  # "error" | "fail"
    cause: str  # see ccmatrix.outcomes.CAUSES
    text: str
    transient: bool = False


def evidence_for(run: CliRun | None, calls: list[UpstreamCall], assertion: str | None = None,
                 findings: list[str] | None = None, **extra) -> Evidence:
    result = run.result if run else None
    text = result.result if result else None
    return Evidence(
        result_text=text[:RESULT_TEXT_LIMIT] if text else None,
        api_error_status=result.api_error_status if result else None,
        upstream_calls=calls,
        assertion=assertion,
        findings=findings or [],
        extra=extra,
    )


def _short(message: str) -> str:
    return message[:300]


def judge_emulated(status: int | None, message: str, calls: list[UpstreamCall]) -> Verdict:
    """Ground truth from the emulator's own tags: the last upstream answer that was not `ok` explains the error."""
    tagged = [c for c in calls if c.cause is not None]
    trouble = [c for c in tagged if c.cause != "ok"]
    last = trouble[-1] if trouble else None
    if last is not None and last.cause == "refused":
        return Verdict("fail", "gateway", f"the provider refused what the gateway sent ({last.status} on "
                                          f"{last.method} {last.path}): {last.reason or '?'}"[:600])
    if last is not None and last.cause == "emulator_gap":
        why = re.sub(r"^emulator gap:\s*", "", last.reason or "the emulator cannot judge it")
        return Verdict("error", "emulator_gap", f"emulator gap: {last.method} {last.path} ({last.status}): {why}"[:600])
    if last is not None and last.cause == "injected":
        return _injected(last, status, message)
    if status is None and UNREACHABLE_MESSAGE.search(message) and not tagged:
        return Verdict("error", "infrastructure", f"the CLI could not reach the gateway: {_short(message)}",
                       transient=True)
    if not [c for c in tagged if c.path not in ("/token",)]:
        return Verdict("fail", "gateway", f"the gateway answered {status if status is not None else 'an error'} "
                                          f"without calling the provider: {_short(message)}")
    return Verdict("fail", "gateway", f"the gateway answered {status if status is not None else 'an error'} "
                                      f"although every provider answer was fine: {_short(message)}")


def _injected(last: UpstreamCall, status: int | None, message: str) -> Verdict:
    """A fault the run asked for explains the error: infrastructure-shaped statuses and provider failures are
    `error`; an injected refusal (400/413/422) stands for the provider refusing what the gateway sent: `fail`."""
    how = f"(injected: {last.reason or 'fault'}); the gateway answered {status}: {_short(message)}"
    upstream = last.status or 0
    if upstream == 200:
        return Verdict("error", "provider", f"provider overloaded or unavailable mid-stream {how}", transient=True)
    if upstream in INFRA_STATUS:
        cause = "provider" if upstream in PROVIDER_STATUS else "infrastructure"
        return Verdict("error", cause, f"{INFRA_STATUS[upstream]} at the provider {how}",
                       transient=upstream in TRANSIENT_STATUS)
    if upstream >= 500:
        return Verdict("error", "provider", f"provider error {upstream} passed through as {status} {how}",
                       transient=True)
    return Verdict("fail", "gateway", f"request refused ({upstream}) {how}")


def judge_real(status: int | None, message: str, upstream_statuses: list[int]) -> Verdict:
    """Against a real provider only the status and the message are known: the classic reading."""
    if status in INFRA_STATUS:
        cause = "provider" if status in PROVIDER_STATUS else "infrastructure"
        return Verdict("error", cause, f"{INFRA_STATUS[status]}: {_short(message)}",
                       transient=status in TRANSIENT_STATUS)
    if INFRA_MESSAGE.search(message):
        return Verdict("error", "infrastructure", f"infrastructure: {_short(message)}")
    if status is None and TRANSIENT_MESSAGE.search(message):
        return Verdict("error", "provider", f"provider overloaded or unavailable mid-stream: {_short(message)}",
                       transient=True)
    if status is not None and status >= 500:
        return Verdict("error", "provider", f"server error {status}: {_short(message)}",
                       transient=status in TRANSIENT_STATUS)
    if status is not None and 400 <= status < 500:
        return Verdict("fail", "gateway", f"request refused ({status}): {_short(message)}")
    return Verdict("fail", "gateway", f"the CLI reported an error: {_short(message)}")


def judge(status: int | None, message: str, calls: list[UpstreamCall], emulated: bool) -> Verdict:
    if emulated:
        return judge_emulated(status, message, calls)
    return judge_real(status, message, [c.status for c in calls if c.status is not None])


def _outcome(verdict: Verdict, evidence: Evidence, duration_ms: int | None) -> TierResult:
    if verdict.kind == "error":
        if verdict.transient:
            evidence.extra["retryable"] = True  # rate-limit shaped or transient: worth another attempt
        return TierResult.errored(verdict.text, cause=verdict.cause, evidence=evidence, duration_ms=duration_ms)
    evidence.assertion = verdict.text
    return TierResult.failed(verdict.text, cause=verdict.cause, evidence=evidence, duration_ms=duration_ms)


API_ERROR = re.compile(r"^API Error:\s*(?P<status>\d{3})?\s*(?P<body>.*)$", re.DOTALL)


def gateway_answer_from_cli(status: int | None, message: str) -> GatewayResponse | None:
    """When no recorder saw the gateway's answer: the CLI prints `API Error: <status> <body>` verbatim."""
    match = API_ERROR.match(message.strip())
    if status is None or match is None:
        return None
    return GatewayResponse(status=status, body=match.group("body")[:2048] or None, source="cli")


def classify_run(run: CliRun, calls: list[UpstreamCall], emulated: bool) -> TierResult | None:
    """An outcome when the CLI run did not complete cleanly; None when the check should judge the answer."""
    evidence = evidence_for(run, calls)
    if run.timed_out:
        injected_delay = emulated and any(c.cause == "injected" for c in calls)
        return _outcome(Verdict("error", "provider" if injected_delay else "infrastructure",
                                f"timeout: the CLI did not finish in {run.duration_ms / 1000:.0f} s", transient=True),
                        evidence, run.duration_ms)
    result = run.result
    if result is None:
        tail = (run.stderr or run.stdout)[-400:].strip()
        return _outcome(Verdict("error", "client", f"the CLI exited {run.exit_code} without a result: {tail}"),
                        evidence, run.duration_ms)
    if not result.is_error:
        return None
    message = (result.result or "").strip()
    verdict = judge(result.api_error_status, message, calls, emulated)
    if not emulated:
        verdict.transient = verdict.transient or result.api_error_status in TRANSIENT_STATUS
    evidence.gateway_response = gateway_answer_from_cli(result.api_error_status, message)
    return _outcome(verdict, evidence, run.duration_ms)


def classify_http(status: int, body: str, calls: list[UpstreamCall], emulated: bool) -> TierResult:
    """The outcome of a direct request to the proxy that did not answer 200."""
    verdict = judge(status, body.strip(), calls, emulated)
    evidence = Evidence(api_error_status=status, result_text=body[:RESULT_TEXT_LIMIT], upstream_calls=calls,
                        gateway_response=GatewayResponse(status=status, body=body[:2048], source="direct"))
    return _outcome(verdict, evidence, None)
