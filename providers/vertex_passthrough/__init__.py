"""Google Vertex AI through the gateway's pass-through route: the CLI in its native Vertex mode
(`CLAUDE_CODE_USE_VERTEX=1`) sends rawPredict / streamRawPredict requests to the gateway's `/vertex_ai` route, which
forwards them to Vertex AI with its own Google credentials. The provider API at the far end is the one
providers/vertex_ai emulates: this package reuses its dialect, wire and credentials, and declares only what
differs — the client mode (`client.py`) and the gateway's deployment for the pass-through route (`gateway.py`)."""
from __future__ import annotations

from providers.base import Provider
from providers.vertex_ai import PROVIDER as VERTEX


class VertexPassthrough(Provider):
    id = "vertex_passthrough"
    name = "Vertex AI (pass-through)"
    wire = "messages"
    message_operations = VERTEX.message_operations
    streaming_operations = VERTEX.streaming_operations
    secret_settings = VERTEX.secret_settings
    model_id_shape = "vertex"
    real_requires = VERTEX.real_requires
    model_table_kind = "vertex"
    alias_kind = "vertex"  # the CLI's native mode


PROVIDER = VertexPassthrough()
