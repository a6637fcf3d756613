"""Thinking: a signed thinking block reaches the CLI, and the upstream really had thinking enabled."""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck
from worker.checks._client import client_bodies


def thinking_blocks(run) -> list[dict]:
    return run.transcript.assistant_blocks("thinking")


def upstream_thinking_problem(ctx: CheckContext) -> str | None:
    """None when every model call the provider received asked for thinking (not silently stripped)."""
    requests = ctx.upstream_requests()
    if not requests:
        return "no model call reached the upstream"
    for index, request in enumerate(requests):
        mode = request.reasoning.mode if request.reasoning else None
        if mode not in ("enabled", "adaptive"):
            return f"upstream call {index + 1} had thinking {mode or 'off'}: the gateway stripped it"
    return None


SIGNED = "a signed thinking block (with its text unless the CLI asked for it omitted) reached the CLI, then the exact answer"


def display_asked(ctx: CheckContext) -> str | None:
    """The `thinking.display` the CLI asked the gateway for (from the recorder's capture of its requests): Claude Code
    2.1.332 asks for `omitted` in headless sessions, and then the API answers signature-only blocks
    (`"thinking": ""`). None when the CLI did not say, or nothing was recorded."""
    asked = set()
    for body in client_bodies(ctx):
        thinking = body.get("thinking")
        if isinstance(thinking, dict) and thinking.get("display"):
            asked.add(thinking["display"])
    return "omitted" if "omitted" in asked else (next(iter(asked)) if asked else None)


def model_default_display(ctx: CheckContext) -> str | None:
    """The display the API applies when the request names none: "omitted" for the models whose thinking comes back
    signature-only by default (emulator/catalog.yaml `signature_only_thinking`: Opus 4.7+, the 5.x generation —
    anthropics/claude-code#49268, #77460), else None. A CLI that does not ask (2.1.197) gets signature-only blocks
    from those models, and an empty block with its signature is then the complete answer, not a gateway fault."""
    from emulator import catalog

    feat = catalog.features(ctx.provider.route, ctx.api_model) or {}
    return "omitted" if feat.get("signature_only_thinking") else None


def efforts_asked(ctx: CheckContext) -> list[str | None]:
    """The `output_config.effort` of each model call the CLI sent the gateway (None: that call named none), from the
    recorder's capture of the CLI's requests."""
    asked = []
    for body in client_bodies(ctx, model_calls_only=True):
        config = body.get("output_config")
        asked.append(str(config["effort"]) if isinstance(config, dict) and config.get("effort") else None)
    return asked


EFFORT_KEPT = "the effort the CLI asked for reached the provider (where the model offers effort there)"


def upstream_effort_problem(ctx: CheckContext) -> str | None:
    """None unless the CLI asked for an effort the tier's model offers on this provider (emulator/catalog.yaml
    `effort`) and fewer model calls reached the provider with an effort than the CLI sent with one: a gateway that
    drops `output_config.effort` makes every effort level think alike (LiteLLM PR #27039's QA, PR #27040's customer
    report on every Bedrock route, litellm-docs#140 where LiteLLM's own matrix turned the Opus 4.7 thinking cell red
    for it on Vertex; corpus cases bedrock-effort-dropped, vertex-effort-stripped). Calls are counted, not paired: a
    call the CLI itself sent without an effort (a retry, a side request) is not the gateway's loss. An effort the model
    does not offer there is the gateway's to drop (the provider would refuse it)."""
    from emulator import catalog

    asked = efforts_asked(ctx)
    feat = catalog.features(ctx.provider.route, ctx.api_model) or {}
    offered = set(feat.get("efforts") or [])
    wanted = [e for e in asked if e in offered]
    if not wanted:
        return None
    kept = [r.reasoning.effort for r in ctx.upstream_requests() if r.reasoning and r.reasoning.effort]
    if len(kept) < len(wanted):
        return (f"the CLI asked for effort {'/'.join(sorted(set(wanted)))} on {len(wanted)} model call(s), "
                f"{len(kept)} reached the provider with output_config.effort: the gateway dropped it")
    return None


class Thinking(CliCheck):
    decisive = (SIGNED,)
    def run(self, ctx: CheckContext) -> TierResult:
        word = "THOUGHT" + secrets.token_hex(2).upper()
        run = ctx.run_cli(f"Think carefully about which word to give, then reply with exactly the word: {word}",
                          args=["--effort", "high"], env={"MAX_THINKING_TOKENS": "8000"})
        early = ctx.classify(run)
        if early is not None:
            return early
        blocks = thinking_blocks(run)
        display = display_asked(ctx) or model_default_display(ctx)
        seen = self._cli_problem(run, blocks, word, display)
        if seen is None:
            ctx.asserted(SIGNED)
        # What the provider received is judged whatever the CLI printed: a red tier names every reason the check can
        # establish (the CLI's symptom and the upstream's cause), not just whichever is checked first — a truncated
        # answer must not hide a dropped effort (corpus bedrock-converse-effort-dropped at 1.84.0).
        problems = [p for p in (seen, *self._upstream_problems(ctx)) if p]
        if problems:
            return ctx.failed(run, "; ".join(problems))
        return ctx.passed(run, thinking_blocks=len(blocks), thinking_display=display)

    @staticmethod
    def _cli_problem(run, blocks: list[dict], word: str, display: str | None) -> str | None:
        if not blocks:
            return "no thinking block reached the CLI"
        if not all(b.get("signature") for b in blocks):
            return "a thinking block reached the CLI without its signature"
        if display != "omitted" and not any((b.get("thinking") or "").strip() for b in blocks):
            return "the thinking blocks reached the CLI empty" + (
                f" although the CLI asked for display {display!r}" if display else "")
        if (run.result.result or "").strip() != word:
            return f"expected {word!r}, the CLI printed {(run.result.result or '')[:200]!r}"
        return None

    @staticmethod
    def _upstream_problems(ctx: CheckContext) -> list[str]:
        problems = []
        if ctx.supporting("every model call the provider received asked for thinking"):
            problems.append(upstream_thinking_problem(ctx))
        if ctx.supporting(EFFORT_KEPT):
            problems.append(upstream_effort_problem(ctx))
        return [p for p in problems if p]


CHECK = Thinking()
