"""claude-code-router provider entries (config.json `Providers`) for the emulated columns, production-shaped: the
providers' real URLs (which the sandbox leads to the emulator), the emulator's keys, and the transformer its docs
name for each (README of musistudio/claude-code-router: `transformer.use`)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

NAMES = {"anthropic": "anthropic", "azure": "azure", "vertex_ai": "vertex"}


def provider_name(route: str) -> str:
    return NAMES[route]


def provider_entry(route: str, models: list[str], secrets_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """(the Providers entry, the variables the gateway process needs for it)."""
    if route == "anthropic":
        from providers.anthropic import credentials

        return ({"name": NAMES[route], "api_base_url": "https://api.anthropic.com/v1/messages",
                 "api_key": credentials.API_KEY, "models": models, "transformer": {"use": ["Anthropic"]}}, {})
    if route == "azure":
        from providers.azure import credentials

        return ({"name": NAMES[route], "api_base_url": f"{credentials.API_BASE}/v1/messages",
                 "api_key": credentials.API_KEY, "models": models, "transformer": {"use": ["Anthropic"]}}, {})
    if route == "vertex_ai":
        from providers.vertex_ai import credentials

        account = credentials.service_account(secrets_dir)
        return ({"name": NAMES[route], "api_base_url": f"https://{credentials.LOCATION}-aiplatform.googleapis.com/",
                 # not sent (vertex-claude authenticates with the service account), but required: 2.0.0 skips a
                 # provider whose api_key is empty (initializeFromProvidersArray: `if(!t.name||!t.api_base_url||
                 # !t.api_key)return`), and the route then answers 404 "Provider 'vertex' not found"
                 "api_key": "service-account", "models": models, "transformer": {"use": ["vertex-claude"]}},
                {"GOOGLE_APPLICATION_CREDENTIALS": str(account), "GOOGLE_CLOUD_PROJECT": credentials.PROJECT,
                 "GOOGLE_CLOUD_LOCATION": credentials.LOCATION})
    raise ValueError(f"claude-code-router has no route for {route!r}")
