"""LiteLLM deployment for Vertex AI: `vertex_ai/<model>@<date>` with a service account
(docs.litellm.ai/docs/providers/vertex).

Production has no `api_base`: project, location and the service-account file only (BerriAI/litellm
tests/e2e/claude_code/test_config.yaml). LiteLLM then calls https://<location>-aiplatform.googleapis.com
(https://aiplatform.googleapis.com for the `global` location; litellm/llms/vertex_ai/common_utils.py:
get_vertex_base_url) and google-auth exchanges the account's JWT at its `token_uri`,
https://oauth2.googleapis.com/token."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from providers.base import direct

GLOBAL_HOST = "aiplatform.googleapis.com"


def hostnames(settings: Any) -> tuple[str, ...]:
    from providers.vertex_ai import credentials

    return (f"{credentials.LOCATION}-{GLOBAL_HOST}", GLOBAL_HOST, urlsplit(credentials.TOKEN_URI).hostname)


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    if emulator_url is None:
        return {"model": f"vertex_ai/{model}", "vertex_project": settings.vertex_project,
                "vertex_location": settings.vertex_location,
                "vertex_credentials": str(settings.vertex_credentials_file)}
    from providers.vertex_ai import credentials

    params = {"model": f"vertex_ai/{model}", "vertex_project": credentials.PROJECT,
              "vertex_location": credentials.LOCATION}
    if direct(emulator_url):
        account = credentials.service_account(secrets_dir, f"{emulator_url}/token")
        return {**params, "api_base": str(emulator_url), "vertex_credentials": str(account)}
    return {**params, "vertex_credentials": str(credentials.service_account(secrets_dir))}
