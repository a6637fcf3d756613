"""LiteLLM deployment behind the Bedrock pass-through route (`/bedrock/model/{model}/{operation}`).

LiteLLM's `/bedrock` route takes the model segment of the path, and when it names a deployment of the config
(`model_name`), forwards the request to that deployment: the path's model becomes the deployment's model id and the
request is SigV4-signed with the deployment's AWS credentials and region (litellm/proxy/pass_through_endpoints/
llm_passthrough_endpoints.py: bedrock_llm_proxy_route → handle_bedrock_passthrough_router_model; litellm/router.py:
_add_deployment_model_to_endpoint_for_llm_passthrough_route; litellm/llms/bedrock/passthrough/transformation.py:
get_complete_url, sign_request). The deployment is written as LiteLLM's pass-through docs and its own Claude Code
suite write it — `bedrock/<model id>`, no API prefix: the client's path picks the operation, and the path's model
is replaced by what follows `bedrock/` (docs.litellm.ai/docs/pass_through/bedrock "Using config.yaml";
BerriAI/litellm tests/e2e/claude_code/test_config.yaml, tests/e2e/claude_code/_passthrough.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from providers._aws import aws_params


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    return {"model": f"bedrock/{model}", **aws_params(settings, emulator_url)}
