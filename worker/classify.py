"""Outcome classification, written once and used by every check: infrastructure `error` vs gateway `fail`.

`error` = we could not learn anything about the gateway: credentials missing or rejected, quota or credit
exhausted, deployment/model not found, the provider itself down or overloaded, a timeout, the proxy not booting.
`fail` = the gateway is wrong: the provider refused what the gateway sent (400/413/422), or the gateway broke
a request the provider answered fine (a gateway 5xx with a healthy upstream), or the answer is wrong.
"""
from __future__ import annotations

import re

from ccmatrix.outcomes import Evidence, TierResult, UpstreamCall
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
INFRA_MESSAGE = re.compile(
    r"credit balance|insufficient[_ ]quota|quota exceeded|billing|not logged in|invalid api key|"
    r"authentication|DeploymentNotFound|model_not_found|could not resolve host|connection refused",
    re.IGNORECASE,
)
# A provider failing mid-stream arrives inside an HTTP 200 (Anthropic `event: error` overloaded_error, a Bedrock
# exception frame): the CLI reports it without a status. It is the provider's fault, and worth a retry.
TRANSIENT_MESSAGE = re.compile(r"overloaded|service ?unavailable|throttl|too many requests|rate.?limit", re.IGNORECASE)
RESULT_TEXT_LIMIT = 600


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


def judge_status(status: int | None, message: str, upstream_statuses: list[int], emulated: bool) -> tuple[str, str]:
    """(kind, text) for an API error seen by the client: kind is "error" or "fail".

    When the provider itself answered an infrastructure status, that is the cause, whatever status the gateway
    turned it into (LiteLLM answers a cooled-down deployment's 404 with a 429, a Bedrock 500 with a 503)."""
    upstream_infra = [s for s in upstream_statuses if s in INFRA_STATUS]
    if upstream_infra and (status is None or status >= 400) and upstream_infra[-1] != status:
        cause = upstream_infra[-1]
        return "error", f"{INFRA_STATUS[cause]} at the provider (the gateway answered {status}): {message[:300]}"
    if status in INFRA_STATUS:
        return "error", f"{INFRA_STATUS[status]}: {message[:300]}"
    if INFRA_MESSAGE.search(message):
        return "error", f"infrastructure: {message[:300]}"
    if status is None and TRANSIENT_MESSAGE.search(message):
        return "error", f"provider overloaded or unavailable mid-stream: {message[:300]}"
    if status is not None and status >= 500:
        if any(s >= 500 or s in INFRA_STATUS for s in upstream_statuses):
            return "error", f"provider error {max(upstream_statuses)} passed through as {status}: {message[:300]}"
        if emulated:
            # The upstream answered fine (or was never called) and the gateway still failed: the gateway's bug.
            return "fail", f"gateway returned {status} although the upstream did not fail: {message[:300]}"
        return "error", f"server error {status}: {message[:300]}"
    if status is not None and 400 <= status < 500:
        return "fail", f"request refused ({status}): {message[:300]}"
    return "fail", f"the CLI reported an error: {message[:300]}"


TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504, 529}


def _outcome(kind: str, text: str, evidence: Evidence, duration_ms: int | None,
             transient: bool = False) -> TierResult:
    if kind == "error":
        if transient:
            evidence.extra["retryable"] = True  # rate-limit shaped or transient: worth another attempt
        return TierResult.errored(text, evidence=evidence, duration_ms=duration_ms)
    evidence.assertion = text
    return TierResult.failed(text, evidence=evidence, duration_ms=duration_ms)


def classify_run(run: CliRun, calls: list[UpstreamCall], emulated: bool) -> TierResult | None:
    """An outcome when the CLI run did not complete cleanly; None when the check should judge the answer."""
    evidence = evidence_for(run, calls)
    if run.timed_out:
        return _outcome("error", f"timeout: the CLI did not finish in {run.duration_ms / 1000:.0f} s", evidence,
                        run.duration_ms, transient=True)
    result = run.result
    if result is None:
        tail = (run.stderr or run.stdout)[-400:].strip()
        return _outcome("error", f"the CLI exited {run.exit_code} without a result: {tail}", evidence, run.duration_ms)
    if not result.is_error:
        return None
    statuses = [c.status for c in calls if c.status is not None]
    message = (result.result or "").strip()
    kind, text = judge_status(result.api_error_status, message, statuses, emulated)
    transient = result.api_error_status in TRANSIENT_STATUS or (
        result.api_error_status is None and bool(TRANSIENT_MESSAGE.search(message)))
    return _outcome(kind, text, evidence, run.duration_ms, transient=transient)


def classify_http(status: int, body: str, calls: list[UpstreamCall], emulated: bool) -> TierResult:
    """The outcome of a direct request to the proxy that did not answer 200."""
    statuses = [c.status for c in calls if c.status is not None]
    kind, text = judge_status(status, body.strip(), statuses, emulated)
    evidence = Evidence(api_error_status=status, result_text=body[:RESULT_TEXT_LIMIT], upstream_calls=calls)
    return _outcome(kind, text, evidence, None, transient=status in TRANSIENT_STATUS)
