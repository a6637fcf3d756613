"""Finds the gateway packages: every sub-package of `gateways` that declares `GATEWAY` (a gateways.base.Gateway)."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from gateways.base import Gateway

# The order gateways are listed in (and tabs shown in); a new package not listed here comes last.
ORDER = ("litellm", "portkey", "claude-code-router")


@lru_cache(maxsize=1)
def _all() -> dict[str, Gateway]:
    import gateways

    found: dict[str, Gateway] = {}
    for info in pkgutil.iter_modules(gateways.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        gateway = getattr(importlib.import_module(f"gateways.{info.name}"), "GATEWAY", None)
        if isinstance(gateway, Gateway):
            if gateway.name.replace("-", "_") != info.name:
                raise RuntimeError(f"gateways/{info.name} declares name {gateway.name!r}: the package is the name "
                                   "with '_' for '-'")
            found[gateway.name] = gateway
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def names() -> list[str]:
    return list(_all())


def all() -> list[Gateway]:  # noqa: A001 - the registry's natural verb
    return list(_all().values())


def get(name: str) -> Gateway:
    """The gateway called `name`; a ValueError naming the known ones otherwise."""
    try:
        return _all()[name]
    except KeyError:
        raise ValueError(f"unknown gateway {name!r}; known: {', '.join(names())}") from None
