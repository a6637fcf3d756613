"""LiteLLM deployment for Bedrock Invoke: `bedrock/invoke/<model id>` (the `invoke/` prefix pins the API).

Which Bedrock API a deployment's name selects on `/v1/messages` (what Claude Code calls), read in the releases we
test — LiteLLM 1.83.14, 1.91.1, 1.106.2 (line numbers in that order):

- The messages handler asks `ProviderConfigManager.get_provider_anthropic_messages_config` for a native config
  (litellm/llms/anthropic/experimental_pass_through/messages/handler.py:397, :455; 1.106.2:
  litellm/llms/anthropic/pass_through/messages/handler.py:536) and falls back to the chat-completions adapter
  (`LiteLLMMessagesToCompletionTransformationHandler`, :430, :489, :581) when there is none. For Bedrock that config
  is `BedrockModelInfo.get_bedrock_provider_config_for_messages_api(model)` (litellm/utils.py:8417, :7918, :9181;
  litellm/llms/bedrock/common_utils.py:806, :1057, :1588), with `model` the name after `bedrock/`:
  - `converse/` in it → None (`_explicit_converse_route`, common_utils.py:819, :1076, :1607): the adapter →
    `litellm.completion` → Converse (`/model/<id>/converse[-stream]`);
  - else `"claude" in model` (common_utils.py:836, :1093, :1624) → `AmazonAnthropicClaudeMessagesConfig`:
    InvokeModel (`/model/<id>/invoke`, `/invoke-with-response-stream`), the Anthropic body passed on natively.
  So `bedrock/invoke/<claude id>` and a plain `bedrock/<claude id>` (how LiteLLM's own Claude Code suite,
  tests/e2e/claude_code/test_config.yaml, names its Invoke deployments) both select InvokeModel on /v1/messages in
  all three releases (checked through the gateway at 1.83.14 and 1.106.2: the plain name reached
  `/model/<id>/invoke`), and `bedrock/converse/<id>` selects Converse.
- Off /v1/messages the plain name means something else: `/chat/completions` picks the API with
  `BedrockModelInfo.get_bedrock_route` (common_utils.py:689, :892, :1417) — the `invoke/` and `converse/` prefixes
  first, then "converse" when the base model is in `litellm.bedrock_converse_models` (common_utils.py:742, :951,
  :1480), which lists the Claude 4.5 ids (BEDROCK_CONVERSE_MODELS, litellm/constants.py:1118, :1113, :1414) — so a
  plain `bedrock/<claude id>` is Invoke on /v1/messages but Converse on /chat/completions.
- /v1/messages/count_tokens does not follow the name: Bedrock CountTokens gets `invokeModel` or `converse` input
  chosen from the request's shape (litellm/llms/bedrock/count_tokens/transformation.py, `_detect_input_type`).

The columns keep their explicit `bedrock/invoke/` and `bedrock/converse/` prefixes: a column stays the API it names,
whatever a release makes of an unprefixed name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from providers._aws import aws_params, hostnames  # noqa: F401 - hostnames: where the gateway reaches Bedrock


def entry(model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
    return {"model": f"bedrock/invoke/{model}", **aws_params(settings, emulator_url)}
