"""LiteLLM deployment for Azure AI Foundry: `azure_ai/<model>` with the resource URL and key."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    if emulator_url is None:
        return {"model": f"azure_ai/{model}", "api_base": settings.azure_api_base,
                "api_key": settings.azure_api_key.get_secret_value()}
    from providers.azure import credentials

    return {"model": f"azure_ai/{model}", "api_base": emulator_url, "api_key": credentials.API_KEY}
