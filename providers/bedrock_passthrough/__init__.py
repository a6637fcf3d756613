"""Amazon Bedrock through the gateway's pass-through route: the CLI in its native Bedrock mode
(`CLAUDE_CODE_USE_BEDROCK=1`) sends InvokeModel requests to the gateway's `/bedrock` route, which forwards them to
Bedrock with its own AWS credentials. The provider API at the far end is the one providers/bedrock_invoke emulates:
this package reuses its dialect and wire, and declares only what differs — the client mode (`client.py`) and the
gateway's deployment for the pass-through route (`gateway.py`)."""
from __future__ import annotations

from providers import _aws
from providers.base import Provider
from providers.bedrock_invoke import PROVIDER as INVOKE


class BedrockPassthrough(Provider):
    id = "bedrock_passthrough"
    name = "Bedrock (pass-through)"
    wire = "messages"
    message_operations = INVOKE.message_operations
    streaming_operations = INVOKE.streaming_operations
    secret_settings = _aws.SECRET_SETTINGS
    model_id_shape = "bedrock"
    real_requires = _aws.REAL_REQUIRES
    model_table_kind = "bedrock"
    alias_kind = "bedrock"  # the CLI's native mode


PROVIDER = BedrockPassthrough()
