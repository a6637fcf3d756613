"""Azure AI Foundry, Anthropic models, in the emulator: the Anthropic API surface under `/anthropic` with the
resource's key (`x-api-key`, `api-key` or a bearer token)."""
from __future__ import annotations

import re

from emulator.dialect import Call, Op
from providers.anthropic.emulator import AnthropicDialect

from . import PROVIDER, credentials


class AzureDialect(AnthropicDialect):
    provider = PROVIDER.id
    routes = (Op("count_tokens", "POST", "/anthropic/v1/messages/count_tokens"),
              Op("messages", "POST", "/anthropic/v1/messages"))
    claims = re.compile(r"^/anthropic/")

    def authenticate(self, call: Call) -> None:
        credentials.check(call.headers)


DIALECT = AzureDialect()
