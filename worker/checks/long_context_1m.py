"""Long context (1M): a ~210k-token prompt with `--betas context-1m-2025-08-07` is accepted (past the 200k window),
the beta reached the upstream, and the upstream counted more than 200k input tokens.

The prompt is far beyond argv's 128 KB per-argument limit, so it goes in on stdin (`--input-format stream-json`):
a big filler text block, then the instruction as the LAST text block (the one the model answers).
"""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import Check, CheckContext
from worker.checks import _media

BETA = "context-1m-2025-08-07"
WINDOW = 200_000
FILLER_TOKENS = 190_000  # + the CLI's own ~25-30k (system prompt, tools) = ~215k in total
CHARS_PER_TOKEN = 4  # the emulator's count; real tokenizers give a similar or larger count for this text


def filler(tokens: int) -> str:
    line = "The archive line {:06d} holds nothing but padding for a long-context test.\n"
    out, size, n = [], 0, 0
    while size < tokens * CHARS_PER_TOKEN:
        text = line.format(n)
        out.append(text)
        size += len(text)
        n += 1
    return "".join(out)


def input_total(usage: dict) -> int:
    """All input tokens of a call: uncached + cache writes + cache reads."""
    return sum(int(usage.get(k) or 0) for k in ("input_tokens", "cache_creation_input_tokens",
                                                  "cache_read_input_tokens"))


ACCEPTED = "a prompt past the 200k window was answered exactly, and the provider billed more than 200k input tokens"


class LongContext1m(Check):
    with_beta = True  # False only in tests: proves the check fails when the beta is missing
    decisive = (ACCEPTED,)

    def run(self, ctx: CheckContext) -> TierResult:
        word = "Long" + secrets.token_hex(4)
        blocks = [{"type": "text", "text": filler(FILLER_TOKENS)},
                  {"type": "text", "text": f"Reply with exactly the word: {word}"}]
        args = ["--input-format", "stream-json"] + (["--betas", BETA] if self.with_beta else [])
        run = ctx.run_cli(None, args=args, stdin_data=_media.user_message(blocks))
        early = ctx.classify(run)
        if early is not None:
            # Name the cause when the capture shows it: the provider refused a >200k prompt without the beta.
            cause = None
            if ctx.sees_upstream and early.status.value == "fail":
                cause = self.beta_missing(ctx) or (
                    f"the {BETA} beta reached the upstream, which still refused the prompt (a model without a 1M "
                    "window?)" if self.with_beta and ctx.upstream_requests() else None)
            if cause:
                early.error = f"{cause}; {early.error}"
                if early.evidence is not None:
                    early.evidence.assertion = early.error
            return early
        problem = self.judge(ctx, run, word)
        extra = {"cli_input_tokens": input_total(run.result.usage or {})}
        if ctx.sees_upstream:
            extra["upstream_input_tokens"] = [input_total(ctx.response_usage(c)) for c in ctx.model_calls()]
        return ctx.failed(run, problem, **extra) if problem else ctx.passed(run, **extra)

    @staticmethod
    def beta_missing(ctx: CheckContext) -> str | None:
        requests = ctx.upstream_requests()
        if requests and not all(BETA in r.betas for r in requests):
            return f"the {BETA} beta did not reach the upstream (betas: {sorted(requests[-1].betas)})"
        return None

    def judge(self, ctx: CheckContext, run, word: str) -> str | None:
        answer = (run.result.result or "").strip()
        if answer != word:
            return f"expected exactly {word!r}, the CLI printed {answer[:200]!r}"
        cli_total = input_total(run.result.usage or {})
        if cli_total <= WINDOW:
            return f"the CLI's usage reports {cli_total} input tokens, not more than {WINDOW}: the prompt was cut"
        ctx.asserted(ACCEPTED)
        if ctx.supporting("the context-1m beta reached the provider, which counted more than 200k input tokens"):
            missing = self.beta_missing(ctx)
            if missing:
                return missing
            calls = ctx.model_calls()
            upstream = max((input_total(ctx.response_usage(c)) for c in calls), default=0)
            if upstream <= WINDOW:
                return f"the upstream counted {upstream} input tokens, not more than {WINDOW}"
        return None


CHECK = LongContext1m()
