"""Amazon Bedrock, Converse / ConverseStream (Bedrock's own message format)."""
from __future__ import annotations

from providers import _aws
from providers.base import Provider


class BedrockConverse(Provider):
    id = "bedrock_converse"
    name = "Bedrock (Converse)"
    wire = "converse"
    message_operations = frozenset({"converse", "converse_stream"})
    streaming_operations = frozenset({"converse_stream"})
    secret_settings = _aws.SECRET_SETTINGS
    model_id_shape = "bedrock"
    real_requires = _aws.REAL_REQUIRES
    model_table_kind = "bedrock"
    alias_kind = "gateway"


PROVIDER = BedrockConverse()
