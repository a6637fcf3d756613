"""What Vertex AI receives from the pass-through route: rawPredict requests, decoded by providers/vertex_ai."""
from providers.vertex_ai.wire import decode, request_kind, same_model

__all__ = ["decode", "request_kind", "same_model"]
