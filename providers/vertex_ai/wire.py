"""What Vertex AI receives, in the universal form: an Anthropic Messages body at
`.../publishers/anthropic/models/{model}:rawPredict` or `:streamRawPredict` — the model and the stream flag in
the URL (LiteLLM keeps `stream` in the body too), `anthropic_version: vertex-2023-10-16` in the body, betas in the
`anthropic-beta` header; `.../models/count-tokens:rawPredict` names the model in the body."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from providers._wire import messages
from providers._wire.capture import header, json_object, split_betas, split_path
from providers._wire.universal import Envelope, UniversalRequest

from . import PROVIDER

PATH = re.compile(r"/models/(?P<model>[^/:]+):(?P<op>streamRawPredict|rawPredict)$")


def decode(capture: dict[str, Any]) -> UniversalRequest:
    body = json_object(capture)
    headers = capture.get("headers")
    m = PATH.search(split_path(capture)[0])
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
        format=PROVIDER.id,
        endpoint="count_tokens" if counting else "rawPredict",
        stream=stream,
        model=model or body.get("model"),
        model_location="url" if model else ("body" if body.get("model") else None),
        stream_location=loc,
        api_version=body.get("anthropic_version") or header(headers, "anthropic-version"),
    )
    betas = split_betas(header(headers, "anthropic-beta"))
    u = messages.decode_body({k: v for k, v in body.items() if k not in ("model", "stream")}, env, betas)
    if "stream" in body and url_stream is not None and bool(body["stream"]) != url_stream:
        u.unmapped["stream"] = body["stream"]  # body and URL disagree: keep it visible
    if model and body.get("model"):
        u.unmapped["model"] = body["model"]
    return u


def request_kind(path: str) -> str | None:
    m = PATH.search(path)
    if not m:
        return None
    return "count_tokens" if m.group("model").startswith("count-tokens") else "message"


def same_model(model_id: str) -> set[str]:
    """Ids this provider's requests may name the model by: count-tokens bodies name it without `@<date>`."""
    return {model_id, model_id.split("@", 1)[0]}
