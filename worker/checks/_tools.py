"""Shared judgements for tool rounds: the tool ran, its result went back, the answer used it."""
from __future__ import annotations

from worker.check import CheckContext

TOOL_ROUND = "the tool ran, its result went back on turn 2 and the final answer used it"
BASH_PROMPT = ("Use the Bash tool to run the command `echo {word}` and then tell me exactly what it printed.")


def judge_tool_round(ctx: CheckContext, run, word: str) -> str | None:
    uses = [b for b in run.transcript.assistant_blocks("tool_use") if b.get("name") == "Bash"]
    if not uses:
        return "no Bash tool_use reached the CLI"
    command = (uses[0].get("input") or {}).get("command", "")
    if word not in command:
        return f"the tool_use input lost its command: {uses[0].get('input')!r}"
    results = [b for b in run.transcript.user_blocks("tool_result") if b.get("tool_use_id") == uses[0].get("id")]
    if not results:
        return "the CLI did not run the tool (no tool_result for the tool_use id)"
    answer = run.result.result or ""
    if word not in answer:
        return f"the final answer does not use the tool output {word!r}: {answer[:200]!r}"
    if (run.result.num_turns or 0) < 2:
        return f"expected two turns, the CLI reports {run.result.num_turns}"
    ctx.asserted(TOOL_ROUND)
    if ctx.supporting("turn 2 carried the tool_result and the tool_use it answers to the provider"):
        requests = ctx.upstream_requests()
        if len(requests) < 2:
            return f"the upstream saw {len(requests)} model call(s); the tool_result round trip needs 2"
        second = requests[1]
        returned = [p for m in second.messages if m.role == "user" for p in m.parts
                    if p.kind == "tool_result"]
        if not returned:
            return "turn 2 reached the upstream without the tool_result"
        if not any(word in _text_of(p) for p in returned):
            return "turn 2 carried a tool_result without the tool's output"
        replayed = [p for m in second.messages if m.role == "assistant" for p in m.parts if p.kind == "tool_use"]
        if not replayed or not any(p.id == returned[-1].id for p in replayed):
            return "turn 2 lost the assistant tool_use the tool_result answers"
    return None


def _text_of(part) -> str:
    if part.text:
        return part.text
    return " ".join(_text_of(p) for p in part.content or [])
