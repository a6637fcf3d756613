"""Tool use (streaming / fine-grained): the tool input arrives as input_json_delta events before its block ends."""
from __future__ import annotations

from worker.check import CheckContext
from worker.checks._streaming import deltas_before_stop
from worker.checks.tool_use import ToolUse


STREAMED = "the tool input reached the CLI as several input_json_delta events before its block ended"


class ToolUseStreaming(ToolUse):
    streaming = True
    decisive = (*ToolUse.decisive, STREAMED)

    def judge_stream(self, ctx: CheckContext, run) -> str | None:
        counts = deltas_before_stop(run, "input_json_delta")
        if not counts:
            return "no input_json_delta reached the CLI: the tool input was not streamed"
        if max(counts.values()) < 2:
            return (f"the tool input arrived in {max(counts.values())} input_json_delta before the block ended: "
                    "buffered, not streamed")
        ctx.asserted(STREAMED)
        return None


CHECK = ToolUseStreaming()
