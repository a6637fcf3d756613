"""Compatibility name, to be removed: the emulator decides from the universal request
(providers/_wire/universal.py). `NeutralRequest(provider=..., model=..., messages=[...])` builds one from Messages
fields; kept only for tests/unit/checks/test_media_cache_helpers.py, which predates the universal model."""
from __future__ import annotations

from providers._wire import messages as codec
from providers._wire.universal import Envelope, UniversalRequest


def NeutralRequest(provider: str, model: str, messages: list, **fields) -> UniversalRequest:  # noqa: N802
    body = {"model": model, "messages": messages, **fields}
    return codec.decode_body(body, Envelope(format=provider, model=model), [])
