"""Deterministic token counting, shared by count_tokens, usage and the prompt cache.

The prompt is a flat list of units in cache order (tools, system blocks, message blocks); a unit's size is
the length of its canonical JSON (cache_control removed, binary data replaced by its sha256) and
tokens(prefix) = ceil(sum(len)/4). count_tokens == usage input total for the same content.
"""
from __future__ import annotations

import hashlib
import json
import math

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


def units(req) -> list[tuple[str, dict | None]]:
    """[(canonical_json, cache_control_or_None)] in prompt order."""
    out = []
    for t in req.tools:
        out.append((canonical({"tool": t}), t.get("cache_control")))
    for b in req.system:
        out.append((canonical({"system": b}), b.get("cache_control")))
    for i, m in enumerate(req.messages):
        for b in m["content"]:
            out.append((canonical({"role": m["role"], "block": b}), b.get("cache_control") if isinstance(b, dict) else None))
    return out


def count_units(us) -> int:
    return math.ceil(sum(len(u) + 1 for u, _ in us) / 4)


def count(req) -> int:
    return max(1, count_units(units(req)))


def count_text(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))
