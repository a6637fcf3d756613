"""Generate the LiteLLM proxy config: one model entry per (provider route, tier), aliases named after real ids.

Each entry comes from the provider's own package (`providers/<id>/gateway.py`). Emulated columns point at the
sandbox's emulator; a column with real credentials in the settings points at the real provider (no api_base)
with those credentials.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from ccmatrix.manifest import Manifest, alias_for
from ccmatrix.settings import Settings
from providers import registry

def build_config(
    manifest: Manifest,
    settings: Settings,
    emulator_url: str,
    secrets_dir: Path,
    providers: list[str] | None = None,
    *,
    real: bool = False,
) -> dict[str, Any]:
    """The config for the emulated columns (real=False) or for the columns with real credentials (real=True)."""
    real_routes = registry.real_ids(settings)
    entries = []
    for provider in manifest.providers:
        if providers is not None and provider.id not in providers:
            continue
        is_real = provider.route in real_routes
        if is_real != real:
            continue
        upstream = registry.get(provider.route)
        for tier, tier_model in manifest.tiers.items():
            params = upstream.gateway_entry(provider.models[tier], None if is_real else emulator_url, settings,
                                            secrets_dir)
            entries.append({"model_name": alias_for(tier_model, provider.id), "litellm_params": params})
    return {
        "model_list": entries,
        "litellm_settings": {"num_retries": 0, "request_timeout": 120, "drop_params": False},
        # One tier run must not be judged by the previous one: no deployment cool-down after a 401/404/429.
        "router_settings": {"disable_cooldowns": True},
        "general_settings": {},
    }


def write_config(config: dict[str, Any], directory: Path) -> tuple[Path, str]:
    """Write the config (0600, it may hold credentials) and return (path, content hash)."""
    text = yaml.safe_dump(config, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"litellm-{digest}.yaml"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(text)
        tmp.replace(path)
    return path, digest


def describe(config: dict[str, Any]) -> str:
    """A log-safe summary: aliases and upstream models only, never keys."""
    return json.dumps([(e["model_name"], e["litellm_params"]["model"]) for e in config["model_list"]])
