"""The Messages API in the emulator, for every provider whose body is an Anthropic Messages body (the
providers/<id>/emulator.py of those with `wire = "messages"`): validate strictly (the anthropic SDK's schema, the
provider's profile rules), decode with the one Messages codec, answer JSON or SSE."""
from __future__ import annotations

from providers._wire import framing, messages
from providers._wire.universal import Envelope, Reply, UniversalRequest

from . import anthropic_schema, rules
from .dialect import Call, json_response, stream_response
from .errors import invalid


def decode(provider: str, body: dict, *, model: str, betas: list[str], count: bool = False) -> UniversalRequest:
    """Validate an Anthropic-shaped body with the SDK schema and the profile rules; the universal request of it.
    `model` is the Claude API name the provider resolved."""
    if "stream" in body and not isinstance(body["stream"], bool):
        raise invalid("stream: Input should be a valid boolean")
    schema_body = {k: v for k, v in body.items() if k != "stream"}
    rules.check_top_level(provider, schema_body)
    err = anthropic_schema.validate(schema_body, "count_tokens" if count else "messages")
    if err:
        raise invalid(err)
    rules.check_betas(provider, betas)
    envelope = Envelope(format=provider, endpoint="count_tokens" if count else "messages",
                        stream=bool(body.get("stream")), model=model)
    req = messages.decode_body(body, envelope, betas)
    if not req.messages:
        raise invalid("messages: at least one message is required")
    rules.check_request(provider, model, req)
    return req


MALFORMED = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n'
MID_STREAM_ERROR = framing.sse("error", {"type": "error",
                                         "error": {"type": "overloaded_error", "message": "Overloaded"}})


def reply_or_stream(call: Call, reply: Reply, stream: bool):
    """Encode a Reply as Messages JSON or SSE."""
    if not stream:
        return json_response(call, messages.reply_json(reply), summary=reply.summary())
    frames = [framing.sse(e, d) for e, d in messages.sse_events(reply)]
    return stream_response(call, frames, "text/event-stream; charset=utf-8", summary=reply.summary(),
                           malformed=MALFORMED, headers={"cache-control": "no-cache"}, error_frame=MID_STREAM_ERROR)


def count_reply(call: Call, n: int):
    return json_response(call, {"input_tokens": n}, summary={"input_tokens": n})
