"""Anthropic dialect through the real anthropic SDK, plus refusals in Anthropic's error shape."""
from __future__ import annotations

import json

import anthropic
import pytest

from providers.anthropic.credentials import API_KEY as anthropic_key

MODEL = "claude-sonnet-4-5-20250929"


def client(emu, key=anthropic_key):
    return anthropic.Anthropic(base_url=emu.base, api_key=key, max_retries=0)


def test_head_and_get_root(emu):
    assert emu.http.head("/").status_code == 200
    assert emu.http.get("/").status_code == 200


def test_exact_word_non_streaming(emu, job):
    msg = client(emu).messages.create(model=MODEL, max_tokens=64, messages=[
        {"role": "user", "content": "Reply with exactly the word: zebra"}])
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "zebra"
    assert msg.stop_reason == "end_turn"
    caps = emu.captures(job)
    assert len(caps) == 1 and caps[0]["provider"] == "anthropic" and caps[0]["stream"] is False
    assert caps[0]["status"] == 200 and caps[0]["response"]["content"][0]["text"] == "zebra"


def test_last_text_block_of_first_user_message_is_the_prompt(emu, job):
    content = [
        {"type": "text", "text": "<system-reminder>Reply with exactly the word: wrong</system-reminder>"},
        {"type": "text", "text": "Answer with exactly one word: right", "cache_control": {"type": "ephemeral"}},
    ]
    msg = client(emu).messages.create(model=MODEL, max_tokens=64, system=[{"type": "text", "text": "Reply with exactly the word: sys"}],
                                      messages=[{"role": "user", "content": content}])
    assert msg.content[0].text == "right"


def test_streaming_count_several_deltas(emu, job):
    deltas, types = [], []
    with client(emu).messages.stream(model=MODEL, max_tokens=64, messages=[
            {"role": "user", "content": "Count from 1 to 7, separated by spaces."}]) as stream:
        for ev in stream:
            types.append(ev.type)
            if ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                deltas.append(ev.delta.text)
        final = stream.get_final_message()
    assert len(deltas) >= 2
    assert "".join(deltas).split() == [str(i) for i in range(1, 8)]
    assert types[0] == "message_start" and "message_stop" in types
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    caps = emu.captures(job)
    assert caps[-1]["stream"] is True and caps[-1]["status"] == 200


def test_sse_usage_frames(emu, job):
    body = {"model": MODEL, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Count from 1 to 3"}]}
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=body)
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    start = events[0]
    assert start["type"] == "message_start" and start["message"]["usage"]["input_tokens"] > 0
    delta = [e for e in events if e["type"] == "message_delta"][0]
    assert delta["usage"]["output_tokens"] > 0 and delta["delta"]["stop_reason"] == "end_turn"


def test_count_tokens_matches_usage(emu, job):
    c = client(emu)
    messages = [{"role": "user", "content": "Reply with exactly the word: alpha " + "filler " * 50}]
    system = "You are a test."
    counted = c.messages.count_tokens(model=MODEL, messages=messages, system=system)
    msg = c.messages.create(model=MODEL, max_tokens=64, messages=messages, system=system)
    total = msg.usage.input_tokens + (msg.usage.cache_read_input_tokens or 0) + (msg.usage.cache_creation_input_tokens or 0)
    assert counted.input_tokens == total > 0
    longer = c.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "x " * 400}])
    assert longer.input_tokens > counted.input_tokens


@pytest.mark.parametrize("key", ["wrong-key"])
def test_bad_api_key_401(emu, job, key):
    with pytest.raises(anthropic.AuthenticationError) as ei:
        client(emu, key).messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert ei.value.status_code == 401
    assert ei.value.body["type"] == "error" and ei.value.body["error"]["type"] == "authentication_error"
    assert emu.captures(job)[-1]["headers"]["authorization"] == "***"
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(**{"x-api-key": "nope"}), json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert emu.captures(job)[-1]["headers"]["x-api-key"] == "***"


def _err(r):
    body = r.json()
    assert body["type"] == "error" and set(body["error"]) == {"type", "message"}
    return body["error"]


@pytest.mark.parametrize("body,needle", [
    ({"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "foo": 1}, "foo: Extra inputs"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}, "max_tokens: Field required"),
    ({"model": MODEL, "max_tokens": 5, "messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
    ({"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text", "text": "a", "x": 1}]}]},
     "messages.0.content.0.x"),
    ({"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "AAAA"}}]}]}, "media_type"),
])
def test_invalid_bodies_400(emu, job, body, needle):
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=body)
    assert r.status_code == 400
    err = _err(r)
    assert err["type"] == "invalid_request_error" and needle in err["message"]
    assert emu.captures(job)[-1]["error"] == err["message"]


def test_unknown_beta_refused(emu, job):
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(**{"anthropic-beta": "claude-code-20250219,made-up-2099-01-01"}),
                      json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400 and "made-up-2099-01-01" in _err(r)["message"]


def test_unknown_model_404(emu, job):
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(),
                      json={"model": "gpt-4o", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 404 and _err(r)["type"] == "not_found_error"


def test_missing_version_header(emu, job):
    h = emu.anthropic_headers()
    del h["anthropic-version"]
    r = emu.http.post("/v1/messages", headers=h, json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 400 and "anthropic-version" in _err(r)["message"]


def test_bad_input_never_crashes(emu, job):
    h = emu.anthropic_headers()
    r = emu.http.post("/v1/messages", headers=h, content=b'{"model": "x", "max_tok')
    assert r.status_code == 400 and _err(r)["type"] == "invalid_request_error"
    r = emu.http.post("/v1/messages", headers=dict(h, **{"content-type": "text/plain"}), content=b"hello")
    assert r.status_code == 400 and _err(r)["type"] == "invalid_request_error"
    r = emu.http.post("/v1/messages", headers=h, content=b"[1,2]")
    assert r.status_code == 400
    r = emu.http.post("/v1/messages", headers=h, content=b"\xff\xfe\x00garbage")
    assert r.status_code == 400
    big = b'{"model":"' + b"a" * (50 * 1024 * 1024) + b'"}'
    r = emu.http.post("/v1/messages", headers=h, content=big)
    assert r.status_code == 413 and _err(r)["type"] == "request_too_large"
    assert emu.http.get("/_emulator/health").json()["ok"] is True


def test_tool_search_answers_like_the_api_with_a_reference_and_a_call(emu, job):
    """A tool_search_tool_regex tool and deferred tools: server_tool_use + tool_search_tool_result
    (tool_reference to the matching deferred tool) + tool_use of that tool, parsed by the SDK's beta types."""
    tools = [{"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"}] + [
        {"name": n, "description": f"{n.replace('_', ' ')} for the user.", "defer_loading": True,
         "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}
        for n in ("get_stock_price", "get_weather", "send_email")]
    msg = client(emu).beta.messages.create(model=MODEL, max_tokens=256, betas=["advanced-tool-use-2025-11-20"],
                                           tools=tools, messages=[{"role": "user", "content":
                                                                   "What is the weather in Lisbon? Find the right tool."}])
    assert [b.type for b in msg.content] == ["server_tool_use", "tool_search_tool_result", "tool_use"]
    assert msg.content[0].name == "tool_search_tool_regex"
    assert msg.content[1].tool_use_id == msg.content[0].id
    assert [r.tool_name for r in msg.content[1].content.tool_references] == ["get_weather"]
    assert msg.content[2].name == "get_weather" and msg.stop_reason == "tool_use"
    assert "server_tool_use" not in (emu.captures(job)[-1]["response"]["usage"] or {}), "no web search was billed"
