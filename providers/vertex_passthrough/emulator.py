"""The provider at the far end of the pass-through is Vertex AI itself: the emulator serves it with
providers/vertex_ai's dialect (one token exchange, one set of routes, one error shape), re-exported here."""
from providers.vertex_ai.emulator import DIALECT

__all__ = ["DIALECT"]
