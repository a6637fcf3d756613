"""Extended thinking + tool use: turn 2 replays the turn-1 thinking block with the IDENTICAL signature, accepted."""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck
from worker.checks._tools import (BASH_PROMPT, TOOL_ROUND, describe_messages, judge_tool_round, locate_round,
                                  ran_tool_id)
from worker.checks.thinking import thinking_blocks, upstream_thinking_problem


REPLAYED = ("turn 2 replayed the turn-1 thinking block with its identical signature and the provider accepted it")


class ThinkingWithToolUse(CliCheck):
    decisive = (TOOL_ROUND, REPLAYED)
    def run(self, ctx: CheckContext) -> TierResult:
        word = "pong" + secrets.token_hex(3)
        run = ctx.run_cli(BASH_PROMPT.format(word=word), args=["--allowedTools", f"Bash(echo {word})"],
                          env={"MAX_THINKING_TOKENS": "8000"})
        early = ctx.classify(run)
        if early is not None:
            return early
        signed = [b for b in thinking_blocks(run) if b.get("signature")]
        if not signed:
            return ctx.failed(run, "no signed thinking block reached the CLI on turn 1")
        problem = judge_tool_round(ctx, run, word)
        if problem:
            return ctx.failed(run, problem)
        if ctx.sees_upstream:
            # Report the cause (the replay refused or altered) AND its symptom (thinking silently turned off
            # on a retry), not just whichever is checked first.
            problems = [p for p in (self._replay_problem(ctx, run), upstream_thinking_problem(ctx)) if p]
            if problems:
                return ctx.failed(run, "; ".join(problems))
            ctx.asserted(REPLAYED)
        elif len([m for m in run.transcript.assistant_messages_with("thinking")]) >= 2:
            # Against a real provider: turn 2 answered with thinking still on. The Messages API only accepts that
            # when the previous assistant turn (with its tool_use) starts with its thinking block, signature intact
            # ("When `thinking` is enabled, a final `assistant` message must start with a thinking block";
            # docs.anthropic.com, extended thinking → "Preserving thinking blocks").
            ctx.asserted(REPLAYED)
        return ctx.passed(run)

    @staticmethod
    def _replay_problem(ctx: CheckContext, run) -> str | None:
        # Turn 1 is the call whose reply issued the tool call the CLI ran, turn 2 the call that carried its result
        # back (worker/checks/_tools.py locate_round): refused attempts the CLI retried are neither.
        rnd = locate_round(ctx, ran_tool_id(run))
        if rnd.first is None or rnd.second is None:
            return rnd.missing_turn2() + "; the replay needs turn 2"
        first_reply = (rnd.calls[rnd.first].get("response") or {}).get("content") or []
        issued = [b.get("signature") for b in first_reply if b.get("type") == "thinking"]
        if not issued:
            return "the upstream's turn-1 reply had no thinking block (emulator scenario)"
        second = rnd.requests[rnd.second]
        replayed = [p.signature for m in second.messages if m.role == "assistant" for p in m.parts
                    if p.kind == "reasoning"]
        if not replayed:
            return (f"turn 2 ({rnd.call_label(rnd.second)}) reached the upstream without the turn-1 thinking block: "
                    f"its messages were {describe_messages(second)}")
        if replayed[0] != issued[0]:
            return (f"turn 2 replayed the thinking block with a different signature "
                    f"({(replayed[0] or '')[:16]}… instead of {issued[0][:16]}…)")
        refused = [c for c in rnd.calls[rnd.second:] if c.get("status") != 200]
        if refused:
            return f"the provider refused the replayed thinking block ({refused[0].get('status')}): {refused[0].get('error')}"
        return None


CHECK = ThinkingWithToolUse()
