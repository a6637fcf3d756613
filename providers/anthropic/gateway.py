"""LiteLLM deployment for Anthropic: `anthropic/<model>` with an API key (docs.litellm.ai/docs/providers/anthropic).

Production has no `api_base`: LiteLLM calls https://api.anthropic.com (BerriAI/litellm
tests/e2e/claude_code/test_config.yaml writes its Anthropic deployments the same way)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from providers.base import direct, env_reference

HOST = "api.anthropic.com"


def hostnames(settings: Any) -> tuple[str, ...]:
    return (HOST,)


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    if emulator_url is None:
        return {"model": f"anthropic/{model}", "api_key": env_reference("anthropic_api_key")}
    from providers.anthropic import credentials

    if direct(emulator_url):
        return {"model": f"anthropic/{model}", "api_base": str(emulator_url), "api_key": credentials.API_KEY}
    return {"model": f"anthropic/{model}", "api_key": credentials.API_KEY}
