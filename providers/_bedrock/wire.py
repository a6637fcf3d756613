"""The Bedrock runtime's envelope, as both APIs receive it: `/model/{modelId}/{operation}` (the model id
URL-encoded, the stream chosen by the operation), and CountTokens, whose body wraps an InvokeModel body
(`input.invokeModel.body`, base64 JSON) or a Converse request (`input.converse`)."""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Callable
from urllib.parse import unquote

from providers._wire import converse, messages
from providers._wire.capture import DecodeError, json_object, parse_body, split_path
from providers._wire.universal import Envelope, UniversalRequest
from providers.bedrock_converse import PROVIDER as CONVERSE
from providers.bedrock_invoke import PROVIDER as INVOKE

PATH = re.compile(r"^(?:.*?)/model/(?P<model>.+)/(?P<op>invoke-with-response-stream|invoke|converse-stream|converse|"
                  r"count-tokens)/?$")
# The geography prefix of a cross-region inference profile id (us.anthropic.claude-...).
GEO = re.compile(r"^(?:us|eu|apac|global|jp|au|ca|us-gov)\.")


def path(capture: dict[str, Any]) -> tuple[str | None, str | None]:
    """(model id, operation) from the URL, or (None, None)."""
    m = PATH.match(split_path(capture)[0])
    if not m:
        return None, None
    return unquote(m.group("model")), m.group("op")


def decode(capture: dict[str, Any], api: Callable[[dict, dict, str | None, str | None], UniversalRequest]):
    """A request either API received: CountTokens in the runtime's own envelope, else the API's body, decoded by
    `api(capture, body, model id from the URL, operation)`."""
    model, op = path(capture)
    if op == "count-tokens":
        return decode_count_tokens(capture)
    return api(capture, json_object(capture), model, op)


def request_kind(url_path: str) -> str | None:
    m = PATH.match(url_path)
    if not m:
        return None
    return "count_tokens" if m.group("op") == "count-tokens" else "message"


def same_model(model_id: str) -> set[str]:
    """Ids the provider's requests may name the model by: CountTokens takes the foundation-model id
    (`anthropic.<id>`), not the cross-region inference profile."""
    return {model_id, GEO.sub("", model_id)}


def decode_count_tokens(capture: dict[str, Any]) -> UniversalRequest:
    """CountTokens: ``{"input": {"invokeModel": {"body": <b64 JSON>}} | {"converse": {...}}}``, each input form
    decoded with the codec of the API it belongs to."""
    body = parse_body(capture.get("body"))
    model, _ = path(capture)
    inp = (body or {}).get("input") or {}
    if "invokeModel" in inp:
        inner = (inp["invokeModel"] or {}).get("body")
        if isinstance(inner, str):
            try:
                inner = json.loads(base64.b64decode(inner, validate=True))
            except (binascii.Error, ValueError):
                inner = json.loads(inner)
        env = Envelope(format=INVOKE.id, endpoint="count_tokens", model=model,
                       model_location="url" if model else None, api_version=(inner or {}).get("anthropic_version"))
        return messages.decode_body({k: v for k, v in (inner or {}).items() if k not in ("model", "stream")}, env, [])
    if "converse" in inp:
        env = Envelope(format=CONVERSE.id, endpoint="count_tokens", model=model,
                       model_location="url" if model else None)
        return converse.decode_body(inp["converse"] or {}, env)
    raise DecodeError("bedrock count-tokens body has neither input.invokeModel nor input.converse")
