"""LiteLLM deployment for Anthropic: `anthropic/<model>` with an API key (docs.litellm.ai/docs/providers/anthropic)."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    if emulator_url is None:
        return {"model": f"anthropic/{model}", "api_key": settings.anthropic_api_key.get_secret_value()}
    from providers.anthropic import credentials

    return {"model": f"anthropic/{model}", "api_base": emulator_url, "api_key": credentials.API_KEY}
