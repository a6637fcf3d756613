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
from urllib.parse import unquote

from providers._wire import converse, messages
from providers._wire.capture import DecodeError, header, json_object, parse_body, split_betas, split_path
from providers._wire.universal import Envelope, UniversalRequest

DIALECTS = ("anthropic", "azure", "bedrock_invoke", "bedrock_converse", "vertex_ai")
ANTHROPIC_BODY_DIALECTS = ("anthropic", "azure", "bedrock_invoke", "vertex_ai")

__all__ = ["DecodeError", "decode", "decode_bedrock_count_tokens", "parse_body", "split_path"]


# --------------------------------------------------------------------------------------------------- envelopes

_BEDROCK_PATH = re.compile(r"^(?:.*?)/model/(?P<model>.+)/(?P<op>invoke-with-response-stream|invoke|converse-stream|converse|count-tokens)/?$")
_VERTEX_PATH = re.compile(r"/models/(?P<model>[^/:]+):(?P<op>streamRawPredict|rawPredict)$")


def _bedrock_path(capture: dict[str, Any]) -> tuple[str | None, str | None]:
    path, _ = split_path(capture)
    m = _BEDROCK_PATH.match(path)
    if not m:
        return None, None
    return unquote(m.group("model")), m.group("op")


def _decode_anthropic_dialect(capture: dict[str, Any], dialect: str) -> UniversalRequest:
    body = json_object(capture)
    headers = capture.get("headers")
    betas = split_betas(header(headers, "anthropic-beta"))
    if dialect in ("anthropic", "azure"):
        env = messages.plain_envelope(capture, body, dialect)
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
        u = messages.decode_body({k: v for k, v in body.items() if k not in ("model", "stream")}, env, betas)
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
        u = messages.decode_body({k: v for k, v in body.items() if k not in ("model", "stream")}, env, betas)
        if "stream" in body and url_stream is not None and bool(body["stream"]) != url_stream:
            u.unmapped["stream"] = body["stream"]  # body and URL disagree: keep it visible
        if model and body.get("model"):
            u.unmapped["model"] = body["model"]
        return u
    else:
        raise DecodeError(f"not an Anthropic-body dialect: {dialect}")
    return messages.decode_body(body, env, betas)


# --------------------------------------------------------------------------------------------------- Converse


def _decode_converse(capture: dict[str, Any]) -> UniversalRequest:
    body = json_object(capture)
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
    u = converse.decode_body(body, env)
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
        return messages.decode_body({k: v for k, v in (inner or {}).items() if k not in ("model", "stream")}, env, [])
    if "converse" in inp:
        env = Envelope(format="bedrock_converse", endpoint="count_tokens", model=model, model_location="url" if model else None)
        return converse.decode_body(inp["converse"] or {}, env)
    raise DecodeError("bedrock count-tokens body has neither input.invokeModel nor input.converse")
