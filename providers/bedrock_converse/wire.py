"""What Bedrock Converse receives, in the universal form: a Converse body at `/model/{modelId}/converse[-stream]`
(betas in `additionalModelRequestFields.anthropic_beta`, or a header); CountTokens through the runtime's envelope
(providers/_bedrock/wire.py)."""
from __future__ import annotations

from typing import Any

from providers._bedrock import wire as bedrock
from providers._wire import converse
from providers._wire.capture import header, split_betas
from providers._wire.universal import Envelope, UniversalRequest

from . import PROVIDER

request_kind = bedrock.request_kind
same_model = bedrock.same_model


def decode(capture: dict[str, Any]) -> UniversalRequest:
    return bedrock.decode(capture, _decode)


def _decode(capture: dict[str, Any], body: dict[str, Any], model: str | None, op: str | None) -> UniversalRequest:
    env = Envelope(
        format=PROVIDER.id,
        endpoint="converse" if op else None,
        stream=op == "converse-stream",
        model=model or body.get("modelId"),
        model_location="url" if model else ("body" if body.get("modelId") else None),
        stream_location="url" if op else None,
        api_version=None,
    )
    u = converse.decode_body(body, env)
    hb = split_betas(header(capture.get("headers"), "anthropic-beta"))
    if hb:
        u = u.model_copy(update={"betas": sorted(set(u.betas) | set(hb))})
    return u
