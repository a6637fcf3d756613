"""Prompt caching (5m TTL): turn 1 creates the cache, turn 2 reads it; the upstream saw the markers."""
from __future__ import annotations

from worker.checks._caching import PromptCaching


class PromptCaching5m(PromptCaching):
    ttl = "5m"


CHECK = PromptCaching5m()
