"""What Anthropic receives, in the universal form (fidelity's upstream side): the plain Messages envelope, model
and stream in the body, the API version and betas in headers."""
from __future__ import annotations

from typing import Any

from providers._wire import messages
from providers._wire.universal import UniversalRequest

from . import PROVIDER


def decode(capture: dict[str, Any]) -> UniversalRequest:
    return messages.decode_capture(capture, PROVIDER.id)


def request_kind(path: str) -> str | None:
    return messages.request_kind(path)
