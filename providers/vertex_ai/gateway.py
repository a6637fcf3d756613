"""LiteLLM deployment for Vertex AI: `vertex_ai/<model>@<date>` with a service account (docs.litellm.ai/docs/providers/vertex)."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    if emulator_url is None:
        return {"model": f"vertex_ai/{model}", "vertex_project": settings.vertex_project,
                "vertex_location": settings.vertex_location,
                "vertex_credentials": str(settings.vertex_credentials_file)}
    from providers.vertex_ai import credentials

    account = credentials.service_account(secrets_dir, f"{emulator_url}/token")
    return {"model": f"vertex_ai/{model}", "api_base": emulator_url, "vertex_project": credentials.PROJECT,
            "vertex_location": credentials.LOCATION, "vertex_credentials": str(account)}
