"""Tool use: the tool runs, its tool_result goes back on turn 2, and the final answer uses its output."""
from __future__ import annotations

import secrets

from ccmatrix.outcomes import TierResult
from worker.check import CheckContext, CliCheck
from worker.checks._tools import BASH_PROMPT, TOOL_ROUND, judge_tool_round


class ToolUse(CliCheck):
    streaming = False
    decisive = (TOOL_ROUND,)

    def run(self, ctx: CheckContext) -> TierResult:
        word = "pong" + secrets.token_hex(3)
        args = ["--allowedTools", f"Bash(echo {word})"]
        if self.streaming:
            args.append("--include-partial-messages")
        run = ctx.run_cli(BASH_PROMPT.format(word=word), args=args)
        early = ctx.classify(run)
        if early is not None:
            return early
        problem = judge_tool_round(ctx, run, word) or self.judge_stream(ctx, run)
        return ctx.failed(run, problem) if problem else ctx.passed(run)

    def judge_stream(self, ctx: CheckContext, run) -> str | None:
        return None


CHECK = ToolUse()
