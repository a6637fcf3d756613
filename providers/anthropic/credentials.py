"""The API key the emulated Anthropic API issues, and how a request presents it."""
from __future__ import annotations

import hmac

from emulator.errors import EmulatorError

API_KEY = "emulator-anthropic-key"


def presented_key(headers, *names: str) -> str | None:
    """The key a request presents in the first of `names` it carries, else as `Authorization: Bearer` (the SDK
    >= 2.x sends the API key as a bearer token)."""
    key = next((headers.get(n) for n in names if headers.get(n) is not None), None)
    auth = headers.get("authorization", "")
    if key is None and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    return key


def matches(key: str, issued: str) -> bool:
    return hmac.compare_digest(key.encode(), issued.encode())


def check(headers) -> None:
    key = presented_key(headers, "x-api-key")
    if key is None:
        raise EmulatorError("authentication_error", "x-api-key header is required", 401)
    if not matches(key, API_KEY):
        raise EmulatorError("authentication_error", "invalid x-api-key", 401)
