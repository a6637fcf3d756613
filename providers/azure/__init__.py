"""Azure AI Foundry, Anthropic models (`<resource>/anthropic/v1/messages`)."""
from __future__ import annotations

from providers.base import Provider


class Azure(Provider):
    id = "azure"
    name = "Azure AI Foundry"
    wire = "messages"
    message_operations = frozenset({"messages"})
    streaming_operations = frozenset()
    secret_settings = ("azure_api_key",)
    real_requires = ("azure_api_key", "azure_api_base")
    model_table_kind = "foundry"
    alias_kind = "gateway"
    domains = (r"\.azure\.com$",)   # <resource>.services.ai.azure.com, .openai.azure.com


PROVIDER = Azure()
