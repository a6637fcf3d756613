"""Deterministic token counting, shared by count_tokens, usage and the prompt cache.

The prompt is a flat list of units in cache order (tools, system parts, message parts) of a universal request; a
unit's size is the length of its canonical JSON (the cache marker removed; binary data stands as its sha256, as
the universal form keeps it) and tokens(prefix) = ceil(sum(len)/4). count_tokens == usage input total for the same
content, whatever the wire it came in.
"""
from __future__ import annotations

import hashlib
import json
import math

from providers._wire.universal import Cache, UniversalRequest

_DROP = {"cache_control"}


def _canon(obj):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in _DROP:
                continue
            if k == "data" and isinstance(v, str) and len(v) > 64:
                out[k] = hashlib.sha256(v.encode()).hexdigest()
            else:
                out[k] = _canon(v)
        return out
    if isinstance(obj, list):
        return [_canon(v) for v in obj]
    return obj


def canonical(obj) -> str:
    return json.dumps(_canon(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _unit(key: str, item, **context) -> tuple[str, Cache | None]:
    dumped = item.dump()
    dumped.pop("cache", None)
    return canonical({**context, key: dumped}), item.cache


def units(req: UniversalRequest) -> list[tuple[str, Cache | None]]:
    """[(canonical_json, cache marker or None)] in prompt order."""
    out = [_unit("tool", t) for t in req.tools]
    out += [_unit("system", p) for p in req.system]
    out += [_unit("part", p, role=m.role) for m in req.messages for p in m.parts]
    return out


def count_units(us) -> int:
    return math.ceil(sum(len(u) + 1 for u, _ in us) / 4)


def count(req) -> int:
    return max(1, count_units(units(req)))


def count_text(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))
