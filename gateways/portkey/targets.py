"""Portkey gateway configs (the `x-portkey-config` header) for the emulated columns, written as a production user
writes them: provider and credentials only, no `custom_host` — Portkey then calls the providers' real hostnames,
which the sandbox leads to the emulator (README "Production-shaped routing"). Config keys are Portkey's
(snake_case; its config schema in build/start-server.js: provider, api_key, aws_access_key_id,
aws_secret_access_key, aws_region, vertex_project_id, vertex_region, vertex_service_account_json,
azure_foundry_url, forward_headers, request_timeout, ...)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def target(route: str, secrets_dir: Path) -> dict[str, Any]:
    if route == "anthropic":
        from providers.anthropic import credentials

        return {"provider": "anthropic", "api_key": credentials.API_KEY}
    if route == "bedrock_converse":
        from providers import _aws

        return {"provider": "bedrock", "aws_access_key_id": _aws.AWS_ACCESS_KEY_ID,
                "aws_secret_access_key": _aws.AWS_SECRET_ACCESS_KEY, "aws_region": _aws.AWS_REGION}
    if route == "vertex_ai":
        from providers.vertex_ai import credentials

        account = json.loads(credentials.service_account(secrets_dir).read_text())
        return {"provider": "vertex-ai", "vertex_project_id": credentials.PROJECT,
                "vertex_region": credentials.LOCATION, "vertex_service_account_json": account}
    if route == "azure":
        from providers.azure import credentials

        return {"provider": "azure-ai", "api_key": credentials.API_KEY, "azure_foundry_url": credentials.API_BASE}
    raise ValueError(f"portkey has no route for {route!r}")


def model_name(route: str, model: str) -> str:
    """The model the CLI asks Portkey for: the provider's own id (Portkey's Claude Code guide sets ANTHROPIC_MODEL to
    it), with the publisher prefix Portkey's Vertex route reads the publisher from (`anthropic.<id>@<date>`)."""
    return f"anthropic.{model}" if route == "vertex_ai" else model
