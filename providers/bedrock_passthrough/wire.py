"""What Bedrock receives from the pass-through route: InvokeModel requests, decoded by providers/bedrock_invoke."""
from providers.bedrock_invoke.wire import decode, request_kind, same_model

__all__ = ["decode", "request_kind", "same_model"]
