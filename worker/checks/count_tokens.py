"""count_tokens: the proxy's /v1/messages/count_tokens answers 200 with the provider's own count.

The reference is what the same provider reports as input usage for the same content through the same gateway
(a /v1/messages call), so a gateway that falls back to a wrong local tokenizer — or answers from nowhere — fails.
"""
from __future__ import annotations

from ccmatrix.outcomes import Evidence, TierResult
from worker.check import CheckContext, Check
from worker.checks._direct import post

TOLERANCE = 0.15
# Against a real provider the upstream capture cannot show the provider was asked; the count must then match
# what the same provider billed for the same content closely enough that a local tokenizer's estimate would not.
REAL_TOLERANCE = 0.05
PROVIDERS_COUNT = "the count is the provider's own (it was asked, and it matches what it bills for the same content)"
TEXT = ("The quick brown fox jumps over the lazy dog while the gateway translates every field faithfully. " * 40)


def _body(ctx: CheckContext) -> dict:
    return {
        "model": ctx.model,
        "system": [{"type": "text", "text": "You are a careful assistant that counts things."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": TEXT + " How many foxes are there?"}]}],
        "tools": [{"name": "get_weather", "description": "Get the weather for a city.",
                   "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                                    "required": ["city"]}}],
    }


class CountTokens(Check):
    decisive = (PROVIDERS_COUNT,)

    def run(self, ctx: CheckContext) -> TierResult:
        body = _body(ctx)
        response, duration, early = post(ctx, "/v1/messages/count_tokens", body)
        if early:
            return early
        try:
            counted = response.json()["input_tokens"]
        except (ValueError, KeyError, TypeError):
            return self._fail(ctx, duration, f"count_tokens answered 200 without input_tokens: {response.text[:300]}")
        if not isinstance(counted, int) or counted <= 0:
            return self._fail(ctx, duration, f"count_tokens answered a non-positive count: {counted!r}")
        reference, _, early = post(ctx, "/v1/messages", {**body, "max_tokens": 16})
        if early:
            early.error = f"the reference /v1/messages call failed: {early.error}"
            return early
        usage = reference.json().get("usage") or {}
        expected = sum(usage.get(k) or 0 for k in ("input_tokens", "cache_read_input_tokens",
                                                   "cache_creation_input_tokens"))
        if expected <= 0:
            return self._fail(ctx, duration, f"the provider's usage for the same content is empty: {usage}")
        counts = ([c for c in ctx.upstream() if c.get("operation") in ("count_tokens", "count-tokens")]
                  if ctx.sees_upstream else None)
        if abs(counted - expected) > TOLERANCE * expected:
            # say whether the provider was asked: a local estimate and an incomplete request to the provider's own
            # counter are different gateway bugs (corpus: bedrock-count-tokens-local-fallback)
            how = ("" if counts is None else
                   "; the gateway answered without asking the provider (a local estimate)" if not counts else
                   f"; the provider's counter was asked ({len(counts)} call(s)), not with the content the request "
                   "carries")
            return self._fail(ctx, duration, f"count_tokens said {counted}, the provider bills {expected} input tokens "
                                             f"for the same content (tolerance {TOLERANCE:.0%}){how}")
        if ctx.sees_upstream:
            if not counts:
                return self._fail(ctx, duration, "the gateway answered count_tokens without asking the provider "
                                                 "(a local estimate)")
            ctx.asserted(PROVIDERS_COUNT)
        elif abs(counted - expected) <= REAL_TOLERANCE * expected:
            ctx.asserted(PROVIDERS_COUNT)
        return TierResult.passed(duration_ms=duration, evidence=Evidence(
            result_text=f"count_tokens={counted}, provider usage={expected}", upstream_calls=ctx.calls(),
            findings=ctx.findings()))

    def _fail(self, ctx: CheckContext, duration: int, message: str) -> TierResult:
        return TierResult.failed(message, duration_ms=duration, evidence=Evidence(
            assertion=message, upstream_calls=ctx.calls(), findings=ctx.findings()))


CHECK = CountTokens()
