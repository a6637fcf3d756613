"""What Bedrock InvokeModel receives, in the universal form: an Anthropic Messages body without `model` and
`stream` (the URL names both), with `anthropic_version` and `anthropic_beta` in the body; CountTokens through the
runtime's envelope (providers/_bedrock/wire.py), or Anthropic's own count_tokens body at Bedrock Mantle
(providers/_aws.py mantle_host)."""
from __future__ import annotations

import re
from typing import Any

from providers._bedrock import wire as bedrock
from providers._wire import messages
from providers._wire.capture import header, split_path
from providers._wire.universal import Envelope, UniversalRequest

from . import PROVIDER

MANTLE_COUNT_TOKENS = re.compile(r"^/anthropic/v1/messages/count_tokens/?$")
same_model = bedrock.same_model


def request_kind(url_path: str) -> str | None:
    return "count_tokens" if MANTLE_COUNT_TOKENS.match(url_path) else bedrock.request_kind(url_path)


def decode(capture: dict[str, Any]) -> UniversalRequest:
    if MANTLE_COUNT_TOKENS.match(split_path(capture)[0]):
        return messages.decode_capture(capture, PROVIDER.id)
    return bedrock.decode(capture, _decode)


def _decode(capture: dict[str, Any], body: dict[str, Any], model: str | None, op: str | None) -> UniversalRequest:
    headers = capture.get("headers")
    env = Envelope(
        format=PROVIDER.id,
        endpoint="invoke" if op else None,
        stream=(op == "invoke-with-response-stream") if op else bool(body.get("stream")),
        model=model or body.get("model"),
        model_location="url" if model else ("body" if body.get("model") else None),
        stream_location="url" if op else None,
        api_version=body.get("anthropic_version") or header(headers, "anthropic-version"),
    )
    # what the envelope says twice (model in the URL and the body) or should not say (stream): kept visible
    leftover = {"model": body["model"]} if "model" in body and model else {}
    if "stream" in body:
        leftover["stream"] = body["stream"]
    # betas: the body's anthropic_beta only — Bedrock does not read an anthropic-beta header (emulator.py,
    # decode_invoke_body)
    u = messages.decode_body({k: v for k, v in body.items() if k not in ("model", "stream")}, env, [])
    u.unmapped.update(leftover)
    return u
