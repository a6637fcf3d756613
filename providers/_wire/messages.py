"""Anthropic Messages, the one codec: a body → the universal request; a Reply → JSON or SSE events.

Spoken by the client (the CLI), by anthropic and azure as is, and inside the envelopes of bedrock_invoke (model in
the URL, ``anthropic_version`` and ``anthropic_beta`` in the body) and vertex_ai (model in the URL,
``anthropic_version`` in the body). The envelope is the provider package's business (providers/<id>/wire.py);
this module decodes the body and knows the plain envelope (model and stream in the body, the version and betas in
headers). Lenient: whatever it does not understand lands in ``unmapped``, never silently lost; the emulator
validates strictly before decoding (emulator/anthropic_schema.py).
"""
from __future__ import annotations

import json
from typing import Any

from .capture import header, json_object, split_betas, split_path
from .framing import split_json, split_text
from .universal import Cache, Envelope, Message, Metadata, OutputFormat, Part, Reasoning, Reply, Sampling, Tool
from .universal import ToolChoice, UniversalRequest, b64_bytes, b64_or_text, canonical_json, is_empty, prune
from .universal import sha256_b64, sha256_text

TOP = {
    "model", "messages", "system", "tools", "tool_choice", "max_tokens", "temperature", "top_p", "top_k",
    "stop_sequences", "thinking", "output_config", "output_format", "metadata", "context_management", "stream",
    "anthropic_version", "anthropic_beta",
}


# ------------------------------------------------------------------------------------------------- parts

def cache(cc: Any) -> Cache | None:
    """A `cache_control` marker in the universal form."""
    if not isinstance(cc, dict):
        return None
    return Cache(ttl=cc.get("ttl") or "5m", scope=cc.get("scope") or None)


def unknown(block: Any, marker: Cache | None = None) -> Part:
    """A block no decoder models: kept whole (canonical JSON, minus the cache marker)."""
    if isinstance(block, dict):
        raw = {k: v for k, v in block.items() if k != "cache_control"}
        return Part(kind="unknown", type=str(block.get("type") or next(iter(block), "")), raw=canonical_json(raw),
                    cache=marker)
    return Part(kind="unknown", raw=canonical_json(block))


def _source(part: dict[str, Any], src: Any) -> None:
    """Fill media_type / sha256 / data / source / ref of an image or document part from a Messages source."""
    if not isinstance(src, dict):
        return
    st = src.get("type")
    if st == "base64":
        part["media_type"] = src.get("media_type")
        part["sha256"] = sha256_b64(src.get("data") or "")
        part["data"] = b64_bytes(src.get("data") or "")
    elif st == "text":
        part["media_type"] = src.get("media_type") or "text/plain"
        part["sha256"] = sha256_text(src.get("data") or "")
        part["data"] = (src.get("data") or "").encode("utf-8")
    elif st == "url":
        part["source"], part["ref"] = "url", src.get("url")
    elif st == "file":
        part["source"], part["ref"] = "file", src.get("file_id")
    elif st == "content":
        part["source"] = "content"
        part["content"] = [p for p in (block(b) for b in (src.get("content") or [])) if p]
    else:
        part["source"], part["ref"] = str(st), canonical_json(src)


def block(b: Any) -> Part:
    """One Messages content block (or a plain string) → a part."""
    if isinstance(b, str):
        return Part(kind="text", text=b)
    if not isinstance(b, dict):
        return unknown(b)
    t = b.get("type")
    marker = cache(b.get("cache_control"))
    known = {"type", "cache_control"}
    p: dict[str, Any] = {}
    if t == "text":
        p = {"kind": "text", "text": b.get("text")}
        known |= {"text", "citations"}
        if b.get("citations"):
            p["raw"] = canonical_json({"citations": b["citations"]})
    elif t == "image":
        p = {"kind": "image"}
        _source(p, b.get("source"))
        known |= {"source"}
    elif t == "document":
        p = {"kind": "document", "title": b.get("title"), "context": b.get("context")}
        cit = b.get("citations")
        if isinstance(cit, dict):
            p["citations"] = bool(cit.get("enabled")) or None
        _source(p, b.get("source"))
        known |= {"source", "title", "context", "citations"}
    elif t == "tool_use":
        p = {"kind": "tool_use", "id": b.get("id"), "name": b.get("name"), "input": b.get("input") or None}
        known |= {"id", "name", "input"}
    elif t == "tool_result":
        content = b.get("content")
        if isinstance(content, str):
            content = [content] if content else []
        p = {
            "kind": "tool_result",
            "id": b.get("tool_use_id"),
            "is_error": True if b.get("is_error") else None,
            "content": [block(x) for x in (content or [])],
        }
        known |= {"tool_use_id", "is_error", "content"}
    elif t == "thinking":
        p = {"kind": "reasoning", "text": b.get("thinking"), "signature": b.get("signature")}
        known |= {"thinking", "signature"}
    elif t == "redacted_thinking":
        p = {"kind": "reasoning", "redacted": True, "sha256": sha256_b64(b.get("data") or ""),
             "data": b64_or_text(b.get("data") or "")}
        known |= {"data"}
    else:
        return unknown(b, marker)
    extra = {k: v for k, v in b.items() if k not in known and not is_empty(v)}
    if extra:
        # a known block with fields we do not model: keep them visible rather than drop them
        p["raw"] = canonical_json({**json.loads(p.get("raw") or "{}"), **extra})
    return Part(**{k: v for k, v in p.items() if v is not None}, cache=marker)


def content(c: Any) -> list[Part]:
    if c is None:
        return []
    if isinstance(c, str):
        return [Part(kind="text", text=c)] if c else []
    if isinstance(c, list):
        return [block(b) for b in c]
    return [unknown(c)]


# ------------------------------------------------------------------------------------------------- request fields

def tool(t: Any) -> Tool:
    if not isinstance(t, dict):
        return Tool(name="?", kind="unknown", extra={"raw": canonical_json(t)})
    ttype = t.get("type")
    kind = "custom" if ttype in (None, "custom") else str(ttype)
    known = {"name", "type", "description", "input_schema", "cache_control", "strict"}
    extra = {k: v for k, v in t.items() if k not in known and not is_empty(v)}
    return Tool(
        name=str(t.get("name") or "?"),
        kind=kind,
        description=t.get("description") or None,
        input_schema=t.get("input_schema") if isinstance(t.get("input_schema"), dict) else None,
        strict=t.get("strict"),
        extra={k: canonical_json(v) if isinstance(v, (dict, list)) else v for k, v in extra.items()} or None,
        cache=cache(t.get("cache_control")),
    )


def tool_choice(tc: Any) -> ToolChoice | None:
    if not isinstance(tc, dict) or not tc.get("type"):
        return None
    mode = tc["type"]
    if mode not in ("auto", "any", "tool", "none"):
        return None
    return ToolChoice(mode=mode, name=tc.get("name"), parallel=False if tc.get("disable_parallel_tool_use") else None)


def thinking(th: Any, into: dict[str, Any]) -> None:
    """A `thinking` object into the universal reasoning fields."""
    if not isinstance(th, dict):
        return
    into["mode"] = th.get("type")
    into["budget_tokens"] = th.get("budget_tokens")
    into["display"] = th.get("display")
    extra = {k: v for k, v in th.items() if k not in ("type", "budget_tokens", "display") and not is_empty(v)}
    if extra:
        into["extra"] = extra


def output_format(fmt: Any) -> dict[str, Any]:
    if not isinstance(fmt, dict):
        return {}
    return {"type": fmt.get("type"), "schema": fmt.get("schema"), "name": fmt.get("name")}


def output_config(oc: Any, reasoning: dict[str, Any], out: dict[str, Any], unmapped: dict[str, Any], where: str) -> None:
    """An `output_config` object: effort into reasoning, format into the output format, the rest unmapped."""
    if not isinstance(oc, dict):
        return
    if oc.get("effort"):
        reasoning["effort"] = oc["effort"]
    fmt = oc.get("format")
    if isinstance(fmt, dict):
        out.update(output_format(fmt))
    for k, v in oc.items():
        if k not in ("effort", "format") and not is_empty(v):
            unmapped[f"{where}.{k}"] = v


def decode_body(body: dict[str, Any], envelope: Envelope, extra_betas: list[str]) -> UniversalRequest:
    """A Messages body (the envelope already read by the caller) → the normalised universal request."""
    unmapped: dict[str, Any] = {}
    reasoning: dict[str, Any] = {}
    out_fmt: dict[str, Any] = {}
    thinking(body.get("thinking"), reasoning)
    if body.get("output_format") is not None:
        out_fmt.update(output_format(body.get("output_format")))
    output_config(body.get("output_config"), reasoning, out_fmt, unmapped, "output_config")
    md = body.get("metadata")
    metadata = None
    if isinstance(md, dict):
        metadata = Metadata(user_id=md.get("user_id"))
        for k, v in md.items():
            if k != "user_id" and not is_empty(v):
                unmapped[f"metadata.{k}"] = v
    messages = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            unmapped.setdefault("messages.invalid", []).append(m)
            continue
        messages.append(Message(role=str(m.get("role")), parts=content(m.get("content"))))
    for k, v in body.items():
        if k not in TOP and not is_empty(v):
            unmapped[k] = v
    cm = body.get("context_management")
    u = UniversalRequest(
        envelope=envelope,
        system=content(body.get("system")),
        messages=messages,
        tools=[tool(t) for t in body.get("tools") or []],
        tool_choice=tool_choice(body.get("tool_choice")),
        sampling=Sampling(
            max_tokens=body.get("max_tokens"),
            temperature=body.get("temperature"),
            top_p=body.get("top_p"),
            top_k=body.get("top_k"),
            stop_sequences=body.get("stop_sequences") or None,
        ),
        reasoning=Reasoning(**reasoning) if reasoning else None,
        output_format=OutputFormat(**out_fmt) if out_fmt else None,
        metadata=metadata,
        betas=[*extra_betas, *split_betas(body.get("anthropic_beta"))],
        context_management=prune(cm) if isinstance(cm, dict) else None,
        unmapped=unmapped,
    )
    return u.normalised()


# ------------------------------------------------------------------------------------------------- the plain envelope

def is_count_tokens(path: str) -> bool:
    return path.rstrip("/").endswith("count_tokens")


def request_kind(path: str) -> str | None:
    """A plain Messages API path: "message" (…/v1/messages), "count_tokens" (…/v1/messages/count_tokens), or None."""
    path = path.rstrip("/")
    if path.endswith("/v1/messages/count_tokens"):
        return "count_tokens"
    return "message" if path.endswith("/v1/messages") else None


def plain_envelope(capture: dict[str, Any], body: dict[str, Any], fmt: str) -> Envelope:
    """Model and stream in the body, the API version in the `anthropic-version` header (the first-party API)."""
    path, _ = split_path(capture)
    return Envelope(
        format=fmt,
        endpoint="count_tokens" if is_count_tokens(path) else "messages",
        stream=bool(body.get("stream")),
        model=body.get("model"),
        model_location="body" if body.get("model") else None,
        stream_location="body" if "stream" in body else None,
        api_version=header(capture.get("headers"), "anthropic-version") or body.get("anthropic_version"),
    )


def decode_capture(capture: dict[str, Any], fmt: str = "messages") -> UniversalRequest:
    """A captured request of the plain Messages API (what the client sends, and anthropic and azure receive)."""
    body = json_object(capture)
    return decode_body(body, plain_envelope(capture, body, fmt), split_betas(header(capture.get("headers"), "anthropic-beta")))


# ------------------------------------------------------------------------------------------------- the reply

def reply_json(reply: Reply) -> dict:
    return {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": reply.content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": reply.usage,
    }


def sse_events(reply: Reply) -> list[tuple[str, dict]]:
    """[(event type, data)] in the order the Messages API streams them (`stream_hints.buffer`: one delta each)."""
    buffer = reply.stream_hints.get("buffer", False)
    u = reply.usage
    start_usage = {k: v for k, v in u.items() if k != "output_tokens"}
    start_usage["output_tokens"] = 1
    out = [("message_start", {"type": "message_start", "message": {
        "id": reply.id, "type": "message", "role": "assistant", "model": reply.model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
    out.append(("ping", {"type": "ping"}))
    for i, b in enumerate(reply.content):
        t = b["type"]

        def delta(d: dict) -> None:
            out.append(("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d}))

        if t == "text":
            out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": {"type": "text", "text": ""}}))
            for piece in split_text(b["text"], buffer):
                delta({"type": "text_delta", "text": piece})
        elif t == "thinking":
            out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
            for piece in split_text(b["thinking"], buffer):
                delta({"type": "thinking_delta", "thinking": piece})
            delta({"type": "signature_delta", "signature": b["signature"]})
        elif t in ("tool_use", "server_tool_use"):
            out.append(("content_block_start", {"type": "content_block_start", "index": i,
                                                "content_block": dict(b, input={})}))
            for piece in split_json(json.dumps(b.get("input", {}), separators=(",", ":")), buffer):
                delta({"type": "input_json_delta", "partial_json": piece})
        else:  # result blocks arrive whole
            out.append(("content_block_start", {"type": "content_block_start", "index": i, "content_block": b}))
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
