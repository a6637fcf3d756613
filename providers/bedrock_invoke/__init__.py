"""Amazon Bedrock, InvokeModel / InvokeModelWithResponseStream (the Anthropic body inside AWS framing)."""
from __future__ import annotations

from providers import _aws
from providers.base import Provider


class BedrockInvoke(Provider):
    id = "bedrock_invoke"
    name = "Bedrock (Invoke)"
    wire = "messages"
    message_operations = frozenset({"invoke", "invoke_stream"})
    streaming_operations = frozenset({"invoke_stream"})
    secret_settings = _aws.SECRET_SETTINGS
    model_id_shape = "bedrock"
    real_requires = _aws.REAL_REQUIRES
    model_table_kind = "bedrock"
    alias_kind = "gateway"
    domains = (r"\.amazonaws\.com$", r"\.api\.aws$")   # bedrock-runtime.<r>.amazonaws.com, bedrock-mantle.<r>.api.aws


PROVIDER = BedrockInvoke()
