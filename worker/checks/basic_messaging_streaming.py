"""Basic messaging (streaming): the answer arrives as several separate text deltas (a buffering gateway collapses them)."""
from __future__ import annotations

from worker.check import CheckContext, CliCheck
from worker.checks._streaming import deltas



STREAMED = "the exact answer arrived as several text deltas that add up to it"


class BasicMessagingStreaming(CliCheck):
    decisive = (STREAMED,)
    prompt = "Count from 1 to 12, separated by single spaces, and nothing else."
    args = ["--include-partial-messages"]

    def judge(self, ctx: CheckContext, run) -> str | None:
        expected = " ".join(str(i) for i in range(1, 13))
        answer = (run.result.result or "").strip()
        if answer != expected:
            return f"expected {expected!r}, the CLI printed {answer[:200]!r}"
        text_deltas = deltas(run, "text_delta")
        if len(text_deltas) < 2:
            return f"the text arrived in {len(text_deltas)} delta(s): the stream was buffered, not streamed"
        if "".join(d["delta"].get("text", "") for d in text_deltas).strip() != expected:
            return "the streamed deltas do not add up to the final text"
        ctx.asserted(STREAMED)
        if ctx.supporting("the provider was asked for a stream"):
            # The calls the provider answered: Claude Code 2.1.332 in native Bedrock/Vertex mode retries a request
            # the provider refused for a beta it does not take, and a refused call was never streamed.
            calls = [c for c in ctx.model_calls() if (c.get("status") or 0) < 400]
            if not calls or not all(c.get("stream") for c in calls):
                return f"the upstream was not asked for a stream: {[(c.get('path'), c.get('status')) for c in calls]}"
        return None


CHECK = BasicMessagingStreaming()
