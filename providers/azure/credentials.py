"""The emulated Azure AI Foundry resource: where it is (its Anthropic endpoint, as users write it in `api_base`) and
the key it issues (`x-api-key`, `api-key` or a bearer token)."""
from __future__ import annotations

from emulator.errors import EmulatorError
from providers.anthropic.credentials import matches, presented_key

API_KEY = "emulator-azure-key"
RESOURCE = "ccmatrix-emulator"
API_BASE = f"https://{RESOURCE}.services.ai.azure.com/anthropic"


def check(headers) -> None:
    key = presented_key(headers, "x-api-key", "api-key")
    if key is None:
        raise EmulatorError("authentication_error", "Missing credentials: provide x-api-key, api-key or a bearer "
                                                    "token.", 401)
    if not matches(key, API_KEY):
        raise EmulatorError("authentication_error", "Access denied due to invalid subscription key or wrong API "
                            "endpoint. Make sure to provide a valid key for an active subscription and use a correct "
                            "regional API endpoint for your resource.", 401)
