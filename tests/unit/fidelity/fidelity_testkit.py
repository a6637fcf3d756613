"""Test helpers: a Claude-Code-like client request and hand translations of it into each provider's wire format
(shaped like what LiteLLM 1.106.2 was observed to send). Test-only; the package itself has no encoders."""
from __future__ import annotations

import base64
import copy
import json
from typing import Any
from urllib.parse import quote

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d"
    "0000000049454e44ae426082")).decode()
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").decode()

CLI_BETAS = ("claude-code-20250219,interleaved-thinking-2025-05-14,thinking-token-count-2026-05-13,"
             "context-management-2025-06-27,prompt-caching-scope-2026-01-05")
BILLING = "x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;"

MODELS = {
    "anthropic": "claude-sonnet-4-5-20250929",
    "bedrock_invoke": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "bedrock_converse": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "vertex_ai": "claude-sonnet-4-5@20250929",
    "azure": "claude-sonnet-4-5",
}


def tool(name: str, n_props: int = 3) -> dict[str, Any]:
    props = {f"p{i}": {"type": "string", "description": f"{name} parameter {i}"} for i in range(n_props)}
    props["opt"] = {"type": "array", "items": {"type": "object", "properties": {"k": {"enum": ["a", "b"]}}}}
    return {
        "name": name,
        "description": f"The {name} tool. " * 20,
        "input_schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": props,
            "required": ["p0"],
            "additionalProperties": False,
        },
    }


TOOL_NAMES = ["Agent", "Bash", "Edit", "Glob", "Grep", "Read", "Write", "NotebookEdit", "WebFetch", "WebSearch",
              "TaskCreate", "TaskGet", "TaskList", "TaskUpdate", "TaskOutput", "TaskStop", "Skill", "SendMessage",
              "CronCreate", "CronDelete", "CronList", "EnterWorktree", "ExitWorktree", "ScheduleWakeup"]


def cli_body(*, ttl: str | None = None, media: bool = False, second_turn: bool = False, model: str = "claude-sonnet-4-5-x") -> dict[str, Any]:
    cc: dict[str, Any] = {"type": "ephemeral"}
    if ttl:
        cc["ttl"] = ttl
    first_user: list[dict[str, Any]] = [
        {"type": "text", "text": "<system-reminder>\nAvailable agent types...\n</system-reminder>"},
        {"type": "text", "text": "<system-reminder>\nThe following skills are available...\n</system-reminder>"},
        {"type": "text", "text": "<system-reminder>\nAs you answer the user's questions, you can use...\n</system-reminder>"},
    ]
    if media:
        first_user += [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "document", "title": "report.pdf", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}},
        ]
    messages: list[dict[str, Any]] = [{"role": "user", "content": [*first_user, {"type": "text", "text": "Say hi"}]}]
    if second_turn:
        messages += [
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should run echo.", "signature": "c2lnbmF0dXJlLTEyMw=="},
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "echo pong", "description": "echo"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": [{"type": "text", "text": "pong"}]},
                {"type": "text", "text": "continue"},
            ]},
        ]
    messages[-1]["content"][-1]["cache_control"] = dict(cc)
    return {
        "model": model,
        "messages": messages,
        "system": [
            {"type": "text", "text": BILLING},
            {"type": "text", "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK.", "cache_control": dict(cc)},
            {"type": "text", "text": "\nYou are an interactive agent that helps users with software engineering tasks. " * 200, "cache_control": dict(cc)},
        ],
        "tools": [tool(n) for n in TOOL_NAMES],
        "metadata": {"user_id": json.dumps({"device_id": "d" * 64, "account_uuid": "", "session_id": "s-1"})},
        "max_tokens": 32000,
        "thinking": {"type": "enabled", "budget_tokens": 31999},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "stream": True,
    }


def client_capture(body: dict[str, Any], betas: str = CLI_BETAS) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/v1/messages",
        "query": "beta=true",
        "headers": {"anthropic-beta": betas, "anthropic-version": "2023-06-01", "x-api-key": "***", "x-app": "cli"},
        "body": body,
    }


BETA_KEEP = {
    # what LiteLLM 1.106.2 forwarded, per provider, of the CLI's betas
    "anthropic": None,  # all
    "bedrock_invoke": {"context-management-2025-06-27", "effort-2025-11-24", "context-1m-2025-08-07"},
    "bedrock_converse": {"effort-2025-11-24", "context-1m-2025-08-07"},
    "vertex_ai": {"context-management-2025-06-27", "interleaved-thinking-2025-05-14", "context-1m-2025-08-07"},
    "azure": {"context-management-2025-06-27"},
}


def _betas(capture: dict[str, Any], provider: str) -> list[str]:
    betas = [b.strip() for b in capture["headers"].get("anthropic-beta", "").split(",") if b.strip()]
    keep = BETA_KEEP[provider]
    return betas if keep is None else [b for b in betas if b in keep]


def _strip_billing(body: dict[str, Any]) -> None:
    body["system"] = [s for s in body.get("system", []) if not s.get("text", "").startswith("x-anthropic-billing-header:")]


def to_upstream(capture: dict[str, Any], provider: str) -> dict[str, Any]:
    """The upstream capture LiteLLM would produce for this client capture (by-design differences only)."""
    body = copy.deepcopy(capture["body"])
    model = MODELS[provider]
    stream = bool(body.get("stream"))
    betas = _betas(capture, provider)
    if provider == "anthropic":
        body["model"] = model
        return {"method": "POST", "path": "/v1/messages", "query": "", "body": body,
                "headers": {"anthropic-beta": ",".join(betas), "anthropic-version": "2023-06-01", "x-api-key": "***"}}
    if provider == "azure":
        body["model"] = model
        _strip_billing(body)
        return {"method": "POST", "path": "/anthropic/v1/messages", "query": "", "body": body,
                "headers": {"anthropic-beta": ",".join(betas), "anthropic-version": "2023-06-01", "x-api-key": "***"}}
    if provider == "bedrock_invoke":
        body.pop("model"), body.pop("stream", None)
        _strip_billing(body)
        cm = body.get("context_management")
        if cm:
            edits = [e for e in cm.get("edits", []) if e.get("type") != "clear_thinking_20251015"]
            if edits:
                cm["edits"] = edits
            else:
                body.pop("context_management")
        body["anthropic_version"] = "bedrock-2023-05-31"
        body["anthropic_beta"] = betas
        op = "invoke-with-response-stream" if stream else "invoke"
        return {"method": "POST", "path": f"/model/{model}/{op}", "query": "", "body": body,
                "headers": {"anthropic-beta": ",".join(betas), "authorization": "***"}}
    if provider == "vertex_ai":
        body.pop("model")
        _strip_billing(body)
        body["anthropic_version"] = "vertex-2023-10-16"
        op = "streamRawPredict" if stream else "rawPredict"
        return {"method": "POST", "path": f"/v1/projects/p/locations/us-east5/publishers/anthropic/models/{model}:{op}",
                "query": "alt=sse" if stream else "", "body": body,
                "headers": {"anthropic-beta": ",".join(betas), "authorization": "***"}}
    if provider == "bedrock_converse":
        cbody = anthropic_to_converse(body, betas=betas)
        op = "converse-stream" if stream else "converse"
        return {"method": "POST", "path": f"/model/{quote(model, safe='')}/{op}", "query": "", "body": cbody,
                "headers": {"authorization": "***"}}
    raise ValueError(provider)


# ------------------------------------------------------------------------------------------ Anthropic → Converse

_FMT = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp", "application/pdf": "pdf",
        "text/plain": "txt"}


def _cache_point(cc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not cc:
        return []
    cp: dict[str, Any] = {"type": "default"}
    if cc.get("ttl"):
        cp["ttl"] = cc["ttl"]
    return [{"cachePoint": cp}]


def _converse_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    out: list[dict[str, Any]] = []
    for b in content:
        t = b.get("type")
        if t == "text":
            out.append({"text": b["text"]})
        elif t == "image":
            out.append({"image": {"format": _FMT[b["source"]["media_type"]], "source": {"bytes": b["source"]["data"]}}})
        elif t == "document":
            src = b["source"]
            doc: dict[str, Any] = {"format": _FMT[src["media_type"]], "name": b.get("title") or "document"}
            doc["source"] = {"bytes": src["data"]} if src["type"] == "base64" else {"text": src["data"]}
            out.append({"document": doc})
        elif t == "tool_use":
            out.append({"toolUse": {"toolUseId": b["id"], "name": b["name"], "input": b.get("input") or {}}})
        elif t == "tool_result":
            inner = b.get("content") or []
            blocks = _converse_blocks(inner) if inner else []
            tr: dict[str, Any] = {"toolUseId": b["tool_use_id"], "content": blocks}
            if b.get("is_error"):
                tr["status"] = "error"
            out.append({"toolResult": tr})
        elif t == "thinking":
            out.append({"reasoningContent": {"reasoningText": {"text": b["thinking"], "signature": b.get("signature")}}})
        elif t == "redacted_thinking":
            out.append({"reasoningContent": {"redactedContent": b["data"]}})
        else:
            raise ValueError(f"no Converse form for {t}")
        out += _cache_point(b.get("cache_control"))
    return out


def anthropic_to_converse(body: dict[str, Any], betas: list[str] | None = None) -> dict[str, Any]:
    """A small hand translator, Anthropic Messages body → Converse body (test-only)."""
    out: dict[str, Any] = {"messages": []}
    for m in body.get("messages", []):
        out["messages"].append({"role": m["role"], "content": _converse_blocks(m["content"])})
    if body.get("system"):
        sysb = body["system"]
        out["system"] = [{"text": sysb}] if isinstance(sysb, str) else _converse_blocks(sysb)
    inf: dict[str, Any] = {}
    for a, c in (("max_tokens", "maxTokens"), ("temperature", "temperature"), ("top_p", "topP"), ("stop_sequences", "stopSequences")):
        if body.get(a) is not None:
            inf[c] = body[a]
    if inf:
        out["inferenceConfig"] = inf
    amrf: dict[str, Any] = {}
    if body.get("thinking"):
        amrf["thinking"] = body["thinking"]
    if body.get("top_k") is not None:
        amrf["top_k"] = body["top_k"]
    if betas:
        amrf["anthropic_beta"] = betas
    if amrf:
        out["additionalModelRequestFields"] = amrf
    if body.get("tools"):
        tools = []
        for t in body["tools"]:
            schema = {k: v for k, v in t["input_schema"].items() if k != "$schema"}
            spec: dict[str, Any] = {"name": t["name"], "inputSchema": {"json": schema}}
            if t.get("description"):
                spec["description"] = t["description"]
            tools.append({"toolSpec": spec})
            tools += _cache_point(t.get("cache_control"))
        tc: dict[str, Any] = {"tools": tools}
        choice = body.get("tool_choice")
        if choice:
            if choice["type"] == "auto":
                tc["toolChoice"] = {"auto": {}}
            elif choice["type"] == "any":
                tc["toolChoice"] = {"any": {}}
            elif choice["type"] == "tool":
                tc["toolChoice"] = {"tool": {"name": choice["name"]}}
            # "none" has no Converse form: left out
        out["toolConfig"] = tc
    return out
