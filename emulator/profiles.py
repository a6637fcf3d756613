"""Provider profiles: data (profiles/<provider>.yaml) for what the request schemas do not say.

A profile may `inherit: <other provider>` and override keys.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

DIR = Path(__file__).parent / "profiles"


@lru_cache(maxsize=None)
def load(provider: str) -> dict:
    data = yaml.safe_load((DIR / f"{provider}.yaml").read_text())
    parent = data.pop("inherit", None)
    if parent:
        base = dict(load(parent))
        base.update(data)
        data = base
    return data


def model_features(provider: str, model: str) -> dict | None:
    """Feature flags of the first `models` entry whose regex matches, or None (unknown model)."""
    for entry in load(provider).get("models", []):
        if re.search(entry["match"], model):
            return entry
    return None
