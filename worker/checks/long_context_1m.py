"""Long context (1M): a ~215k-token prompt is accepted (past the 200k window) and the upstream counted more than
200k input tokens — the way the tier's model offers 1M, as the model catalogue (emulator/catalog.yaml, for the
column's platform) says:
  native 1M (the 5.5 generation): the prompt goes as it is, no `--betas`;
  1M via the beta (Sonnet 4.5): `--betas context-1m-2025-08-07`, and the beta must reach the upstream on the
    request that carried the long prompt;
  no 1M (Haiku 4.5, Opus 4.5: a 200k window): the tier is not_applicable, naming the model and its window.
The beta is judged on the requests that carried the long prompt only: the CLI's own retries drop betas (on a 400
"invalid beta flag" Claude Code 2.1.332 retries without some of its betas, context-1m among them), and a side call
without the prompt needs no beta.

The prompt is far beyond argv's 128 KB per-argument limit, so it goes in on stdin (`--input-format stream-json`):
a big filler text block, then the instruction as the LAST text block (the one the model answers).
"""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from emulator import catalog
from worker.check import Check, CheckContext
from worker.checks import _media

BETA = "context-1m-2025-08-07"
WINDOW = 200_000
FILLER_TOKENS = 190_000  # + the CLI's own ~25-30k (system prompt, tools) = ~215k in total
CHARS_PER_TOKEN = 4  # the emulator's count; real tokenizers give a similar or larger count for this text

FILLER_LINE = "The archive line {:06d} holds nothing but padding for a long-context test.\n"
MARKER = FILLER_LINE.format(0)  # the filler's first line: how a request that carried the long prompt is known


def filler(tokens: int) -> str:
    out, size, n = [], 0, 0
    while size < tokens * CHARS_PER_TOKEN:
        text = FILLER_LINE.format(n)
        out.append(text)
        size += len(text)
        n += 1
    return "".join(out)


def input_total(usage: dict) -> int:
    """All input tokens of a call: uncached + cache writes + cache reads."""
    return sum(int(usage.get(k) or 0) for k in ("input_tokens", "cache_creation_input_tokens",
                                                  "cache_read_input_tokens"))


ACCEPTED = "a prompt past the 200k window was answered exactly, and the provider billed more than 200k input tokens"

NATIVE, VIA_BETA, NO_1M, UNKNOWN = "native", "beta", "none", "unknown"


def context_mode(provider: str, model: str) -> tuple[str, str]:
    """How `model` (a Claude API id) offers a 1M context on `provider`'s platform, from the model catalogue:
    (NATIVE | VIA_BETA, how), (NO_1M, the not_applicable reason) or (UNKNOWN, the catalogue's gap)."""
    feat = catalog.features(provider, model)
    if feat is None:
        return UNKNOWN, (f"the model catalogue (emulator/catalog.yaml) has no context window for {model}: cannot "
                         "tell whether it offers 1M natively, through the beta or not at all")
    facts = feat.get("context") or {}
    window = int(facts.get("window") or feat.get("max_context") or 0)
    if facts.get("native_1m"):
        return NATIVE, f"{model} has a native {window:,}-token window: no beta sent"
    if facts.get("beta_1m"):
        return VIA_BETA, f"{model} has a {window:,}-token window, 1M with the {BETA} beta"
    return NO_1M, (f"{model} has a {window:,}-token context window and no 1M context (neither native nor through "
                  f"the {BETA} beta): nothing past 200k to test")


def carries_long_prompt(request) -> bool:
    return any(MARKER in (p.text or "") for m in request.messages if m.role == "user" for p in m.parts)


class LongContext1m(Check):
    with_beta = True  # False only in tests: proves the check fails when the beta is missing (beta models)
    decisive = (ACCEPTED,)

    def run(self, ctx: CheckContext) -> TierResult:
        mode, how = context_mode(ctx.provider.route, ctx.api_model)
        if mode == NO_1M:
            return TierResult.not_applicable(how)
        if mode == UNKNOWN:
            return TierResult.errored(how, cause="emulator_gap")
        send_beta = mode == VIA_BETA and self.with_beta
        word = "Long" + secrets.token_hex(4)
        blocks = [{"type": "text", "text": filler(FILLER_TOKENS)},
                  {"type": "text", "text": f"Reply with exactly the word: {word}"}]
        args = ["--input-format", "stream-json"] + (["--betas", BETA] if send_beta else [])
        run = ctx.run_cli(None, args=args, stdin_data=_media.user_message(blocks))
        early = ctx.classify(run)
        if early is not None:
            # Name the cause when the capture shows it: the provider refused a >200k prompt without the beta.
            cause = None
            if ctx.sees_upstream and early.status.value == "fail" and mode == VIA_BETA:
                cause = self.beta_missing(ctx) or self.refused_with_beta(ctx)
            if cause:
                early.error = f"{cause}; {early.error}"
                if early.evidence is not None:
                    early.evidence.assertion = early.error
            if early.evidence is not None:
                early.evidence.extra["context"] = how
            return early
        problem = self.judge(ctx, run, word, mode)
        extra = {"context": how, "cli_input_tokens": input_total(run.result.usage or {})}
        if ctx.sees_upstream:
            extra["upstream_input_tokens"] = [input_total(ctx.response_usage(c)) for c in ctx.model_calls()]
        return ctx.failed(run, problem, **extra) if problem else ctx.passed(run, **extra)

    @staticmethod
    def long_calls(ctx: CheckContext) -> list[tuple[dict, object]]:
        """(capture, universal request) of every model call that carried the long prompt, oldest first."""
        calls = ctx.model_calls()
        return [(c, r) for c, r in zip(calls, ctx.upstream_requests(calls)) if carries_long_prompt(r)]

    @classmethod
    def beta_missing(cls, ctx: CheckContext) -> str | None:
        """The beta reached the upstream on none of the requests that carried the long prompt."""
        long = cls.long_calls(ctx)
        if long and not any(BETA in r.betas for _, r in long):
            return (f"the {BETA} beta did not reach the upstream on any of the {len(long)} request(s) that carried "
                    f"the long prompt (betas: {sorted(long[-1][1].betas)})")
        return None

    @classmethod
    def refused_with_beta(cls, ctx: CheckContext) -> str | None:
        """The beta reached the upstream and the provider still refused the prompt as too long."""
        for capture, request in cls.long_calls(ctx):
            reason = str(capture.get("cause_reason") or capture.get("error") or "")
            if BETA in request.betas and capture.get("status") != 200 and "too long" in reason.lower():
                return (f"the {BETA} beta reached the upstream, which still refused the prompt as too long (a model "
                        "without a 1M window?)")
        return None

    def judge(self, ctx: CheckContext, run, word: str, mode: str = VIA_BETA) -> str | None:
        answer = (run.result.result or "").strip()
        if answer != word:
            return f"expected exactly {word!r}, the CLI printed {answer[:200]!r}"
        cli_total = input_total(run.result.usage or {})
        if cli_total <= WINDOW:
            return f"the CLI's usage reports {cli_total} input tokens, not more than {WINDOW}: the prompt was cut"
        ctx.asserted(ACCEPTED)
        supporting = ("the provider accepted the long prompt and counted more than 200k input tokens" if mode == NATIVE
                      else "the context-1m beta reached the provider with the long prompt, which counted more than "
                           "200k input tokens")
        if ctx.supporting(supporting):
            long = self.long_calls(ctx)
            accepted = [(c, r) for c, r in long if c.get("status") == 200]
            if not accepted:
                return (f"no upstream request that carried the long prompt was accepted "
                        f"({len(long)} carried it, {len(ctx.model_calls())} model call(s) in all)")
            if mode == VIA_BETA:
                missing = [r for _, r in accepted if BETA not in r.betas]
                if missing:
                    return (f"the {BETA} beta did not reach the upstream on the accepted request that carried the "
                            f"long prompt (betas: {sorted(missing[-1].betas)})")
            upstream = max(input_total(ctx.response_usage(c)) for c, _ in accepted)
            if upstream <= WINDOW:
                return f"the upstream counted {upstream} input tokens, not more than {WINDOW}"
        return None


CHECK = LongContext1m()
