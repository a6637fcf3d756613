"""Feature checks: one module per row. A module exposes `CHECK`, an instance of worker.check.Check."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache


@lru_cache(maxsize=1)
def known_checks() -> frozenset[str]:
    return frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load_check(name: str):
    if name not in known_checks():
        raise KeyError(f"unknown check {name!r}")
    return importlib.import_module(f"{__name__}.{name}").CHECK
