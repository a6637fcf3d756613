"""LiteLLM deployment for Bedrock Converse: `bedrock/converse/<model id>` (the `converse/` prefix pins the API)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from providers._aws import aws_params, hostnames  # noqa: F401 - hostnames: where the gateway reaches Bedrock


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    return {"model": f"bedrock/converse/{model}", **aws_params(settings, emulator_url)}
