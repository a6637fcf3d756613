"""Bedrock Converse <-> neutral (Anthropic-shaped) request/reply."""
from __future__ import annotations

import base64
import binascii
import json
import re

from .. import anthropic_schema, profiles
from ..errors import gap, invalid
from ..neutral import NeutralRequest, Reply

ADDITIONAL_KEYS = {"thinking", "anthropic_beta", "top_k", "reasoning_config", "reasoningConfig", "output_config",
                   "context_management", "tool_choice"}
# The documented set is alphanumerics, whitespace, hyphens, parentheses and brackets, but live reports (vercel/ai
# #20366, aws-samples/generative-ai-use-cases #1671) show Bedrock accepts underscores, which LiteLLM's generated
# names (DocumentPDFmessages_<hash>_pdf) contain: trust the measurement.
DOC_NAME = re.compile(r"^[A-Za-z0-9_\s\-\(\)\[\]]+$")
DOC_MEDIA = {"pdf": "application/pdf", "txt": "text/plain", "md": "text/plain", "html": "text/plain",
             "csv": "text/plain", "doc": None, "docx": None, "xls": None, "xlsx": None}
STOP = {"end_turn": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens", "stop_sequence": "stop_sequence",
        "pause_turn": "end_turn", "refusal": "content_filtered"}


def _bytes(value, where: str) -> str:
    """Blob as sent in JSON (base64 string) -> the same base64, after checking it decodes."""
    if not isinstance(value, str):
        raise invalid(f"{where}: bytes must be a base64-encoded string")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{where}: Invalid base64 data in bytes")
    return value


def _cache(block: dict) -> dict:
    cc = {"type": "ephemeral"}
    if block.get("ttl"):
        cc["ttl"] = block["ttl"]
    return cc


def _mark_previous(out: list, cp: dict, where: str) -> None:
    if not out:
        raise invalid(f"{where}: a cachePoint block must follow another content block")
    out[-1] = dict(out[-1], cache_control=_cache(cp))


def _content(blocks: list, where: str) -> list:
    out = []
    for j, b in enumerate(blocks):
        w = f"{where}.{j}"
        if "text" in b:
            if not b["text"].strip():
                raise invalid(f"The text field in the ContentBlock object at {w} is blank. Add text to the text field, and try again.")
            out.append({"type": "text", "text": b["text"]})
        elif "cachePoint" in b:
            _mark_previous(out, b["cachePoint"], w)
        elif "image" in b:
            img = b["image"]
            src = img.get("source", {})
            if "bytes" not in src:
                raise invalid(f"{w}.image.source: only bytes sources are supported for this model")
            out.append({"type": "image", "source": {"type": "base64", "media_type": f"image/{img['format']}",
                                                    "data": _bytes(src["bytes"], w + ".image.source.bytes")}})
        elif "document" in b:
            doc = b["document"]
            name = doc.get("name", "")
            if not DOC_NAME.match(name):
                raise invalid("The document file name can only contain alphanumeric characters, whitespace characters, "
                              "hyphens, parentheses, and square brackets. The name can't contain more than one "
                              "consecutive whitespace character.")
            src = doc.get("source", {})
            fmt = doc.get("format")
            media = DOC_MEDIA.get(fmt)
            if "bytes" in src and media == "application/pdf":
                out.append({"type": "document", "title": name, "source": {
                    "type": "base64", "media_type": media, "data": _bytes(src["bytes"], w + ".document.source.bytes")}})
            elif "bytes" in src:
                raw = base64.b64decode(_bytes(src["bytes"], w + ".document.source.bytes"))
                out.append({"type": "document", "title": name, "source": {
                    "type": "text", "media_type": "text/plain", "data": raw.decode("utf-8", "replace")}})
            elif "text" in src:
                out.append({"type": "document", "title": name, "source": {
                    "type": "text", "media_type": "text/plain", "data": src["text"]}})
            else:
                raise invalid(f"{w}.document.source: unsupported source")
        elif "toolUse" in b:
            tu = b["toolUse"]
            out.append({"type": "tool_use", "id": tu["toolUseId"], "name": tu["name"], "input": tu.get("input", {})})
        elif "toolResult" in b:
            tr = b["toolResult"]
            inner = []
            for k, c in enumerate(tr.get("content", [])):
                if "text" in c:
                    inner.append({"type": "text", "text": c["text"]})
                elif "json" in c:
                    inner.append({"type": "text", "text": json.dumps(c["json"])})
                elif "image" in c:
                    inner.extend(_content([c], f"{w}.toolResult.content"))
                elif "document" in c:
                    inner.extend(_content([c], f"{w}.toolResult.content"))
            block = {"type": "tool_result", "tool_use_id": tr["toolUseId"], "content": inner}
            if tr.get("status") == "error":
                block["is_error"] = True
            out.append(block)
        elif "reasoningContent" in b:
            rc = b["reasoningContent"]
            if "reasoningText" in rc:
                rt = rc["reasoningText"]
                out.append({"type": "thinking", "thinking": rt.get("text", ""), "signature": rt.get("signature", "")})
            elif "redactedContent" in rc:
                out.append({"type": "redacted_thinking", "data": rc["redactedContent"]})
        else:
            kind = next(iter(b), "?")
            raise invalid(f"{w}: This model doesn't support the {kind} content block.")
    return out


def decode(provider: str, params: dict, model: str) -> NeutralRequest:
    msgs = params.get("messages", [])
    if msgs and msgs[0]["role"] != "user":
        raise invalid("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
    for a, b in zip(msgs, msgs[1:]):
        if a["role"] == b["role"]:
            raise invalid("A conversation must alternate between user and assistant roles. Make sure the conversation "
                          "alternates between user and assistant roles and try again.")
    messages = [{"role": m["role"], "content": _content(m.get("content", []), f"messages.{i}.content")}
                for i, m in enumerate(msgs)]
    system = []
    for j, s in enumerate(params.get("system", [])):
        if "text" in s:
            system.append({"type": "text", "text": s["text"]})
        elif "cachePoint" in s:
            _mark_previous(system, s["cachePoint"], f"system.{j}")
    tools, tool_choice = [], None
    tc = params.get("toolConfig")
    if tc:
        for j, t in enumerate(tc.get("tools", [])):
            if "toolSpec" in t:
                spec = t["toolSpec"]
                tools.append({"name": spec["name"], "description": spec.get("description", ""),
                              "input_schema": spec.get("inputSchema", {}).get("json", {"type": "object"})})
            elif "cachePoint" in t:
                _mark_previous(tools, t["cachePoint"], f"toolConfig.tools.{j}")
            elif "systemTool" in t:
                tools.append({"type": t["systemTool"].get("name", "system_tool"), "name": t["systemTool"].get("name")})
        choice = tc.get("toolChoice")
        if choice:
            if "auto" in choice:
                tool_choice = {"type": "auto"}
            elif "any" in choice:
                tool_choice = {"type": "any"}
            elif "tool" in choice:
                tool_choice = {"type": "tool", "name": choice["tool"]["name"]}
    has_tool_blocks = any(b["type"] in ("tool_use", "tool_result") for m in messages for b in m["content"])
    if has_tool_blocks and not tc:
        raise invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    extra = params.get("additionalModelRequestFields") or {}
    if not isinstance(extra, dict):
        raise invalid("additionalModelRequestFields must be an object")
    unknown = sorted(set(extra) - ADDITIONAL_KEYS)
    if unknown:
        message = f"The model returned the following errors: {unknown[0]}: Extra inputs are not permitted"
        # Bedrock hands these fields to the model's own (InvokeModel) body: a field the Anthropic Messages schema
        # does not have, or one Bedrock InvokeModel refuses (profiles/bedrock_invoke.yaml top_level_refused; model
        # and stream, bedrock_invoke.decode_invoke_body), is refused; a Messages field the emulator's codec does
        # not model is beyond what it can judge.
        refused_here = set(profiles.load("bedrock_invoke").get("top_level_refused", [])) | {"model", "stream"}
        if unknown[0] in anthropic_schema.body_fields() and unknown[0] not in refused_here:
            raise gap(message, f"additionalModelRequestFields.{unknown[0]} is an Anthropic Messages field the "
                               "emulator's Converse codec does not model")
        raise invalid(message)
    thinking = extra.get("thinking") or extra.get("reasoning_config") or extra.get("reasoningConfig")
    betas = extra.get("anthropic_beta") or []
    if not isinstance(betas, list):
        raise invalid("The model returned the following errors: anthropic_beta: Input should be a valid list")
    inf = params.get("inferenceConfig") or {}
    output_format = None
    of = (params.get("outputConfig") or {}).get("textFormat")
    if of:
        js = of.get("structure", {}).get("jsonSchema", {})
        try:
            schema = json.loads(js.get("schema", "{}"))
        except ValueError:
            raise invalid("outputConfig.textFormat.structure.jsonSchema.schema: invalid JSON schema string")
        output_format = {"type": "json_schema", "schema": schema}
    return NeutralRequest(provider=provider, model=model, messages=messages, system=system, tools=tools,
                          tool_choice=tool_choice, thinking=thinking, max_tokens=inf.get("maxTokens", 4096),
                          stream=False, betas=list(betas), output_format=output_format,
                          stop_sequences=list(inf.get("stopSequences") or []))


def usage(u: dict) -> dict:
    inp, out = u.get("input_tokens", 0), u.get("output_tokens", 0)
    cr, cw = u.get("cache_read_input_tokens", 0), u.get("cache_creation_input_tokens", 0)
    out_usage = {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out + cr + cw,
                 "cacheReadInputTokens": cr, "cacheWriteInputTokens": cw}
    cc = u.get("cache_creation") or {}
    details = [{"ttl": ttl, "inputTokens": cc.get(key, 0)}
               for ttl, key in (("5m", "ephemeral_5m_input_tokens"), ("1h", "ephemeral_1h_input_tokens")) if cc.get(key)]
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
    content = [c for c in (encode_block(b) for b in reply.content) if c is not None]
    return {"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": STOP.get(reply.stop_reason, "end_turn"),
            "usage": usage(reply.usage), "metrics": {"latencyMs": 40}}


def stream_events(reply: Reply, split_text, split_json) -> list[tuple[str, dict]]:
    out = [("messageStart", {"role": "assistant"})]
    buffer = reply.stream_hints.get("buffer", False)
    idx = 0
    for b in reply.content:
        t = b["type"]
        if t == "text":
            for piece in split_text(b["text"], buffer):
                out.append(("contentBlockDelta", {"contentBlockIndex": idx, "delta": {"text": piece}}))
        elif t == "thinking":
            for piece in split_text(b["thinking"], buffer):
                out.append(("contentBlockDelta", {"contentBlockIndex": idx, "delta": {"reasoningContent": {"text": piece}}}))
            out.append(("contentBlockDelta", {"contentBlockIndex": idx,
                                              "delta": {"reasoningContent": {"signature": b["signature"]}}}))
        elif t == "tool_use":
            out.append(("contentBlockStart", {"contentBlockIndex": idx,
                                              "start": {"toolUse": {"toolUseId": b["id"], "name": b["name"]}}}))
            raw = json.dumps(b.get("input", {}), separators=(",", ":"))
            for piece in split_json(raw, buffer):
                out.append(("contentBlockDelta", {"contentBlockIndex": idx, "delta": {"toolUse": {"input": piece}}}))
        else:
            continue
        out.append(("contentBlockStop", {"contentBlockIndex": idx}))
        idx += 1
    out.append(("messageStop", {"stopReason": STOP.get(reply.stop_reason, "end_turn")}))
    out.append(("metadata", {"usage": usage(reply.usage), "metrics": {"latencyMs": 40}}))
    return out
