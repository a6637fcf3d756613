"""Anthropic streaming events for a Reply (used by anthropic, azure, vertex SSE and bedrock invoke chunks)."""
from __future__ import annotations

import json
import re


def _split_text(text: str, buffer: bool) -> list[str]:
    if buffer or len(text) <= 1:
        return [text]
    parts = re.findall(r"\S+\s*|\s+", text)
    # at least two deltas for anything splittable
    if len(parts) == 1 and len(text) > 1:
        mid = len(text) // 2
        parts = [text[:mid], text[mid:]]
    return parts


def _split_json(s: str, buffer: bool) -> list[str]:
    if buffer or len(s) < 4:
        return [s]
    n = min(6, max(2, len(s) // 12))
    step = -(-len(s) // n)
    return [s[i:i + step] for i in range(0, len(s), step)]


def events(reply, *, buffer: bool = False) -> list[tuple[str, dict]]:
    """[(event_type, data)] in the order the Anthropic API streams them."""
    u = reply.usage
    start_usage = {k: v for k, v in u.items() if k != "output_tokens"}
    start_usage["output_tokens"] = 1
    out = [("message_start", {"type": "message_start", "message": {
        "id": reply.id, "type": "message", "role": "assistant", "model": reply.model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
    out.append(("ping", {"type": "ping"}))
    for i, block in enumerate(reply.content):
        t = block["type"]
        if t == "text":
            out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": {"type": "text", "text": ""}}))
            for piece in _split_text(block["text"], buffer):
                out.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                    "delta": {"type": "text_delta", "text": piece}}))
        elif t == "thinking":
            out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
            for piece in _split_text(block["thinking"], buffer):
                out.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                    "delta": {"type": "thinking_delta", "thinking": piece}}))
            out.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                "delta": {"type": "signature_delta", "signature": block["signature"]}}))
        elif t in ("tool_use", "server_tool_use"):
            start = dict(block, input={})
            out.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": start}))
            raw = json.dumps(block.get("input", {}), separators=(",", ":"))
            for piece in _split_json(raw, buffer):
                out.append(("content_block_delta", {"type": "content_block_delta", "index": i,
                                                    "delta": {"type": "input_json_delta", "partial_json": piece}}))
        else:  # result blocks arrive whole
            out.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": block}))
        out.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    delta_usage = {"output_tokens": u.get("output_tokens", 0)}
    for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        if k in u:
            delta_usage[k] = u[k]
    out.append(("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                                  "usage": delta_usage}))
    out.append(("message_stop", {"type": "message_stop"}))
    return out


def encode(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
