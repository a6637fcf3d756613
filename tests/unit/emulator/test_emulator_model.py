"""Scripted-model behaviours over the wire: tools, thinking signatures, caching, media, structured output, web search."""
from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib

import boto3
import jsonschema
import pytest
from conftest import aws_post

from providers import _aws as aws

MODEL = "claude-sonnet-4-5-20250929"
MID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
BASH = {"name": "Bash", "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
                         "required": ["command"]}}
THINK = {"type": "enabled", "budget_tokens": 2048}


def post(emu, body, **headers):
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(**headers), json=body)
    return r


def sse_events(text):
    return [json.loads(l[6:]) for l in text.splitlines() if l.startswith("data: ")]


def png(rgb, w=4, h=3) -> bytes:
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))
    def chunk(t, d):
        return struct.pack("!I", len(d)) + t + d + struct.pack("!I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf(word: str) -> bytes:
    stream = zlib.compress(f"BT /F1 12 Tf 72 712 Td ({word}) Tj ET".encode())
    return (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
            b"3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n"
            b"4 0 obj << /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n" + stream
            + b"\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


# ---------------------------------------------------------------- tools
def test_bash_tool_round_trip_streaming(emu, job):
    prompt = "Use the Bash tool to run the command `echo pong` and tell me what it printed."
    body = {"model": MODEL, "max_tokens": 1024, "stream": True, "tools": [BASH], "messages": [{"role": "user", "content": prompt}]}
    ev = sse_events(post(emu, body).text)
    start = [e for e in ev if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use"][0]
    chunks = [e["delta"]["partial_json"] for e in ev if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"]
    assert len(chunks) >= 2
    tool_input = json.loads("".join(chunks))
    assert tool_input["command"] == "echo pong" and tool_input["description"]
    assert [e for e in ev if e["type"] == "message_delta"][0]["delta"]["stop_reason"] == "tool_use"
    tu = dict(start["content_block"], input=tool_input)
    body2 = dict(body, stream=False, messages=body["messages"] + [
        {"role": "assistant", "content": [tu]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu["id"], "content": "pong\n"}]}])
    r = post(emu, body2).json()
    assert r["stop_reason"] == "end_turn" and "pong" in r["content"][0]["text"]
    # a tool_result for an unknown id is refused like the real API
    bad = json.loads(json.dumps(body2))
    bad["messages"][2]["content"][0]["tool_use_id"] = "toolu_other"
    assert post(emu, bad).status_code == 400


def test_no_tool_use_fault(emu):
    emu.job(faults=[{"mode": "no_tool_use"}])
    body = {"model": MODEL, "max_tokens": 1024, "tools": [BASH],
            "messages": [{"role": "user", "content": "Use the Bash tool to run the command `echo pong`."}]}
    assert all(b["type"] != "tool_use" for b in post(emu, body).json()["content"])


def test_converse_tool_round_trip(emu, job):
    c = boto3.client("bedrock-runtime", endpoint_url=emu.base, region_name="us-east-1",
                     aws_access_key_id=aws.AWS_ACCESS_KEY_ID, aws_secret_access_key=aws.AWS_SECRET_ACCESS_KEY)
    tc = {"tools": [{"toolSpec": {"name": "Bash", "description": "run", "inputSchema": {"json": BASH["input_schema"]}}}]}
    msgs = [{"role": "user", "content": [{"text": "Use the Bash tool to run the command `echo pong`."}]}]
    r = c.converse_stream(modelId=MID, messages=msgs, toolConfig=tc)
    events = list(r["stream"])
    start = [e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e][0]
    parts = [e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events
             if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"]]
    assert len(parts) >= 2 and json.loads("".join(parts))["command"] == "echo pong"
    msgs += [{"role": "assistant", "content": [{"toolUse": {"toolUseId": start["toolUseId"], "name": "Bash", "input": json.loads("".join(parts))}}]},
             {"role": "user", "content": [{"toolResult": {"toolUseId": start["toolUseId"], "content": [{"text": "pong"}]}}]}]
    r = c.converse(modelId=MID, messages=msgs, toolConfig=tc)
    assert "pong" in r["output"]["message"]["content"][0]["text"]


# ---------------------------------------------------------------- thinking
def _thinking_turns(emu, **fault):
    prompt = "Use the Bash tool to run the command `echo pong`."
    body = {"model": MODEL, "max_tokens": 4096, "thinking": THINK, "tools": [BASH], "messages": [{"role": "user", "content": prompt}]}
    ev = sse_events(post(emu, dict(body, stream=True)).text)
    kinds = [e["delta"]["type"] for e in ev if e["type"] == "content_block_delta"]
    assert kinds.index("thinking_delta") < kinds.index("signature_delta") < kinds.index("input_json_delta")
    thinking = "".join(e["delta"]["thinking"] for e in ev if e["type"] == "content_block_delta" and e["delta"]["type"] == "thinking_delta")
    sig = [e["delta"]["signature"] for e in ev if e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta"][0]
    tu = [e["content_block"] for e in ev if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use"][0]
    tu = dict(tu, input=json.loads("".join(e["delta"]["partial_json"] for e in ev if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta")))
    turn2 = lambda blocks: dict(body, messages=body["messages"] + [
        {"role": "assistant", "content": blocks},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu["id"], "content": "pong"}]}])
    return thinking, sig, tu, turn2


def test_thinking_signature_replay_verified(emu, job):
    thinking, sig, tu, turn2 = _thinking_turns(emu)
    ok = post(emu, turn2([{"type": "thinking", "thinking": thinking, "signature": sig}, tu]))
    assert ok.status_code == 200 and ok.json()["content"][0]["type"] == "thinking"
    tampered = sig[:-8] + ("A" * 7 + "=" if not sig.endswith("A" * 7 + "=") else "B" * 7 + "=")
    r = post(emu, turn2([{"type": "thinking", "thinking": thinking, "signature": tampered}, tu]))
    assert r.status_code == 400 and "Invalid `signature` in `thinking` block" in r.json()["error"]["message"]
    r = post(emu, turn2([{"type": "thinking", "thinking": thinking + " edited", "signature": sig}, tu]))
    assert r.status_code == 400
    r = post(emu, turn2([tu]))
    assert r.status_code == 400 and "Expected `thinking` or `redacted_thinking`" in r.json()["error"]["message"]


def test_tamper_signature_mode_breaks_replay(emu):
    emu.job(faults=[{"mode": "tamper_signature", "times": 1}])
    thinking, sig, tu, turn2 = _thinking_turns(emu)
    r = post(emu, turn2([{"type": "thinking", "thinking": thinking, "signature": sig}, tu]))
    assert r.status_code == 400


def test_strip_thinking_mode(emu):
    emu.job(faults=[{"mode": "strip_thinking"}])
    body = {"model": MODEL, "max_tokens": 4096, "thinking": THINK, "messages": [{"role": "user", "content": "Reply with exactly the word: x"}]}
    assert [b["type"] for b in post(emu, body).json()["content"]] == ["text"]


def test_converse_thinking_signature_round_trip(emu, job):
    body = {"messages": [{"role": "user", "content": [{"text": "Use the Bash tool to run the command `echo pong`."}]}],
            "toolConfig": {"tools": [{"toolSpec": {"name": "Bash", "inputSchema": {"json": BASH["input_schema"]}}}]},
            "inferenceConfig": {"maxTokens": 4096}, "additionalModelRequestFields": {"thinking": THINK}}
    r = aws_post(emu, f"/model/{MID}/converse", body).json()
    content = r["output"]["message"]["content"]
    rt = content[0]["reasoningContent"]["reasoningText"]
    tu = content[1]["toolUse"]
    body["messages"] += [{"role": "assistant", "content": content},
                         {"role": "user", "content": [{"toolResult": {"toolUseId": tu["toolUseId"], "content": [{"text": "pong"}]}}]}]
    assert aws_post(emu, f"/model/{MID}/converse", body).status_code == 200
    content[0]["reasoningContent"]["reasoningText"]["signature"] = "Zm9v" + rt["signature"][4:]
    r = aws_post(emu, f"/model/{MID}/converse", body)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "ValidationException"


# ---------------------------------------------------------------- caching
def _cached_body(ttl=None, tag="a"):
    cc = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    system = [{"type": "text", "text": f"[{tag}] " + "You are a careful assistant. " * 800, "cache_control": cc}]
    return {"model": MODEL, "max_tokens": 64, "system": system,
            "messages": [{"role": "user", "content": "Reply with exactly the word: cached"}]}


@pytest.mark.parametrize("ttl,key", [(None, "ephemeral_5m_input_tokens"), ("1h", "ephemeral_1h_input_tokens")])
def test_cache_created_then_read(emu, job, ttl, key):
    body = _cached_body(ttl, tag=f"{job}-{ttl}")
    u1 = post(emu, body).json()["usage"]
    assert u1["cache_creation_input_tokens"] > 0 and u1["cache_read_input_tokens"] == 0
    assert u1["cache_creation"][key] == u1["cache_creation_input_tokens"]
    u2 = post(emu, body).json()["usage"]
    assert u2["cache_read_input_tokens"] == u1["cache_creation_input_tokens"] and u2["cache_creation_input_tokens"] == 0
    count = emu.http.post("/v1/messages/count_tokens", headers=emu.anthropic_headers(),
                          json={k: v for k, v in body.items() if k != "max_tokens"}).json()["input_tokens"]
    assert u2["input_tokens"] + u2["cache_read_input_tokens"] == count


def test_cache_below_minimum_not_cached(emu, job):
    body = {"model": MODEL, "max_tokens": 16, "system": [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "hi"}]}
    u = post(emu, body).json()["usage"]
    assert u["cache_creation_input_tokens"] == 0 and u["cache_read_input_tokens"] == 0


def test_cache_faults(emu):
    emu.job(faults=[{"mode": "downgrade_ttl_1h"}])
    u = post(emu, _cached_body("1h", tag="downgrade")).json()["usage"]
    assert u["cache_creation"]["ephemeral_1h_input_tokens"] == 0 and u["cache_creation"]["ephemeral_5m_input_tokens"] > 0
    emu.job(faults=[{"mode": "drop_cache_usage"}])
    u = post(emu, _cached_body(tag="drop")).json()["usage"]
    assert u["cache_creation_input_tokens"] == 0 and u["cache_read_input_tokens"] == 0


def test_converse_cache_point(emu, job):
    body = {"system": [{"text": f"[{job}] " + "Long system prompt. " * 1000}, {"cachePoint": {"type": "default"}}],
            "messages": [{"role": "user", "content": [{"text": "Reply with exactly the word: c"}]}]}
    u1 = aws_post(emu, f"/model/{MID}/converse", body).json()["usage"]
    u2 = aws_post(emu, f"/model/{MID}/converse", body).json()["usage"]
    assert u1["cacheWriteInputTokens"] > 0 and u2["cacheReadInputTokens"] == u1["cacheWriteInputTokens"]


def test_too_many_breakpoints(emu, job):
    cc = {"type": "ephemeral"}
    body = {"model": MODEL, "max_tokens": 16, "system": [{"type": "text", "text": f"s{i}", "cache_control": cc} for i in range(5)],
            "messages": [{"role": "user", "content": "hi"}]}
    r = post(emu, body)
    assert r.status_code == 400 and "maximum of 4" in r.json()["error"]["message"]


# ---------------------------------------------------------------- media
@pytest.mark.parametrize("rgb,name", [((255, 0, 0), "red"), ((0, 0, 255), "blue"), ((250, 250, 250), "white")])
def test_vision_reads_png(emu, job, rgb, name):
    data = png(rgb, 5, 2)
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(data).decode()}}
    text = post(emu, {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": [block, {"type": "text", "text": "What colour is this?"}]}]}).json()["content"][0]["text"]
    assert f"solid {name}" in text and "5x2" in text and hashlib.sha256(data).hexdigest()[:12] in text


def test_corrupt_image_mode(emu):
    emu.job(faults=[{"mode": "corrupt_image"}])
    data = png((255, 0, 0))
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(data).decode()}}
    text = post(emu, {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": [block]}]}).json()["content"][0]["text"]
    assert "solid red" not in text


@pytest.mark.parametrize("data,media,needle", [
    ("not base64!!", "image/png", "base64"),
    (base64.b64encode(png((0, 0, 0))).decode(), "image/jpeg", "appears to be a image/png"),
    (base64.b64encode(b"hello").decode(), "image/png", "Could not process image"),
])
def test_bad_images_refused(emu, job, data, media, needle):
    block = {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    r = post(emu, {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": [block]}]})
    assert r.status_code == 400 and needle in r.json()["error"]["message"]


def test_pdf_text_read_anthropic_and_converse(emu, job):
    data = pdf("Kumquat")
    block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(data).decode()}}
    text = post(emu, {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": [block, {"type": "text", "text": "Summarise"}]}]}).json()["content"][0]["text"]
    assert "Kumquat" in text and "1 page" in text
    body = {"messages": [{"role": "user", "content": [{"document": {"format": "pdf", "name": "doc", "source": {"bytes": base64.b64encode(data).decode()}}},
                                                      {"text": "Summarise"}]}]}
    r = aws_post(emu, f"/model/{MID}/converse", body).json()
    assert "Kumquat" in r["output"]["message"]["content"][0]["text"]


def test_converse_markdown_document_is_read_as_text(emu, job):
    body = {"messages": [{"role": "user", "content": [
        {"document": {"format": "md", "name": "notes", "source": {"bytes": base64.b64encode(b"# The code word is kiwi").decode()}}},
        {"text": "What does the document say?"}]}]}
    r = aws_post(emu, f"/model/{MID}/converse", body)
    assert r.status_code == 200, r.text
    assert "The document says: # The code word is kiwi" in r.json()["output"]["message"]["content"][0]["text"]


def test_image_inside_tool_result(emu, job):
    read = {"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}
    body = {"model": MODEL, "max_tokens": 64, "tools": [read], "messages": [{"role": "user", "content": "Read /tmp/x.png and tell me its colour"}]}
    r = post(emu, body).json()
    tu = r["content"][0]
    assert tu["type"] == "tool_use" and tu["input"]["file_path"] == "/tmp/x.png"
    img = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(png((0, 128, 0))).decode()}}
    body["messages"] += [{"role": "assistant", "content": [tu]},
                         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu["id"], "content": [img]}]}]
    assert "solid green" in post(emu, body).json()["content"][0]["text"]


# ---------------------------------------------------------------- structured output, web search
SCHEMA = {"type": "object", "properties": {"name": {"type": "string", "minLength": 2}, "age": {"type": "integer", "minimum": 3},
                                           "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                                           "kind": {"enum": ["cat", "dog"]}},
          "required": ["name", "age", "tags", "kind"], "additionalProperties": False}


def test_structured_output_format(emu, job):
    body = {"model": MODEL, "max_tokens": 256, "output_config": {"format": {"type": "json_schema", "schema": SCHEMA}},
            "messages": [{"role": "user", "content": "Describe a pet"}]}
    r = post(emu, body)
    assert r.status_code == 200, r.text
    jsonschema.validate(json.loads(r.json()["content"][0]["text"]), SCHEMA)


def test_structured_output_tool(emu, job):
    tool = {"name": "StructuredOutput", "description": "Return the final answer", "input_schema": SCHEMA}
    r = post(emu, {"model": MODEL, "max_tokens": 256, "tools": [tool], "messages": [{"role": "user", "content": "Describe a pet"}]}).json()
    assert r["content"][0]["name"] == "StructuredOutput"
    jsonschema.validate(r["content"][0]["input"], SCHEMA)


def test_web_search_server_tool(emu, job):
    body = {"model": MODEL, "max_tokens": 256, "tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}],
            "messages": [{"role": "user", "content": "Perform a web search for the query: emulator facts"}]}
    r = post(emu, body).json()
    types = [b["type"] for b in r["content"]]
    assert types[:2] == ["server_tool_use", "web_search_tool_result"]
    assert r["content"][0]["input"]["query"] == "emulator facts"
    assert r["usage"]["server_tool_use"]["web_search_requests"] == 1
    body_stream = dict(body, stream=True)
    ev = sse_events(post(emu, body_stream).text)
    assert any(e["type"] == "content_block_start" and e["content_block"]["type"] == "web_search_tool_result" for e in ev)


def test_web_search_refused_on_bedrock(emu, job):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
            "tools": [{"type": "web_search_20250305", "name": "web_search"}], "messages": [{"role": "user", "content": "search"}]}
    r = aws_post(emu, f"/model/{MID}/invoke", body)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "ValidationException"


def test_buffer_stream_mode(emu):
    emu.job(faults=[{"mode": "buffer_stream"}])
    body = {"model": MODEL, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Count from 1 to 9"}]}
    ev = sse_events(post(emu, body).text)
    assert len([e for e in ev if e["type"] == "content_block_delta"]) == 1


def test_long_context_needs_1m_beta(emu, job):
    big = "word " * 300_000
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": big}]}
    r = post(emu, body)
    assert r.status_code == 400 and "prompt is too long" in r.json()["error"]["message"]
    r = post(emu, body, **{"anthropic-beta": "context-1m-2025-08-07"})
    assert r.status_code == 200
    r = post(emu, dict(body, model="claude-haiku-4-5-20251001"), **{"anthropic-beta": "context-1m-2025-08-07"})
    assert r.status_code == 400


def test_converse_cache_point_1h_details(emu, job):
    body = {"system": [{"text": f"[{job}-1h] " + "Long system prompt. " * 1000}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
            "messages": [{"role": "user", "content": [{"text": "Reply with exactly the word: c"}]}]}
    u = aws_post(emu, f"/model/{MID}/converse", body).json()["usage"]
    assert u["cacheDetails"] == [{"ttl": "1h", "inputTokens": u["cacheWriteInputTokens"]}] and u["cacheWriteInputTokens"] > 0


def test_converse_cache_details_list_1h_before_5m():
    # botocore TokenUsage.cacheDetails: "Sorted by TTL duration (1h before 5m)."
    from providers._wire.converse import usage

    u = usage({"input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 30,
               "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}})
    assert [d["ttl"] for d in u["cacheDetails"]] == ["1h", "5m"]
