"""A per-provider rate limiter shared by every worker, kept in Redis.

Spacing, not bursts: each acquisition reserves the next free slot `1/rps` seconds after the previous one (an
atomic Lua script on the server's clock), and the caller sleeps until its slot. Off (rps 0) by default, and off
for emulated columns unless asked for.
"""
from __future__ import annotations

import logging
import time

log = logging.getLogger("ccmatrix.rate_limit")

_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval_us = tonumber(ARGV[1])
local slots = tonumber(ARGV[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt < now_us then nxt = now_us end
redis.call('SET', KEYS[1], nxt + interval_us * slots, 'PX', math.max(1000, math.floor((nxt - now_us + interval_us * slots) / 1000) + 1000))
return nxt - now_us
"""


class RateLimiter:
    def __init__(self, redis_url: str | None, rps: dict[str, float], prefix: str = "ccmatrix:rate"):
        self.rps = {p: r for p, r in rps.items() if r and r > 0}
        self.prefix = prefix
        self._client = None
        self._script = None
        if self.rps and redis_url and redis_url.startswith(("redis://", "rediss://", "unix://")):
            import redis

            self._client = redis.Redis.from_url(redis_url)
            self._script = self._client.register_script(_RESERVE)
        elif self.rps:
            log.warning("rate limits configured but the broker is not Redis: limiting is off")

    def enabled_for(self, provider: str) -> bool:
        return self._script is not None and provider in self.rps

    def acquire(self, provider: str, requests: int = 1) -> float:
        """Block until `requests` calls to `provider` may start; returns the seconds waited."""
        if not self.enabled_for(provider):
            return 0.0
        interval_us = int(1_000_000 / self.rps[provider])
        wait_us = int(self._script(keys=[f"{self.prefix}:{provider}"], args=[interval_us, max(1, requests)]))
        if wait_us > 0:
            time.sleep(wait_us / 1_000_000)
        return wait_us / 1_000_000


def limiter_from_settings(settings, emulated: bool) -> RateLimiter:
    if emulated and not settings.rate_limit_emulator:
        return RateLimiter(None, {})
    from providers import registry

    rates = {p: settings.rate_limit_rps for p in registry.ids()}
    rates.update(settings.rate_limits)
    return RateLimiter(settings.broker_url, rates)
