"""LiteLLM deployment for Azure AI Foundry: `azure_ai/<model>` with the resource URL and key.

Users set `api_base` to their resource's Anthropic endpoint, `https://<resource>.services.ai.azure.com/anthropic`
(docs.litellm.ai/docs/providers/azure/azure_anthropic; BerriAI/litellm tests/e2e/claude_code/test_config.yaml reads
it from AZURE_AI_API_BASE); LiteLLM posts to `<api_base>/v1/messages` (litellm/llms/azure_ai/anthropic/
messages_transformation.py: get_complete_url). The emulated column is a resource of that shape."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from providers.base import direct, env_reference


def hostnames(settings: Any) -> tuple[str, ...]:
    from providers.azure import credentials

    return (urlsplit(credentials.API_BASE).hostname,)


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    if emulator_url is None:
        return {"model": f"azure_ai/{model}", "api_base": settings.azure_api_base,
                "api_key": env_reference("azure_api_key")}
    from providers.azure import credentials

    api_base = str(emulator_url) if direct(emulator_url) else credentials.API_BASE
    return {"model": f"azure_ai/{model}", "api_base": api_base, "api_key": credentials.API_KEY}
