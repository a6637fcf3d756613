"""Amazon Bedrock Converse, the one codec: a body → the universal request; what Converse itself refuses; a Reply
→ the Converse answer or its stream events.

Decoding is lenient (whatever is not understood lands in ``unmapped``); ``check`` is the strict part the emulator
runs first, with Bedrock's own messages (botocore's service model validates the shapes before it, see
providers/_bedrock/emulator.py). A ``cachePoint`` is folded onto the part before it; betas, thinking, top_k,
output_config, context_management and tool_choice travel in ``additionalModelRequestFields``.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .framing import split_json, split_text
from .messages import output_config, output_format, thinking, tool_choice, unknown
from .universal import Cache, Envelope, Message, Metadata, OutputFormat, Part, Reasoning, Reply, Sampling, Tool
from .universal import ToolChoice, UniversalRequest, b64_bytes, b64_or_text, canonical_json, is_empty, prune
from .universal import sha256_bytes, sha256_text
from .capture import split_betas

# Converse ImageFormat / DocumentFormat → media type. The DocumentFormat enum (botocore's bedrock-runtime service
# model; docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_DocumentBlock.html, "format: The format of a
# document, or its extension. Valid Values: pdf | csv | doc | docx | xls | xlsx | html | txt | md") names file
# formats, not media types: each maps to its registered media type. `md` is Markdown, so text/markdown (RFC 7763),
# not text/plain: the universal form says what the document is, whatever another wire would have to call it (the
# Messages API's PlainTextSource takes only text/plain; the emulator reads any text/* document as text).
MEDIA_FORMATS = {
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

TOP = {
    "modelId", "messages", "system", "inferenceConfig", "toolConfig", "additionalModelRequestFields", "requestMetadata",
    "outputConfig",
}
# The additionalModelRequestFields keys this codec maps (anything else is `unmapped`).
ADDITIONAL_FIELDS = {"thinking", "reasoning_config", "reasoningConfig", "top_k", "anthropic_beta", "output_config",
                     "output_format", "context_management", "tool_choice"}


# ------------------------------------------------------------------------------------------------- decoding

def cache(cp: Any) -> Cache:
    cp = cp if isinstance(cp, dict) else {}
    return Cache(ttl=cp.get("ttl") or "5m")


def _blob(v: Any) -> tuple[str | None, bytes | None]:
    """(sha256, bytes) of a blob as sent in JSON (base64) or as bytes."""
    if isinstance(v, str):
        return sha256_bytes(b64_or_text(v)), b64_bytes(v)
    if isinstance(v, (bytes, bytearray)):
        return sha256_bytes(bytes(v)), bytes(v)
    return None, None


def _media(kind: str, b: dict[str, Any]) -> Part:
    fmt = b.get("format")
    src = b.get("source") or {}
    p: dict[str, Any] = {"kind": kind, "media_type": MEDIA_FORMATS.get(str(fmt).lower(), fmt) if fmt else None}
    if kind == "document":
        p["title"] = b.get("name")
        p["context"] = b.get("context")
        cit = b.get("citations")
        if isinstance(cit, dict):
            p["citations"] = bool(cit.get("enabled")) or None
    if "bytes" in src:
        p["sha256"], p["data"] = _blob(src["bytes"])
    elif "text" in src:
        p["sha256"] = sha256_text(src["text"] or "")
        p["data"] = (src["text"] or "").encode("utf-8")
        if not fmt:
            p["media_type"] = "text/plain"
    elif "s3Location" in src:
        p["source"], p["ref"] = "s3", (src["s3Location"] or {}).get("uri")
    elif "content" in src:
        p["source"] = "content"
        p["content"] = [Part(kind="text", text=c.get("text")) if isinstance(c, dict) and "text" in c else unknown(c)
                        for c in src["content"] or []]
    extra = {k: v for k, v in b.items() if k not in ("format", "source", "name", "context", "citations")}
    if extra:
        p["raw"] = canonical_json(extra)
    return Part(**{k: v for k, v in p.items() if v is not None})


def block(b: Any) -> Part | None:
    """One Converse content block → a part (None for a cachePoint, folded by the caller)."""
    if not isinstance(b, dict):
        return unknown(b)
    if "cachePoint" in b:
        return None
    if "text" in b and len(b) == 1:
        return Part(kind="text", text=b["text"])
    if "image" in b:
        return _media("image", b["image"] or {})
    if "document" in b:
        return _media("document", b["document"] or {})
    if "toolUse" in b:
        tu = b["toolUse"] or {}
        p = Part(kind="tool_use", id=tu.get("toolUseId"), name=tu.get("name"), input=tu.get("input") or None)
        extra = {k: v for k, v in tu.items() if k not in ("toolUseId", "name", "input")}
        if extra:
            p.raw = canonical_json(extra)
        return p
    if "toolResult" in b:
        tr = b["toolResult"] or {}
        inner: list[Part] = []
        for c in tr.get("content") or []:
            if isinstance(c, dict) and "json" in c:
                inner.append(Part(kind="json", input=c["json"]))
            else:
                p = block(c)
                if p is not None:
                    inner.append(p)
        return Part(kind="tool_result", id=tr.get("toolUseId"), is_error=True if tr.get("status") == "error" else None,
                    content=inner)
    if "reasoningContent" in b:
        rc = b["reasoningContent"] or {}
        if "redactedContent" in rc:
            v = rc["redactedContent"]
            data = b64_or_text(v) if isinstance(v, str) else bytes(v) if isinstance(v, (bytes, bytearray)) else None
            return Part(kind="reasoning", redacted=True, sha256=None if data is None else sha256_bytes(data), data=data)
        rt = rc.get("reasoningText") or {}
        return Part(kind="reasoning", text=rt.get("text"), signature=rt.get("signature"))
    return unknown(b)


def content(blocks: Any) -> list[Part]:
    """Content blocks with every cachePoint folded onto the part before it."""
    parts: list[Part] = []
    for b in blocks or []:
        if isinstance(b, dict) and "cachePoint" in b:
            if parts:
                parts[-1] = parts[-1].model_copy(update={"cache": cache(b["cachePoint"])})
            else:
                parts.append(Part(kind="unknown", type="cachePoint", raw=canonical_json(b), cache=cache(b["cachePoint"])))
            continue
        p = block(b)
        if p is not None:
            parts.append(p)
    return parts


def _tools(tool_config: Any, unmapped: dict[str, Any]) -> tuple[list[Tool], ToolChoice | None]:
    if not isinstance(tool_config, dict):
        return [], None
    tools: list[Tool] = []
    for t in tool_config.get("tools") or []:
        if not isinstance(t, dict):
            continue
        if "cachePoint" in t:
            if tools:
                tools[-1] = tools[-1].model_copy(update={"cache": cache(t["cachePoint"])})
            continue
        if "toolSpec" in t:
            spec = t["toolSpec"] or {}
            schema = (spec.get("inputSchema") or {}).get("json")
            extra = {k: v for k, v in spec.items() if k not in ("name", "description", "inputSchema", "strict")}
            tools.append(Tool(name=str(spec.get("name") or "?"), description=spec.get("description") or None,
                              input_schema=schema if isinstance(schema, dict) else None, strict=spec.get("strict"),
                              extra=extra or None))
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


def json_schema(value: Any) -> Any:
    """`outputConfig.textFormat.structure.jsonSchema.schema` is a JSON document in a string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def decode_body(body: dict[str, Any], envelope: Envelope) -> UniversalRequest:
    """A Converse body (the envelope already read by the caller) → the normalised universal request."""
    unmapped: dict[str, Any] = {}
    inf = body.get("inferenceConfig") or {}
    amrf = dict(body.get("additionalModelRequestFields") or {})
    reasoning: dict[str, Any] = {}
    out_fmt: dict[str, Any] = {}
    thinking(amrf.pop("thinking", None), reasoning)
    for spelling in ("reasoning_config", "reasoningConfig"):  # the Converse-generic spellings, same meaning
        other = amrf.pop(spelling, None)
        if other is not None and not reasoning:
            thinking(other, reasoning)
    top_k = amrf.pop("top_k", None)
    betas = split_betas(amrf.pop("anthropic_beta", None))
    output_config(amrf.pop("output_config", None), reasoning, out_fmt, unmapped, "additionalModelRequestFields.output_config")
    if "output_format" in amrf:
        out_fmt.update(output_format(amrf.pop("output_format")))
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
            out_fmt = {"type": tf.get("type"), "schema": json_schema(js.get("schema")), "name": js.get("name")}
        for k, v in oc.items():
            if k not in ("effort", "textFormat"):
                unmapped[f"outputConfig.{k}"] = v

    tools, choice = _tools(body.get("toolConfig"), unmapped)
    if tool_choice_extra is not None:
        ac = tool_choice(tool_choice_extra)
        if ac is not None:
            choice = ac
        else:
            unmapped["additionalModelRequestFields.tool_choice"] = tool_choice_extra

    rm = body.get("requestMetadata")
    metadata = Metadata(request_metadata=rm) if isinstance(rm, dict) and rm else None

    messages = [Message(role=str(m.get("role")), parts=content(m.get("content")))
                for m in body.get("messages") or [] if isinstance(m, dict)]
    for k, v in body.items():
        if k not in TOP and not is_empty(v):
            unmapped[k] = v
    for k, v in inf.items():
        if k not in ("maxTokens", "temperature", "topP", "stopSequences"):
            unmapped[f"inferenceConfig.{k}"] = v

    u = UniversalRequest(
        envelope=envelope,
        system=content(body.get("system")),
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


# ------------------------------------------------------------------------------------------------- what Converse refuses

class Invalid(ValueError):
    """A request Converse itself refuses (400 ValidationException); the message is Bedrock's."""


# The documented set is alphanumerics, whitespace, hyphens, parentheses and brackets, but live reports (vercel/ai
# #20366, aws-samples/generative-ai-use-cases #1671) show Bedrock accepts underscores, which LiteLLM's generated
# names (DocumentPDFmessages_<hash>_pdf) contain: trust the measurement.
DOC_NAME = re.compile(r"^[A-Za-z0-9_\s\-\(\)\[\]]+$")
DOC_NAME_RULE = ("The document file name can only contain alphanumeric characters, whitespace characters, hyphens, "
                 "parentheses, and square brackets. The name can't contain more than one consecutive whitespace "
                 "character.")
BLOCKS = ("text", "cachePoint", "image", "document", "toolUse", "toolResult", "reasoningContent")


def _check_bytes(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise Invalid(f"{where}: bytes must be a base64-encoded string")
    if b64_bytes(value) is None:
        raise Invalid(f"{where}: Invalid base64 data in bytes")


def _check_cache_point(seen: bool, where: str) -> None:
    if not seen:
        raise Invalid(f"{where}: a cachePoint block must follow another content block")


def _check_content(blocks: list, where: str) -> None:
    for j, b in enumerate(blocks):
        w = f"{where}.{j}"
        if "text" in b:
            if not b["text"].strip():
                raise Invalid(f"The text field in the ContentBlock object at {w} is blank. Add text to the text "
                              "field, and try again.")
        elif "cachePoint" in b:
            _check_cache_point(j > 0, w)
        elif "image" in b:
            src = b["image"].get("source", {})
            if "bytes" not in src:
                raise Invalid(f"{w}.image.source: only bytes sources are supported for this model")
            _check_bytes(src["bytes"], w + ".image.source.bytes")
        elif "document" in b:
            doc = b["document"]
            if not DOC_NAME.match(doc.get("name", "")):
                raise Invalid(DOC_NAME_RULE)
            src = doc.get("source", {})
            if "bytes" in src:
                _check_bytes(src["bytes"], w + ".document.source.bytes")
            elif "text" not in src:
                raise Invalid(f"{w}.document.source: unsupported source")
        elif "toolResult" in b:
            inner = [c for c in b["toolResult"].get("content", []) if "image" in c or "document" in c]
            _check_content(inner, f"{w}.toolResult.content")
        elif not any(k in b for k in BLOCKS):
            raise Invalid(f"{w}: This model doesn't support the {next(iter(b), '?')} content block.")


def check(params: dict[str, Any]) -> None:
    """Raise Invalid for what Converse refuses beyond its shapes (roles, blanks, names, blobs, cache points, the
    toolConfig tool blocks need, the JSON schema string). `params` passed botocore's validation already."""
    msgs = params.get("messages", [])
    if msgs and msgs[0]["role"] != "user":
        raise Invalid("A conversation must start with a user message. Try again with a conversation that starts "
                      "with a user message.")
    for a, b in zip(msgs, msgs[1:]):
        if a["role"] == b["role"]:
            raise Invalid("A conversation must alternate between user and assistant roles. Make sure the "
                          "conversation alternates between user and assistant roles and try again.")
    for i, m in enumerate(msgs):
        _check_content(m.get("content", []), f"messages.{i}.content")
    for j, s in enumerate(params.get("system", [])):
        if "cachePoint" in s:
            _check_cache_point(j > 0, f"system.{j}")
    tc = params.get("toolConfig")
    for j, t in enumerate((tc or {}).get("tools", [])):
        if "cachePoint" in t:
            _check_cache_point(j > 0, f"toolConfig.tools.{j}")
    if not tc and any("toolUse" in b or "toolResult" in b for m in msgs for b in m.get("content", [])):
        raise Invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    extra = params.get("additionalModelRequestFields")
    if extra is not None and not isinstance(extra, dict):
        raise Invalid("additionalModelRequestFields must be an object")
    if not isinstance((extra or {}).get("anthropic_beta", []), list):
        raise Invalid("The model returned the following errors: anthropic_beta: Input should be a valid list")
    js = ((((params.get("outputConfig") or {}).get("textFormat") or {}).get("structure") or {}).get("jsonSchema")) or {}
    if "schema" in js and isinstance(json_schema(js["schema"]), str):
        raise Invalid("outputConfig.textFormat.structure.jsonSchema.schema: invalid JSON schema string")


# ------------------------------------------------------------------------------------------------- the reply

STOP = {"end_turn": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens", "stop_sequence": "stop_sequence",
        "pause_turn": "end_turn", "refusal": "content_filtered"}


def usage(u: dict) -> dict:
    """Messages usage names → Converse's (cache writes per TTL in `cacheDetails`)."""
    inp, out = u.get("input_tokens", 0), u.get("output_tokens", 0)
    cr, cw = u.get("cache_read_input_tokens", 0), u.get("cache_creation_input_tokens", 0)
    out_usage = {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out + cr + cw,
                 "cacheReadInputTokens": cr, "cacheWriteInputTokens": cw}
    cc = u.get("cache_creation") or {}
    # botocore's TokenUsage.cacheDetails: "Detailed breakdown of cache writes by TTL ... Sorted by TTL duration (1h
    # before 5m)."
    details = [{"ttl": ttl, "inputTokens": cc.get(key, 0)}
               for ttl, key in (("1h", "ephemeral_1h_input_tokens"), ("5m", "ephemeral_5m_input_tokens")) if cc.get(key)]
    if details:
        out_usage["cacheDetails"] = details
    return out_usage


def encode_block(b: dict) -> dict | None:
    t = b["type"]
    if t == "text":
        return {"text": b["text"]}
    if t == "thinking":
        return {"reasoningContent": {"reasoningText": {"text": b["thinking"], "signature": b["signature"]}}}
    if t == "redacted_thinking":
        return {"reasoningContent": {"redactedContent": b["data"]}}
    if t == "tool_use":
        return {"toolUse": {"toolUseId": b["id"], "name": b["name"], "input": b.get("input", {})}}
    return None


def encode_reply(reply: Reply) -> dict:
    content_out = [c for c in (encode_block(b) for b in reply.content) if c is not None]
    return {"output": {"message": {"role": "assistant", "content": content_out}},
            "stopReason": STOP.get(reply.stop_reason, "end_turn"),
            "usage": usage(reply.usage), "metrics": {"latencyMs": 40}}


def stream_events(reply: Reply) -> list[tuple[str, dict]]:
    """[(event type, payload)] as ConverseStream sends them (`stream_hints.buffer`: one delta each)."""
    buffer = reply.stream_hints.get("buffer", False)
    out = [("messageStart", {"role": "assistant"})]
    idx = 0
    for b in reply.content:
        t = b["type"]

        def delta(d: dict) -> None:
            out.append(("contentBlockDelta", {"contentBlockIndex": idx, "delta": d}))

        if t == "text":
            for piece in split_text(b["text"], buffer):
                delta({"text": piece})
        elif t == "thinking":
            for piece in split_text(b["thinking"], buffer):
                delta({"reasoningContent": {"text": piece}})
            delta({"reasoningContent": {"signature": b["signature"]}})
        elif t == "tool_use":
            out.append(("contentBlockStart", {"contentBlockIndex": idx,
                                              "start": {"toolUse": {"toolUseId": b["id"], "name": b["name"]}}}))
            for piece in split_json(json.dumps(b.get("input", {}), separators=(",", ":")), buffer):
                delta({"toolUse": {"input": piece}})
        else:
            continue
        out.append(("contentBlockStop", {"contentBlockIndex": idx}))
        idx += 1
    out.append(("messageStop", {"stopReason": STOP.get(reply.stop_reason, "end_turn")}))
    out.append(("metadata", {"usage": usage(reply.usage), "metrics": {"latencyMs": 40}}))
    return out
