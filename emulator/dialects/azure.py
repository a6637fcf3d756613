"""Azure AI Foundry, Anthropic models: POST /anthropic/v1/messages (+ count_tokens)."""
from __future__ import annotations

import hmac

from .. import credentials
from ..errors import EmulatorError
from .anthropic import AnthropicDialect
from .base import Call


class AzureDialect(AnthropicDialect):
    provider = "azure"
    api_key = credentials.AZURE_API_KEY

    def authenticate(self, call: Call) -> None:
        key = call.headers.get("x-api-key") or call.headers.get("api-key")
        auth = call.headers.get("authorization", "")
        if key is None and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if key is None:
            raise EmulatorError("authentication_error", "Missing credentials: provide x-api-key, api-key or a bearer token.", 401)
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise EmulatorError("authentication_error", "Access denied due to invalid subscription key or wrong API "
                                "endpoint. Make sure to provide a valid key for an active subscription and use a "
                                "correct regional API endpoint for your resource.", 401)
