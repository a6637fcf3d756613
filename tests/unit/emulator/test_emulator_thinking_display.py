"""Thinking display: `thinking.display: "omitted"` (what Claude Code 2.1.332 asks for in every headless session) gets
signature-only thinking blocks back, which replay with `thinking: ""`; models whose display defaults to omitted
(emulator/catalog.yaml signature_only_thinking) do so when the request does not say."""
from __future__ import annotations

import pytest

BASH = {"name": "Bash", "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}
PROMPT = "Use the Bash tool to run the command `echo hi` and then tell me exactly what it printed."


def ask(emu, model, thinking, messages=None):
    body = {"model": model, "max_tokens": 4096, "thinking": thinking, "tools": [BASH],
            "messages": messages or [{"role": "user", "content": PROMPT}]}
    return emu.http.post("/v1/messages", headers=emu.anthropic_headers(**{"anthropic-beta": "thinking-display-updates-2026-08-18"}), json=body)


def thinking_block(reply: dict) -> dict:
    return next(b for b in reply["content"] if b["type"] == "thinking")


@pytest.mark.parametrize("model,thinking,empty", [
    ("claude-sonnet-5-5", {"type": "adaptive", "display": "omitted"}, True),
    ("claude-sonnet-5-5", {"type": "adaptive", "display": "summarized"}, False),
    ("claude-sonnet-5-5", {"type": "adaptive"}, True),                     # the model's default: omitted
    ("claude-sonnet-5-5", {"type": "adaptive", "display": "updates"}, False),   # 2.1.332's connector-text mode
    ("claude-sonnet-4-5-20250929", {"type": "enabled", "budget_tokens": 2048}, False),
    ("claude-sonnet-4-5-20250929", {"type": "enabled", "budget_tokens": 2048, "display": "omitted"}, True),
])
def test_display_decides_whether_the_text_comes_back(emu, job, model, thinking, empty):
    r = ask(emu, model, thinking)
    assert r.status_code == 200, r.text
    block = thinking_block(r.json())
    assert block["signature"] and (block["thinking"] == "") is empty


def test_a_signature_only_block_replays_empty_and_refuses_filled_in_text(emu, job):
    thinking = {"type": "adaptive", "display": "omitted"}
    first = ask(emu, "claude-sonnet-5-5", thinking).json()
    call = next(b for b in first["content"] if b["type"] == "tool_use")
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "hi"}]}
    replay = [{"role": "user", "content": PROMPT}, {"role": "assistant", "content": first["content"]}, result]
    assert ask(emu, "claude-sonnet-5-5", thinking, replay).status_code == 200
    forged = [dict(b, thinking="I thought about it") if b["type"] == "thinking" else b for b in first["content"]]
    r = ask(emu, "claude-sonnet-5-5", thinking, [replay[0], {"role": "assistant", "content": forged}, result])
    assert r.status_code == 400 and "signature" in r.json()["error"]["message"]
