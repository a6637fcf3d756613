"""Prompt caching (1h TTL): markers reach the upstream with ttl 1h and the usage reports ephemeral_1h tokens."""
from __future__ import annotations

from worker.checks._caching import PromptCaching


class PromptCaching1h(PromptCaching):
    ttl = "1h"


CHECK = PromptCaching1h()
