"""Decoders: one wire request (a capture) → the universal request. No encoders.

A capture is ``{"method", "path", "query", "headers", "body"}`` with ``body`` the parsed JSON (a str/bytes body is
parsed here). Dialects:

- ``anthropic``: Anthropic Messages, for the client side and for the anthropic upstream;
- ``azure``: Azure AI Foundry (Anthropic Messages at ``<base>/anthropic/v1/messages``);
- ``bedrock_invoke``: Anthropic body at ``/model/<id>/invoke[-with-response-stream]``;
- ``vertex_ai``: Anthropic body at ``.../models/<m>:rawPredict`` or ``:streamRawPredict``;
- ``bedrock_converse``: the Converse shape at ``/model/<id>/converse[-stream]``.

Whatever a decoder does not understand lands in ``unmapped`` (keyed by where it was found), never silently lost.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from .universal import (
    Cache,
    Envelope,
    Message,
    Metadata,
    OutputFormat,
    Part,
    Reasoning,
    Sampling,
    Tool,
    ToolChoice,
    UniversalRequest,
    canonical_json,
    is_empty,
    prune,
    sha256_b64,
    sha256_bytes,
    sha256_text,
)

DIALECTS = ("anthropic", "azure", "bedrock_invoke", "bedrock_converse", "vertex_ai")
ANTHROPIC_BODY_DIALECTS = ("anthropic", "azure", "bedrock_invoke", "vertex_ai")


class DecodeError(ValueError):
    pass


# --------------------------------------------------------------------------------------------------- helpers


def header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup over a dict or a list of pairs."""
    if not headers:
        return None
    items = headers.items() if isinstance(headers, dict) else headers
    name = name.lower()
    values = [str(v) for k, v in items if str(k).lower() == name]
    if not values:
        return None
    return ",".join(values)


def parse_body(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    if isinstance(body, str):
        if not body.strip():
            return {}
        try:
            return json.loads(body)
        except json.JSONDecodeError as e:
            raise DecodeError(f"body is not JSON: {e}") from e
    return body if body is not None else {}


def split_path(capture: dict[str, Any]) -> tuple[str, dict[str, list[str]]]:
    """(path without query, query as dict of lists) from a capture whose path may carry the query."""
    path = str(capture.get("path") or "")
    query: dict[str, list[str]] = {}
    if "?" in path:
        path, qs = path.split("?", 1)
        query.update(parse_qs(qs, keep_blank_values=True))
    q = capture.get("query")
    if isinstance(q, str) and q:
        for k, v in parse_qs(q.lstrip("?"), keep_blank_values=True).items():
            query.setdefault(k, v)
    elif isinstance(q, dict):
        for k, v in q.items():
            query.setdefault(k, v if isinstance(v, list) else [v])
    return path, query


def split_betas(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [b.strip() for b in value if isinstance(b, str) and b.strip()]


MEDIA_FORMATS = {
    # Converse ImageFormat / DocumentFormat → MIME type
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "html": "text/html",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _cache_from_anthropic(cc: Any) -> Cache | None:
    if not isinstance(cc, dict):
        return None
    return Cache(ttl=cc.get("ttl") or "5m", scope=cc.get("scope") or None)


def _cache_from_converse(cp: Any) -> Cache:
    cp = cp if isinstance(cp, dict) else {}
    return Cache(ttl=cp.get("ttl") or "5m")


def _unknown(block: Any, cache: Cache | None = None) -> Part:
    if isinstance(block, dict):
        raw = {k: v for k, v in block.items() if k != "cache_control"}
        return Part(kind="unknown", type=str(block.get("type") or next(iter(block), "")), raw=canonical_json(raw), cache=cache)
    return Part(kind="unknown", raw=canonical_json(block))


# --------------------------------------------------------------------------------------------------- Anthropic


def _anthropic_source(part: dict[str, Any], src: Any) -> None:
    """Fill media_type / sha256 / source / ref of an image or document part from an Anthropic source."""
    if not isinstance(src, dict):
        return
    st = src.get("type")
    if st == "base64":
        part["media_type"] = src.get("media_type")
        part["sha256"] = sha256_b64(src.get("data") or "")
    elif st == "text":
        part["media_type"] = src.get("media_type") or "text/plain"
        part["sha256"] = sha256_text(src.get("data") or "")
    elif st == "url":
        part["source"], part["ref"] = "url", src.get("url")
    elif st == "file":
        part["source"], part["ref"] = "file", src.get("file_id")
    elif st == "content":
        part["source"] = "content"
        part["content"] = [p for p in (_anthropic_block(b) for b in (src.get("content") or [])) if p]
    else:
        part["source"], part["ref"] = str(st), canonical_json(src)


def _anthropic_block(block: Any) -> Part:
    if isinstance(block, str):
        return Part(kind="text", text=block)
    if not isinstance(block, dict):
        return _unknown(block)
    t = block.get("type")
    cache = _cache_from_anthropic(block.get("cache_control"))
    known = {"type", "cache_control"}
    p: dict[str, Any] = {}
    if t == "text":
        p = {"kind": "text", "text": block.get("text")}
        known |= {"text", "citations"}
        if block.get("citations"):
            p["raw"] = canonical_json({"citations": block["citations"]})
    elif t == "image":
        p = {"kind": "image"}
        _anthropic_source(p, block.get("source"))
        known |= {"source"}
    elif t == "document":
        p = {"kind": "document", "title": block.get("title"), "context": block.get("context")}
        cit = block.get("citations")
        if isinstance(cit, dict):
            p["citations"] = bool(cit.get("enabled")) or None
        _anthropic_source(p, block.get("source"))
        known |= {"source", "title", "context", "citations"}
    elif t == "tool_use":
        p = {"kind": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": block.get("input") or None}
        known |= {"id", "name", "input"}
    elif t == "tool_result":
        content = block.get("content")
        if isinstance(content, str):
            content = [content] if content else []
        p = {
            "kind": "tool_result",
            "id": block.get("tool_use_id"),
            "is_error": True if block.get("is_error") else None,
            "content": [_anthropic_block(b) for b in (content or [])],
        }
        known |= {"tool_use_id", "is_error", "content"}
    elif t == "thinking":
        p = {"kind": "reasoning", "text": block.get("thinking"), "signature": block.get("signature")}
        known |= {"thinking", "signature"}
    elif t == "redacted_thinking":
        p = {"kind": "reasoning", "redacted": True, "sha256": sha256_b64(block.get("data") or "")}
        known |= {"data"}
    else:
        return _unknown(block, cache)
    extra = {k: v for k, v in block.items() if k not in known and not is_empty(v)}
    if extra:
        # a known block with fields we do not model: keep them visible rather than drop them
        p["raw"] = canonical_json({**json.loads(p.get("raw") or "{}"), **extra})
    return Part(**{k: v for k, v in p.items() if v is not None}, cache=cache)


def _anthropic_content(content: Any) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Part(kind="text", text=content)] if content else []
    if isinstance(content, list):
        return [_anthropic_block(b) for b in content]
    return [_unknown(content)]


def _anthropic_tool(t: Any) -> Tool:
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
        cache=_cache_from_anthropic(t.get("cache_control")),
    )


def _anthropic_tool_choice(tc: Any) -> ToolChoice | None:
    if not isinstance(tc, dict) or not tc.get("type"):
        return None
    mode = tc["type"]
    if mode not in ("auto", "any", "tool", "none"):
        return None
    return ToolChoice(mode=mode, name=tc.get("name"), parallel=False if tc.get("disable_parallel_tool_use") else None)


def _anthropic_thinking(th: Any, into: dict[str, Any]) -> None:
    if not isinstance(th, dict):
        return
    into["mode"] = th.get("type")
    into["budget_tokens"] = th.get("budget_tokens")
    into["display"] = th.get("display")
    extra = {k: v for k, v in th.items() if k not in ("type", "budget_tokens", "display") and not is_empty(v)}
    if extra:
        into["extra"] = extra


def _anthropic_output_config(oc: Any, reasoning: dict[str, Any], out: dict[str, Any], unmapped: dict[str, Any], where: str) -> None:
    if not isinstance(oc, dict):
        return
    if oc.get("effort"):
        reasoning["effort"] = oc["effort"]
    fmt = oc.get("format")
    if isinstance(fmt, dict):
        out.update(_anthropic_output_format(fmt))
    rest = {k: v for k, v in oc.items() if k not in ("effort", "format") and not is_empty(v)}
    for k, v in rest.items():
        unmapped[f"{where}.{k}"] = v


def _anthropic_output_format(fmt: Any) -> dict[str, Any]:
    if not isinstance(fmt, dict):
        return {}
    schema = fmt.get("schema")
    return {"type": fmt.get("type"), "schema": schema, "name": fmt.get("name")}


ANTHROPIC_TOP = {
    "model", "messages", "system", "tools", "tool_choice", "max_tokens", "temperature", "top_p", "top_k",
    "stop_sequences", "thinking", "output_config", "output_format", "metadata", "context_management", "stream",
    "anthropic_version", "anthropic_beta",
}


def decode_anthropic_body(body: dict[str, Any], envelope: Envelope, extra_betas: list[str]) -> UniversalRequest:
    unmapped: dict[str, Any] = {}
    reasoning: dict[str, Any] = {}
    out_fmt: dict[str, Any] = {}
    _anthropic_thinking(body.get("thinking"), reasoning)
    if body.get("output_format") is not None:
        out_fmt.update(_anthropic_output_format(body.get("output_format")))
    _anthropic_output_config(body.get("output_config"), reasoning, out_fmt, unmapped, "output_config")
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
        messages.append(Message(role=str(m.get("role")), parts=_anthropic_content(m.get("content"))))
    for k, v in body.items():
        if k not in ANTHROPIC_TOP and not is_empty(v):
            unmapped[k] = v
    cm = body.get("context_management")
    u = UniversalRequest(
        envelope=envelope,
        system=_anthropic_content(body.get("system")),
        messages=messages,
        tools=[_anthropic_tool(t) for t in body.get("tools") or []],
        tool_choice=_anthropic_tool_choice(body.get("tool_choice")),
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


# --------------------------------------------------------------------------------------------------- envelopes

_BEDROCK_PATH = re.compile(r"^(?:.*?)/model/(?P<model>.+)/(?P<op>invoke-with-response-stream|invoke|converse-stream|converse|count-tokens)/?$")
_VERTEX_PATH = re.compile(r"/models/(?P<model>[^/:]+):(?P<op>streamRawPredict|rawPredict)$")


def _envelope_anthropic(capture: dict[str, Any], body: dict[str, Any], dialect: str) -> Envelope:
    path, _ = split_path(capture)
    endpoint = "count_tokens" if path.rstrip("/").endswith("count_tokens") else "messages"
    return Envelope(
        format=dialect,
        endpoint=endpoint,
        stream=bool(body.get("stream")),
        model=body.get("model"),
        model_location="body" if body.get("model") else None,
        stream_location="body" if "stream" in body else None,
        api_version=header(capture.get("headers"), "anthropic-version") or body.get("anthropic_version"),
    )


def _bedrock_path(capture: dict[str, Any]) -> tuple[str | None, str | None]:
    path, _ = split_path(capture)
    m = _BEDROCK_PATH.match(path)
    if not m:
        return None, None
    return unquote(m.group("model")), m.group("op")


def _decode_anthropic_dialect(capture: dict[str, Any], dialect: str) -> UniversalRequest:
    body = parse_body(capture.get("body"))
    if not isinstance(body, dict):
        raise DecodeError("body is not a JSON object")
    headers = capture.get("headers")
    betas = split_betas(header(headers, "anthropic-beta"))
    if dialect in ("anthropic", "azure"):
        env = _envelope_anthropic(capture, body, dialect)
    elif dialect == "bedrock_invoke":
        model, op = _bedrock_path(capture)
        if op == "count-tokens":
            raise DecodeError("bedrock count-tokens: decode the body with decode_count_tokens")
        env = Envelope(
            format=dialect,
            endpoint="invoke" if op else None,
            stream=(op == "invoke-with-response-stream") if op else bool(body.get("stream")),
            model=model or body.get("model"),
            model_location="url" if model else ("body" if body.get("model") else None),
            stream_location="url" if op else None,
            api_version=body.get("anthropic_version") or header(headers, "anthropic-version"),
        )
        if "model" in body and model:
            env_unmapped = {"model": body["model"]}
        else:
            env_unmapped = {}
        if "stream" in body:
            env_unmapped["stream"] = body["stream"]
        u = decode_anthropic_body({k: v for k, v in body.items() if k not in ("model", "stream")}, env, betas)
        u.unmapped.update(env_unmapped)
        return u
    elif dialect == "vertex_ai":
        path, _ = split_path(capture)
        m = _VERTEX_PATH.search(path)
        model = unquote(m.group("model")) if m else None
        counting = (model or "").startswith("count-tokens")
        if counting:
            model = None  # .../models/count-tokens:rawPredict: the model is named in the body
        url_stream = m.group("op") == "streamRawPredict" if m and not counting else None
        stream = url_stream if url_stream is not None else bool(body.get("stream"))
        loc = None
        if m and not counting:
            loc = "url+body" if "stream" in body else "url"
        elif "stream" in body:
            loc = "body"
        env = Envelope(
            format=dialect,
            endpoint="count_tokens" if counting else "rawPredict",
            stream=stream,
            model=model or body.get("model"),
            model_location="url" if model else ("body" if body.get("model") else None),
            stream_location=loc,
            api_version=body.get("anthropic_version") or header(headers, "anthropic-version"),
        )
        u = decode_anthropic_body({k: v for k, v in body.items() if k not in ("model", "stream")}, env, betas)
        if "stream" in body and url_stream is not None and bool(body["stream"]) != url_stream:
            u.unmapped["stream"] = body["stream"]  # body and URL disagree: keep it visible
        if model and body.get("model"):
            u.unmapped["model"] = body["model"]
        return u
    else:
        raise DecodeError(f"not an Anthropic-body dialect: {dialect}")
    return decode_anthropic_body(body, env, betas)


# --------------------------------------------------------------------------------------------------- Converse


def _b64_sha(v: Any) -> str | None:
    if isinstance(v, str):
        return sha256_b64(v)
    if isinstance(v, (bytes, bytearray)):
        return sha256_bytes(bytes(v))
    return None


def _converse_media(kind: str, block: dict[str, Any]) -> Part:
    fmt = block.get("format")
    src = block.get("source") or {}
    p: dict[str, Any] = {"kind": kind, "media_type": MEDIA_FORMATS.get(str(fmt).lower(), fmt) if fmt else None}
    if kind == "document":
        p["title"] = block.get("name")
        p["context"] = block.get("context")
        cit = block.get("citations")
        if isinstance(cit, dict):
            p["citations"] = bool(cit.get("enabled")) or None
    if "bytes" in src:
        p["sha256"] = _b64_sha(src["bytes"])
    elif "text" in src:
        p["sha256"] = sha256_text(src["text"] or "")
        if not fmt:
            p["media_type"] = "text/plain"
    elif "s3Location" in src:
        p["source"], p["ref"] = "s3", (src["s3Location"] or {}).get("uri")
    elif "content" in src:
        p["source"] = "content"
        p["content"] = [Part(kind="text", text=c.get("text")) if isinstance(c, dict) and "text" in c else _unknown(c) for c in src["content"] or []]
    extra = {k: v for k, v in block.items() if k not in ("format", "source", "name", "context", "citations")}
    if extra:
        p["raw"] = canonical_json(extra)
    return Part(**{k: v for k, v in p.items() if v is not None})


def _converse_block(block: Any) -> Part | None:
    """One Converse content block → a part (None for a cachePoint, handled by the caller)."""
    if not isinstance(block, dict):
        return _unknown(block)
    if "cachePoint" in block:
        return None
    if "text" in block and len(block) == 1:
        return Part(kind="text", text=block["text"])
    if "image" in block:
        return _converse_media("image", block["image"] or {})
    if "document" in block:
        return _converse_media("document", block["document"] or {})
    if "toolUse" in block:
        tu = block["toolUse"] or {}
        p = Part(kind="tool_use", id=tu.get("toolUseId"), name=tu.get("name"), input=tu.get("input") or None)
        extra = {k: v for k, v in tu.items() if k not in ("toolUseId", "name", "input")}
        if extra:
            p.raw = canonical_json(extra)
        return p
    if "toolResult" in block:
        tr = block["toolResult"] or {}
        content: list[Part] = []
        for c in tr.get("content") or []:
            if isinstance(c, dict) and "json" in c:
                content.append(Part(kind="json", input=c["json"]))
            else:
                p = _converse_block(c)
                if p is not None:
                    content.append(p)
        return Part(kind="tool_result", id=tr.get("toolUseId"), is_error=True if tr.get("status") == "error" else None, content=content)
    if "reasoningContent" in block:
        rc = block["reasoningContent"] or {}
        if "redactedContent" in rc:
            return Part(kind="reasoning", redacted=True, sha256=_b64_sha(rc["redactedContent"]))
        rt = rc.get("reasoningText") or {}
        return Part(kind="reasoning", text=rt.get("text"), signature=rt.get("signature"))
    return _unknown(block)


def _converse_content(blocks: Any) -> list[Part]:
    """Content blocks with every cachePoint folded onto the part before it."""
    parts: list[Part] = []
    for b in blocks or []:
        if isinstance(b, dict) and "cachePoint" in b:
            if parts:
                parts[-1] = parts[-1].model_copy(update={"cache": _cache_from_converse(b["cachePoint"])})
            else:
                parts.append(Part(kind="unknown", type="cachePoint", raw=canonical_json(b), cache=_cache_from_converse(b["cachePoint"])))
            continue
        p = _converse_block(b)
        if p is not None:
            parts.append(p)
    return parts


def _converse_tools(tool_config: Any, unmapped: dict[str, Any]) -> tuple[list[Tool], ToolChoice | None]:
    if not isinstance(tool_config, dict):
        return [], None
    tools: list[Tool] = []
    for t in tool_config.get("tools") or []:
        if not isinstance(t, dict):
            continue
        if "cachePoint" in t:
            if tools:
                tools[-1] = tools[-1].model_copy(update={"cache": _cache_from_converse(t["cachePoint"])})
            continue
        if "toolSpec" in t:
            spec = t["toolSpec"] or {}
            schema = (spec.get("inputSchema") or {}).get("json")
            extra = {k: v for k, v in spec.items() if k not in ("name", "description", "inputSchema", "strict")}
            tools.append(
                Tool(
                    name=str(spec.get("name") or "?"),
                    description=spec.get("description") or None,
                    input_schema=schema if isinstance(schema, dict) else None,
                    strict=spec.get("strict"),
                    extra=extra or None,
                )
            )
        elif "systemTool" in t:
            st = t["systemTool"] or {}
            tools.append(Tool(name=str(st.get("name") or "?"), kind="system_tool"))
        else:
            unmapped.setdefault("toolConfig.tools", []).append(t)
    tc = tool_config.get("toolChoice")
    choice = None
    if isinstance(tc, dict):
        if "auto" in tc:
            choice = ToolChoice(mode="auto")
        elif "any" in tc:
            choice = ToolChoice(mode="any")
        elif "tool" in tc:
            choice = ToolChoice(mode="tool", name=(tc["tool"] or {}).get("name"))
        else:
            unmapped["toolConfig.toolChoice"] = tc
    for k, v in tool_config.items():
        if k not in ("tools", "toolChoice"):
            unmapped[f"toolConfig.{k}"] = v
    return tools, choice


CONVERSE_TOP = {
    "modelId", "messages", "system", "inferenceConfig", "toolConfig", "additionalModelRequestFields", "requestMetadata",
    "outputConfig",
}


def decode_converse_body(body: dict[str, Any], envelope: Envelope) -> UniversalRequest:
    unmapped: dict[str, Any] = {}
    inf = body.get("inferenceConfig") or {}
    amrf = dict(body.get("additionalModelRequestFields") or {})
    reasoning: dict[str, Any] = {}
    out_fmt: dict[str, Any] = {}
    _anthropic_thinking(amrf.pop("thinking", None), reasoning)
    reasoning_config = amrf.pop("reasoning_config", None)  # the Converse-generic spelling, same meaning
    if reasoning_config is not None and not reasoning:
        _anthropic_thinking(reasoning_config, reasoning)
    top_k = amrf.pop("top_k", None)
    betas = split_betas(amrf.pop("anthropic_beta", None))
    _anthropic_output_config(amrf.pop("output_config", None), reasoning, out_fmt, unmapped, "additionalModelRequestFields.output_config")
    if "output_format" in amrf:
        out_fmt.update(_anthropic_output_format(amrf.pop("output_format")))
    cm = amrf.pop("context_management", None)
    tool_choice_extra = amrf.pop("tool_choice", None)
    for k, v in amrf.items():
        if not is_empty(v):
            unmapped[f"additionalModelRequestFields.{k}"] = v

    oc = body.get("outputConfig")
    if isinstance(oc, dict):
        if oc.get("effort"):
            reasoning["effort"] = oc["effort"]
        tf = oc.get("textFormat")
        if isinstance(tf, dict):
            js = ((tf.get("structure") or {}).get("jsonSchema")) or {}
            schema = js.get("schema")
            if isinstance(schema, str):
                try:
                    schema = json.loads(schema)
                except json.JSONDecodeError:
                    pass
            out_fmt = {"type": tf.get("type"), "schema": schema, "name": js.get("name")}
        for k, v in oc.items():
            if k not in ("effort", "textFormat"):
                unmapped[f"outputConfig.{k}"] = v

    tools, choice = _converse_tools(body.get("toolConfig"), unmapped)
    if tool_choice_extra is not None:
        ac = _anthropic_tool_choice(tool_choice_extra)
        if ac is not None:
            choice = ac
        else:
            unmapped["additionalModelRequestFields.tool_choice"] = tool_choice_extra

    rm = body.get("requestMetadata")
    metadata = Metadata(request_metadata=rm) if isinstance(rm, dict) and rm else None

    messages = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        messages.append(Message(role=str(m.get("role")), parts=_converse_content(m.get("content"))))
    for k, v in body.items():
        if k not in CONVERSE_TOP and not is_empty(v):
            unmapped[k] = v
    for k, v in inf.items():
        if k not in ("maxTokens", "temperature", "topP", "stopSequences"):
            unmapped[f"inferenceConfig.{k}"] = v

    u = UniversalRequest(
        envelope=envelope,
        system=_converse_content(body.get("system")),
        messages=messages,
        tools=tools,
        tool_choice=choice,
        sampling=Sampling(
            max_tokens=inf.get("maxTokens"),
            temperature=inf.get("temperature"),
            top_p=inf.get("topP"),
            top_k=top_k,
            stop_sequences=inf.get("stopSequences") or None,
        ),
        reasoning=Reasoning(**reasoning) if reasoning else None,
        output_format=OutputFormat(**out_fmt) if out_fmt else None,
        metadata=metadata,
        betas=[*betas],
        context_management=prune(cm) if isinstance(cm, dict) else None,
        unmapped=unmapped,
    )
    return u.normalised()


def _decode_converse(capture: dict[str, Any]) -> UniversalRequest:
    body = parse_body(capture.get("body"))
    if not isinstance(body, dict):
        raise DecodeError("body is not a JSON object")
    model, op = _bedrock_path(capture)
    env = Envelope(
        format="bedrock_converse",
        endpoint="converse" if op else None,
        stream=op == "converse-stream",
        model=model or body.get("modelId"),
        model_location="url" if model else ("body" if body.get("modelId") else None),
        stream_location="url" if op else None,
        api_version=None,
    )
    u = decode_converse_body(body, env)
    hb = split_betas(header(capture.get("headers"), "anthropic-beta"))
    if hb:
        u = u.model_copy(update={"betas": sorted(set(u.betas) | set(hb))})
    return u


# --------------------------------------------------------------------------------------------------- public


def decode(capture: dict[str, Any], dialect: str) -> UniversalRequest:
    """Decode one captured request of the given dialect into the universal request."""
    if dialect not in DIALECTS:
        raise DecodeError(f"unknown dialect {dialect!r} (one of {', '.join(DIALECTS)})")
    if dialect in ("bedrock_invoke", "bedrock_converse"):
        _, op = _bedrock_path(capture)
        if op == "count-tokens":
            return decode_bedrock_count_tokens(capture)
    if dialect == "bedrock_converse":
        return _decode_converse(capture)
    return _decode_anthropic_dialect(capture, dialect)


def decode_bedrock_count_tokens(capture: dict[str, Any]) -> UniversalRequest:
    """Bedrock CountTokens: ``{"input": {"invokeModel": {"body": <b64 JSON>}} | {"converse": {...}}}``."""
    body = parse_body(capture.get("body"))
    model, _ = _bedrock_path(capture)
    inp = (body or {}).get("input") or {}
    if "invokeModel" in inp:
        inner = (inp["invokeModel"] or {}).get("body")
        if isinstance(inner, str):
            try:
                inner = json.loads(base64.b64decode(inner, validate=True))
            except (binascii.Error, ValueError):
                inner = json.loads(inner)
        env = Envelope(format="bedrock_invoke", endpoint="count_tokens", model=model, model_location="url" if model else None,
                       api_version=(inner or {}).get("anthropic_version"))
        return decode_anthropic_body({k: v for k, v in (inner or {}).items() if k not in ("model", "stream")}, env, [])
    if "converse" in inp:
        env = Envelope(format="bedrock_converse", endpoint="count_tokens", model=model, model_location="url" if model else None)
        return decode_converse_body(inp["converse"] or {}, env)
    raise DecodeError("bedrock count-tokens body has neither input.invokeModel nor input.converse")
