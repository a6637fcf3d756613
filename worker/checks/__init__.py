"""Feature checks: one module per row. A module exposes `CHECK`, an instance of worker.check.Check."""
from __future__ import annotations

import importlib
from functools import lru_cache

from ccmatrix.manifest import known_checks as _on_disk


@lru_cache(maxsize=1)
def known_checks() -> frozenset[str]:
    return _on_disk()


def load_check(name: str):
    if name not in known_checks():
        raise KeyError(f"unknown check {name!r}")
    return importlib.import_module(f"{__name__}.{name}").CHECK
