"""Shared judgements for tool rounds: the tool ran, its result went back, the answer used it.

Which upstream call is which turn (locate_round): turn 1 is the call whose reply issued the tool call the CLI ran,
not simply the first call — the provider may refuse the CLI's first attempts and the CLI retry them (Claude Code
2.1.332 in its native Bedrock/Vertex mode sends betas the platform refuses, e.g. `thinking-token-count-2026-05-13`,
and on the 400 "invalid beta flag" / "Unexpected value(s) ... for the anthropic-beta header" retries turn 1 without
them: two or three calls before turn 1 is answered). Turn 2 is the first call after turn 1 that carries a
tool_result; when none does, the evidence names exactly what the calls after turn 1 carried.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from worker.check import CheckContext

TOOL_ROUND = "the tool ran, its result went back on turn 2 and the final answer used it"
BASH_PROMPT = ("Use the Bash tool to run the command `echo {word}` and then tell me exactly what it printed.")


@dataclass
class ToolRound:
    """The model calls of a tool round, as the provider received them (oldest first)."""

    calls: list[dict]  # the upstream captures of model calls
    requests: list = field(default_factory=list)  # the same calls decoded (universal requests)
    first: int | None = None  # index of turn 1: the call whose reply issued the tool call
    second: int | None = None  # index of turn 2: the first call after turn 1 that carries a tool_result

    def call_label(self, index: int) -> str:
        capture = self.calls[index]
        return f"model call {index + 1} of {len(self.calls)}, {capture.get('status')}"

    def summary(self) -> str:
        """Every model call, one word each: `400 refused, 200 ok (turn 1), 200 ok (turn 2)`."""
        words = []
        for i, capture in enumerate(self.calls):
            word = f"{capture.get('status')} {capture.get('cause') or ''}".strip()
            if i == self.first:
                word += " (turn 1)"
            elif i == self.second:
                word += " (turn 2)"
            words.append(word)
        return ", ".join(words) or "none"

    def missing_turn2(self) -> str:
        """What went wrong when no call after turn 1 carried a tool_result — named exactly."""
        if self.first is None:
            return (f"no upstream reply issued a tool call (model calls: {self.summary()}); the tool_result round "
                    "trip needs one")
        after = list(range(self.first + 1, len(self.calls)))
        if not after:
            return (f"the upstream saw no model call after turn 1 ({self.call_label(self.first)}): the tool_result "
                    f"never reached it (model calls: {self.summary()})")
        nxt = after[0]
        text = (f"turn 2 reached the upstream without the tool_result ({self.call_label(nxt)}): its messages were "
                f"{describe_messages(self.requests[nxt])}")
        if len(after) > 1:
            text += f"; none of the {len(after)} calls after turn 1 carried one (model calls: {self.summary()})"
        return text


def locate_round(ctx: CheckContext, tool_use_id: str | None = None) -> ToolRound:
    """Find turn 1 and turn 2 among the upstream's model calls.

    Turn 1: the accepted call (200) whose reply carried the tool_use `tool_use_id` (the one the CLI ran); failing
    that (a gateway that rewrites tool ids), the last accepted call with a tool_use reply before the first call that
    carries a tool_result, else the first accepted call with a tool_use reply. Refused attempts before it (the CLI
    retrying turn 1) are not turns. Turn 2: the first call after turn 1 whose request carries a tool_result."""
    calls = ctx.model_calls()
    requests = ctx.upstream_requests(calls) if calls else []
    carrying = [i for i, r in enumerate(requests) if tool_results(r)]
    issuing = [i for i, c in enumerate(calls) if c.get("status") == 200 and _reply_tool_ids(c)]
    first = None
    if tool_use_id:
        first = next((i for i in issuing if tool_use_id in _reply_tool_ids(calls[i])), None)
    if first is None and issuing:
        before = [i for i in issuing if not carrying or i < carrying[0]]
        first = before[-1] if before else issuing[0]
    start = 0 if first is None else first + 1
    second = next((i for i in carrying if i >= start), None)
    return ToolRound(calls=calls, requests=requests, first=first, second=second)


def tool_results(request) -> list:
    return [p for m in request.messages if m.role == "user" for p in m.parts if p.kind == "tool_result"]


def describe_messages(request) -> str:
    """A request's messages, role and part kinds each: `user[text×2] · system[text] · assistant[reasoning, tool_use]`."""
    out = []
    for m in request.messages:
        kinds: list[str] = []
        counts: dict[str, int] = {}
        for p in m.parts:
            if p.kind not in counts:
                kinds.append(p.kind)
            counts[p.kind] = counts.get(p.kind, 0) + 1
        inner = ", ".join(k + (f"×{counts[k]}" if counts[k] > 1 else "") for k in kinds)
        out.append(f"{m.role}[{inner}]")
    return " · ".join(out) or "(no messages)"


def _reply_tool_ids(capture: dict) -> list[str]:
    """The ids of the tool_use blocks the upstream answered with (the capture's universal reply summary)."""
    content = (capture.get("response") or {}).get("content") or []
    return [b.get("id") or "" for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]


def ran_tool_id(run, name: str = "Bash") -> str | None:
    """The id of the first `name` tool_use the CLI received."""
    uses = [b for b in run.transcript.assistant_blocks("tool_use") if b.get("name") == name]
    return uses[0].get("id") if uses else None


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
        rnd = locate_round(ctx, uses[0].get("id"))
        if rnd.second is None:
            return rnd.missing_turn2()
        second = rnd.requests[rnd.second]
        returned = tool_results(second)
        if not any(word in _text_of(p) for p in returned):
            return (f"turn 2 ({rnd.call_label(rnd.second)}) carried a tool_result without the tool's output "
                    f"{word!r}")
        replayed = [p for m in second.messages if m.role == "assistant" for p in m.parts if p.kind == "tool_use"]
        if not replayed or not any(p.id == returned[-1].id for p in replayed):
            return (f"turn 2 ({rnd.call_label(rnd.second)}) lost the assistant tool_use the tool_result answers: "
                    f"its messages were {describe_messages(second)}")
    return None


def _text_of(part) -> str:
    if part.text:
        return part.text
    return " ".join(_text_of(p) for p in part.content or [])
