"""Direct requests to the proxy's Anthropic-compatible endpoints (rows the CLI cannot drive on its own)."""
from __future__ import annotations

import time

import httpx

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext
from worker.classify import classify_http


def post(ctx: CheckContext, path: str, body: dict, betas: list[str] | None = None) -> tuple[httpx.Response | None, int, TierResult | None]:
    """(response, duration_ms, early outcome). The early outcome is set when the proxy did not answer 200."""
    headers = {"anthropic-beta": ",".join(betas)} if betas else {}
    started = time.monotonic()
    try:
        with ctx.proxy_client() as client:
            response = client.post(path, json=body, headers=headers)
    except httpx.HTTPError as error:
        outcome = TierResult.errored(f"the proxy did not answer: {type(error).__name__}: {error}")
        return None, int((time.monotonic() - started) * 1000), outcome
    duration = int((time.monotonic() - started) * 1000)
    if response.status_code != 200:
        outcome = classify_http(response.status_code, response.text, ctx.calls(), ctx.emulated)
        outcome.duration_ms = duration
        return response, duration, outcome
    return response, duration, None
