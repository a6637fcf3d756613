"""Azure AI Foundry (Anthropic surface) through the anthropic SDK with base_url=<emu>/anthropic."""
from __future__ import annotations

import anthropic
import pytest

from providers.anthropic.credentials import API_KEY as anthropic_key
from providers.azure.credentials import API_KEY as azure_key

MODEL = "claude-sonnet-4-5"
BODY = {"model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": "Reply with exactly the word: azure"}]}


def client(emu, key=azure_key):
    return anthropic.Anthropic(base_url=emu.base + "/anthropic", api_key=key, max_retries=0)


def test_sdk_messages_and_stream(emu, job):
    msg = client(emu).messages.create(**BODY)
    assert msg.content[0].text == "azure"
    with client(emu).messages.stream(model=MODEL, max_tokens=32, messages=[{"role": "user", "content": "Count from 1 to 4"}]) as s:
        deltas = [e.delta.text for e in s if e.type == "content_block_delta"]
    assert len(deltas) >= 2
    caps = emu.captures(job)
    assert {c["provider"] for c in caps} == {"azure"} and caps[0]["path"] == "/anthropic/v1/messages"


def test_api_key_header_variants(emu, job):
    for h in ({"api-key": azure_key}, {"x-api-key": azure_key}):
        r = emu.http.post("/anthropic/v1/messages", headers={**h, "anthropic-version": "2023-06-01"}, json=BODY)
        assert r.status_code == 200


def test_anthropic_key_is_not_an_azure_key(emu, job):
    with pytest.raises(anthropic.AuthenticationError) as ei:
        client(emu, anthropic_key).messages.create(**BODY)
    assert ei.value.body["error"]["type"] == "authentication_error"


@pytest.mark.parametrize("body,needle", [
    (dict(BODY, foo=1), "foo"),
    (dict(BODY, max_tokens=None), "max_tokens"),
    ({k: v for k, v in BODY.items() if k != "messages"}, "messages"),
    (dict(BODY, tools=[{"type": "tool_search_tool_regex_20251119", "name": "tool_search"}]), "tool_search"),
])
def test_invalid(emu, job, body, needle):
    r = emu.http.post("/anthropic/v1/messages", headers={"api-key": azure_key, "anthropic-version": "2023-06-01"}, json=body)
    assert r.status_code == 400
    err = r.json()
    assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error" and needle in err["error"]["message"]


def test_count_tokens(emu, job):
    n = client(emu).messages.count_tokens(model=MODEL, messages=BODY["messages"]).input_tokens
    assert n == client(emu).messages.create(**BODY).usage.input_tokens
