"""The CLI in its native Vertex AI mode, pointed at the gateway's Vertex pass-through route.

The mode is Claude Code's own (`CLAUDE_CODE_USE_VERTEX=1`, `ANTHROPIC_VERTEX_BASE_URL=<gateway>/vertex_ai/v1`,
`CLAUDE_CODE_SKIP_VERTEX_AUTH=1`: the gateway holds the Google credentials, the CLI mints no token), as the CLI's
LLM gateway page documents it for LiteLLM (code.claude.com/docs/en/llm-gateway). The `/v1` is the API version the
CLI's Vertex SDK carries in its default base URL only. The project and region only let the CLI build its URL: the
gateway replaces both with its deployment's (the project here is deliberately not the provider's, so a request that
reaches the provider with it was not resolved by the gateway — as in BerriAI/litellm
tests/e2e/claude_code/_passthrough.py). The gateway's key goes as `ANTHROPIC_AUTH_TOKEN` (`Authorization: Bearer`),
the way that page and LiteLLM's own Claude Code suite send it.

What the CLI then sends — `POST /vertex_ai/v1/projects/<p>/locations/<r>/publishers/anthropic/models/<model>:
streamRawPredict` with an Anthropic body (anthropic_version vertex-2023-10-16, no model), betas in the header —
is Vertex AI's own wire: decoded by providers/vertex_ai/wire.py.
"""
from __future__ import annotations

from providers.vertex_ai import wire

ENV_VARS = frozenset({"CLAUDE_CODE_USE_VERTEX", "ANTHROPIC_VERTEX_BASE_URL", "ANTHROPIC_VERTEX_PROJECT_ID",
                      "CLOUD_ML_REGION", "CLAUDE_CODE_SKIP_VERTEX_AUTH", "ANTHROPIC_AUTH_TOKEN"})
CLIENT_PROJECT = "gateway-resolves-the-project"
CLIENT_REGION = "us-east5"


def env(gateway_url: str, gateway_key: str) -> dict[str, str]:
    return {
        "CLAUDE_CODE_USE_VERTEX": "1",
        "ANTHROPIC_VERTEX_BASE_URL": f"{gateway_url.rstrip('/')}/vertex_ai/v1",
        "ANTHROPIC_VERTEX_PROJECT_ID": CLIENT_PROJECT,
        "CLOUD_ML_REGION": CLIENT_REGION,
        "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1",
        "ANTHROPIC_AUTH_TOKEN": gateway_key,
    }


decode = wire.decode  # the model and verb are found at the end of the path, whatever precedes /v1
request_kind = wire.request_kind
