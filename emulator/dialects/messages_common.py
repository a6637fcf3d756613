"""Anthropic Messages bodies (anthropic, azure, vertex, bedrock invoke): decode + validate + encode."""
from __future__ import annotations

from .. import anthropic_schema, rules, sse
from ..errors import EmulatorError, invalid
from ..neutral import NeutralRequest, Reply, blocks
from .base import Call, json_response, stream_response


def split_betas(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [b.strip() for b in str(value).split(",") if b.strip()]


def decode(provider: str, body: dict, *, model: str, betas: list[str], count: bool = False) -> NeutralRequest:
    """Validate an Anthropic-shaped body (model already set) with the SDK schema and the profile rules."""
    if "stream" in body and not isinstance(body["stream"], bool):
        raise invalid("stream: Input should be a valid boolean")
    schema_body = {k: v for k, v in body.items() if k != "stream"}
    rules.check_top_level(provider, schema_body)
    err = anthropic_schema.validate(schema_body, "count_tokens" if count else "messages")
    if err:
        raise invalid(err)
    rules.check_betas(provider, betas)
    system = body.get("system") or []
    if isinstance(system, str):
        system = [{"type": "text", "text": system}]
    messages = [{"role": m["role"], "content": blocks(m["content"])} for m in body["messages"]]
    output_format = body.get("output_format")
    oc = body.get("output_config")
    if isinstance(oc, dict) and oc.get("format"):
        output_format = oc["format"]
    req = NeutralRequest(
        provider=provider,
        model=model,
        messages=messages,
        system=list(system),
        tools=list(body.get("tools") or []),
        tool_choice=body.get("tool_choice"),
        thinking=body.get("thinking"),
        max_tokens=body.get("max_tokens", 0),
        stream=bool(body.get("stream")),
        betas=betas,
        output_format=output_format,
        stop_sequences=list(body.get("stop_sequences") or []),
    )
    if not messages:
        raise invalid("messages: at least one message is required")
    if messages[0]["role"] == "assistant" and False:
        pass
    rules.check_request(req, body)
    return req


def reply_or_stream(call: Call, reply: Reply, stream: bool):
    """Encode a Reply as Anthropic JSON or SSE."""
    if not stream:
        return json_response(call, reply.anthropic_json(), neutral=reply.neutral())
    evs = sse.events(reply, buffer=reply.stream_hints.get("buffer", False))
    frames = [sse.encode(e, d) for e, d in evs]
    malformed = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n'
    error = sse.encode("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    return stream_response(call, frames, "text/event-stream; charset=utf-8", neutral=reply.neutral(),
                           malformed=malformed, headers={"cache-control": "no-cache"}, error_frame=error)


def count_reply(call: Call, n: int):
    return json_response(call, {"input_tokens": n}, neutral={"input_tokens": n})


def require(cond: bool, kind: str, message: str, status: int):
    if not cond:
        raise EmulatorError(kind, message, status)
