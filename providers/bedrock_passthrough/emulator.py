"""The provider at the far end of the pass-through is Bedrock InvokeModel itself: the emulator serves it with
providers/bedrock_invoke's dialect (one set of routes, one SigV4 check, one error shape), re-exported here."""
from providers.bedrock_invoke.emulator import DIALECT

__all__ = ["DIALECT"]
