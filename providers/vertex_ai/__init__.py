"""Google Vertex AI, Anthropic publisher models (rawPredict / streamRawPredict)."""
from __future__ import annotations

from providers.base import Provider


class VertexAI(Provider):
    id = "vertex_ai"
    name = "Vertex AI"
    wire = "messages"
    message_operations = frozenset({"messages", "raw_predict", "stream_raw_predict"})
    streaming_operations = frozenset({"stream_raw_predict"})
    secret_settings = ()  # a credentials FILE: its path is not a secret, its content never leaves the config
    model_id_shape = "vertex"
    real_requires = ("vertex_credentials_file", "vertex_project")
    model_table_kind = "vertex"
    alias_kind = "gateway"
    domains = (r"\.googleapis\.com$",)


PROVIDER = VertexAI()
