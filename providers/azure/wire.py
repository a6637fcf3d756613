"""What Azure AI Foundry receives, in the universal form: the plain Messages envelope under `/anthropic` (the
Anthropic API surface; betas in the `anthropic-beta` header)."""
from __future__ import annotations

from typing import Any

from providers._wire import messages
from providers._wire.universal import UniversalRequest

from . import PROVIDER


def decode(capture: dict[str, Any]) -> UniversalRequest:
    return messages.decode_capture(capture, PROVIDER.id)


def request_kind(path: str) -> str | None:
    return messages.request_kind(path)
