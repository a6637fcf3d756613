"""Provider profiles: data (providers/<id>/profile.yaml) for what the request schemas do not say about a
provider (betas, tool types, refused top-level keys, ...). What a model accepts is the model catalogue's
(emulator/catalog.yaml); `model_features` asks it.

A profile may `inherit: <other provider>` and override keys. A profile with `betas_accepted_add_sdk: true` also
accepts every beta of the installed anthropic SDK's `AnthropicBetaParam` literal (resolved in that file only: a
profile that inherits it and sets its own `betas_accepted` does not get them).
"""
from __future__ import annotations

from functools import lru_cache

import yaml

from providers import registry


@lru_cache(maxsize=None)
def load(provider: str) -> dict:
    data = yaml.safe_load(registry.get(provider).profile_path.read_text())
    if data.pop("betas_accepted_add_sdk", False):
        from .catalog import sdk_betas
        data["betas_accepted"] = list(dict.fromkeys(list(data.get("betas_accepted", [])) + sorted(sdk_betas())))
    parent = data.pop("inherit", None)
    if parent:
        base = dict(load(parent))
        base.update(data)
        data = base
    return data


def model_features(provider: str, model: str) -> dict | None:
    """The feature profile of `model` (a Claude API name) on `provider` from the model catalogue
    (emulator/catalog.yaml), or None: a model the catalogue does not name has no profile — never a default one."""
    from . import catalog
    return catalog.features(provider, model)
