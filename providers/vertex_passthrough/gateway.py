"""LiteLLM deployment behind the Vertex AI pass-through route (`/vertex_ai/{endpoint}`).

LiteLLM's `/vertex_ai` route takes the model segment of `.../publishers/anthropic/models/{model}:{verb}`; when it
names a deployment of the config, the path's model becomes the deployment's model id and the project and location
in the path become the deployment's `vertex_project` / `vertex_location` (litellm/proxy/pass_through_endpoints/
llm_passthrough_endpoints.py: _base_vertex_proxy_route, _resolve_vertex_model_from_router). The gateway's Google
credentials for that project and location are registered for the pass-through only by `use_in_pass_through: true`
(litellm/router.py: _initialize_deployment_for_pass_through → passthrough_endpoint_router.add_vertex_credentials);
without it the gateway forwards the caller's own headers (_prepare_vertex_auth_headers) — LiteLLM's own Claude
Code suite sets it on its Vertex deployments for this reason (BerriAI/litellm tests/e2e/claude_code/
test_config.yaml, passthrough/test_vertex_ai.py). The route has no `api_base`: it always calls
`https://{location}-aiplatform.googleapis.com/` (get_vertex_base_url), as production does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from providers.vertex_ai import gateway as vertex


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    """Vertex AI's own deployment (project, location, service account: providers/vertex_ai/gateway.py), registered
    for the pass-through; without `api_base`, which the pass-through route never reads."""
    params = {k: v for k, v in vertex.entry(model, emulator_url, settings, secrets_dir).items() if k != "api_base"}
    return {**params, "use_in_pass_through": True}
