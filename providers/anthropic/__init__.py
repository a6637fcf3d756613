"""Anthropic's Messages API (api.anthropic.com)."""
from __future__ import annotations

from providers.base import Provider


class Anthropic(Provider):
    id = "anthropic"
    name = "Anthropic"
    wire = "messages"
    message_operations = frozenset({"messages"})
    streaming_operations = frozenset()  # streaming is a body flag (`stream: true`), not an operation
    secret_settings = ("anthropic_api_key",)
    real_requires = ("anthropic_api_key",)
    model_table_kind = "first_party"
    alias_kind = "gateway"
    domains = (r"(^|\.)anthropic\.com$",)


PROVIDER = Anthropic()
