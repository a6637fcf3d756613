"""Claude Code's billing-header system block and the prompt cache (issue 14, found with Claude Code 2.1.126).

The CLI's first system block is `x-anthropic-billing-header: cc_version=…; cc_entrypoint=…; cch=<per-request hash>;`.
Anthropic's own API consumes it (it never enters the cached prefix); a provider that treats it as prompt text loses
the cache every turn (anthropics/claude-code#68900). providers/*/profile.yaml `billing_header_consumed`.
"""
from __future__ import annotations

from conftest import aws_post

MODEL = "claude-sonnet-4-5-20250929"
MID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def _system(tag: str, cch: str) -> list[dict]:
    return [{"type": "text", "text": f"x-anthropic-billing-header: cc_version=2.1.126.abc; cc_entrypoint=sdk-cli; cch={cch};"},
            {"type": "text", "text": f"[{tag}] " + "You are a careful assistant. " * 800,
             "cache_control": {"type": "ephemeral"}}]


def _messages():
    return [{"role": "user", "content": "Reply with exactly the word: cached"}]


def test_anthropic_reads_the_cache_across_a_changing_billing_hash(emu, job):
    def post(cch):
        body = {"model": MODEL, "max_tokens": 32, "system": _system(f"{job}-1p", cch), "messages": _messages()}
        return emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=body).json()["usage"]

    first, second = post("1a2b3"), post("9f8e7")
    assert first["cache_creation_input_tokens"] > 0 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]


def test_bedrock_treats_the_billing_block_as_prompt_text(emu, job):
    def post(cch):
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 32, "system": _system(f"{job}-br", cch),
                "messages": _messages()}
        r = aws_post(emu, f"/model/{MID}/invoke", body)
        assert r.status_code == 200, r.text
        return r.json()["usage"]

    first, second = post("1a2b3"), post("9f8e7")
    assert first["cache_creation_input_tokens"] > 0
    assert second["cache_read_input_tokens"] == 0 and second["cache_creation_input_tokens"] > 0
    # the same hash twice still reads: only the changing block busts the prefix
    assert post("9f8e7")["cache_read_input_tokens"] == second["cache_creation_input_tokens"]
