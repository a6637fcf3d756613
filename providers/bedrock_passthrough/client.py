"""The CLI in its native Bedrock mode, pointed at the gateway's Bedrock pass-through route.

The mode is Claude Code's own (`CLAUDE_CODE_USE_BEDROCK=1`, `ANTHROPIC_BEDROCK_BASE_URL=<gateway>/bedrock`,
`CLAUDE_CODE_SKIP_BEDROCK_AUTH=1`: the gateway holds the AWS credentials, the CLI signs nothing), as the CLI's LLM
gateway page documents it for LiteLLM (code.claude.com/docs/en/llm-gateway). `AWS_REGION` only satisfies the CLI's
AWS SDK, which builds no client without one; the gateway signs with its own region. The gateway's key goes as
`ANTHROPIC_AUTH_TOKEN` (`Authorization: Bearer`), the way that page and LiteLLM's own Claude Code suite send it
(BerriAI/litellm tests/e2e/claude_code/_passthrough.py, cli_driver.py).

What the CLI then sends — `POST /bedrock/model/<model>/invoke-with-response-stream` with an InvokeModel body
(anthropic_version bedrock-2023-05-31, anthropic_beta in the body, no model, no stream), after a best-effort
`GET /bedrock/inference-profiles` — is Bedrock Invoke's own wire: decoded by providers/bedrock_invoke/wire.py.
"""
from __future__ import annotations

from providers.bedrock_invoke import wire

ENV_VARS = frozenset({"CLAUDE_CODE_USE_BEDROCK", "ANTHROPIC_BEDROCK_BASE_URL", "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
                      "AWS_REGION", "ANTHROPIC_AUTH_TOKEN"})
CLIENT_REGION = "us-east-1"


def env(gateway_url: str, gateway_key: str) -> dict[str, str]:
    return {
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_BEDROCK_BASE_URL": f"{gateway_url.rstrip('/')}/bedrock",
        "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1",
        "AWS_REGION": CLIENT_REGION,
        "ANTHROPIC_AUTH_TOKEN": gateway_key,
    }


decode = wire.decode  # the /bedrock prefix is no part of the envelope: providers/_bedrock/wire.py matches after it
request_kind = wire.request_kind
