"""Prompt cache: cache_control / cachePoint prefixes per TTL, per provider+model+content hash, in memory."""
from __future__ import annotations

import hashlib
import math
import time

from . import profiles, tokens
from .errors import invalid

TTL_S = {"5m": 300, "1h": 3600}
MAX_BREAKPOINTS = 4
BILLING_HEADER = "x-anthropic-billing-header:"


def billing_block(req) -> object | None:
    """Claude Code's attribution block: the first system part, a text starting `x-anthropic-billing-header:`."""
    first = req.system[0] if req.system else None
    text = getattr(first, "text", None)
    return first if isinstance(text, str) and text.startswith(BILLING_HEADER) else None


class PromptCache:
    def __init__(self):
        self.entries: dict[tuple, tuple[str, float]] = {}

    def account(self, req, total: int, min_tokens: int, *, provider: str, model: str,
                downgrade_1h: bool = False) -> dict:
        """Usage split {input_tokens, cache_read, cache_creation_5m, cache_creation_1h}; records new prefixes
        (per provider and model: one provider's cache never serves another)."""
        us = tokens.units(req)
        consumed = billing_block(req) if profiles.load(provider).get("billing_header_consumed") else None
        if consumed is not None:  # read by the API, not part of the cached prefix (providers/anthropic/profile.yaml)
            skip = len(req.tools)
            us = us[:skip] + us[skip + 1:]
        bps = []
        h = hashlib.sha256(f"{provider}|{model}".encode())
        size = 0
        for text, marker in us:
            h.update(text.encode() + b"\x1e")
            size += len(text) + 1
            if marker:
                ttl = marker.ttl
                if downgrade_1h and ttl == "1h":
                    ttl = "5m"
                bps.append((h.hexdigest(), math.ceil(size / 4), ttl))
        if len(bps) > MAX_BREAKPOINTS:
            raise invalid(f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(bps)}.")
        seen_5m = False
        for _, _, ttl in bps:
            if ttl == "5m":
                seen_5m = True
            elif ttl == "1h" and seen_5m:
                raise invalid("A `cache_control` block with ttl='1h' must not come after a block with ttl='5m'.")
        now = time.time()
        read = 0
        start = 0
        for k in range(len(bps) - 1, -1, -1):
            key = (bps[k][0],)
            entry = self.entries.get(key)
            if entry and entry[1] > now and bps[k][1] >= min_tokens:
                read = bps[k][1]
                self.entries[key] = (entry[0], now + TTL_S[entry[0]])
                start = k + 1
                break
        created = {"5m": 0, "1h": 0}
        prev = read
        for digest, ntok, ttl in bps[start:]:
            if ntok < min_tokens or ntok <= prev:
                continue
            created[ttl] += ntok - prev
            prev = ntok
            self.entries[(digest,)] = (ttl, now + TTL_S[ttl])
        write = created["5m"] + created["1h"]
        return {"input_tokens": max(0, total - read - write), "cache_read": read,
                "cache_creation_5m": created["5m"], "cache_creation_1h": created["1h"]}
