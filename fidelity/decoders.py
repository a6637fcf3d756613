"""Decoders: one captured request → the universal request (providers/_wire/universal.py). No encoders.

A capture is ``{"method", "path", "query", "headers", "body"}`` with ``body`` the parsed JSON (a str/bytes body is
parsed here). The client side (what the CLI sent to the gateway) is the plain Anthropic Messages API; the upstream
side is decoded by the provider package that received it (``providers/<id>/wire.py``: its envelope, then the one
codec of its wire format). Whatever a decoder does not understand lands in ``unmapped``, never silently lost.
"""
from __future__ import annotations

from typing import Any

from providers import registry
from providers._wire import messages
from providers._wire.capture import DecodeError, parse_body, split_path
from providers._wire.universal import UniversalRequest

__all__ = ["DecodeError", "decode", "decode_client", "parse_body", "split_path"]


def decode_client(capture: dict[str, Any], provider: str | None = None) -> UniversalRequest:
    """What the client sent: the plain Messages API — or, given the column's provider package, what its client mode
    sends (Provider.decode_client: the CLI in a provider's native mode speaks that provider's wire)."""
    if provider is None:
        return messages.decode_capture(capture, "client")
    try:
        package = registry.get(provider)
    except registry.UnknownProvider as e:
        raise DecodeError(str(e)) from None
    return package.decode_client(capture)


def decode(capture: dict[str, Any], provider: str) -> UniversalRequest:
    """What `provider` (a provider package id) received."""
    try:
        package = registry.get(provider)
    except registry.UnknownProvider as e:
        raise DecodeError(str(e)) from None
    return package.decode(capture)
