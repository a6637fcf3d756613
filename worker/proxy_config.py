"""Generate the LiteLLM proxy config: one model entry per (provider route, tier), aliases named after real ids.

Each entry comes from the provider's own package (`providers/<id>/gateway.py`). Emulated columns point at the
sandbox's emulator; a column with real credentials in the settings points at the real provider (no api_base)
with those credentials. The settings sections come from the gateway profile the run asked for, with the test
harness's own settings on top (ccmatrix/gateway_profiles.py, gateway_profiles/litellm.yaml).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ccmatrix.manifest import Manifest
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
    profile: str | None = None,
) -> dict[str, Any]:
    """The config for the emulated columns (real=False) or for the columns with real credentials (real=True), with
    gateway profile `profile` (None: the setting CCMATRIX_GATEWAY_PROFILE) and the harness settings on top."""
    real_routes = registry.real_ids(settings)
    entries = []
    for provider in manifest.providers:
        if providers is not None and provider.id not in providers:
            continue
        is_real = provider.route in real_routes
        if is_real != real:
            continue
        upstream = registry.get(provider.route)
        for tier in manifest.tiers:
            model = manifest.provider_model(tier, provider.id)
            if model is None:  # not offered on this column (the tier is not_applicable there): no deployment
                continue
            params = upstream.gateway_entry(model, None if is_real else emulator_url, settings, secrets_dir)
            entries.append({"model_name": manifest.proxy_alias(tier, provider.id), "litellm_params": params})
    from ccmatrix.gateway_profiles import load_profiles

    return load_profiles().apply({"model_list": entries}, profile or settings.gateway_profile)


SECRET_PARAM_WORDS = ("key", "secret", "token", "password")
MASK = "***"


def masked(config: dict[str, Any], secrets: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """A copy of `config` safe to show: every litellm_param whose name says it holds a secret (…key…, …secret…,
    …token…, …password…) and every value equal to one of `secrets` becomes "***"; `os.environ/…` references stay
    (they name a variable, not its value). Nothing else changes (api_base, regions, paths stay as they are)."""
    known = {s for s in secrets if s}

    def secret_name(name: str) -> bool:
        return any(word in name.lower() for word in SECRET_PARAM_WORDS)

    def walk(value: Any, name: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, name) for v in value]
        if isinstance(value, str):
            if value.startswith("os.environ/"):
                return value
            if value in known or (secret_name(name) and value):
                return MASK
            for secret in known:
                if secret in value:
                    value = value.replace(secret, MASK)
        return value

    return walk(config)


def to_yaml(config: dict[str, Any]) -> str:
    """The config as the gateway reads it (the same dump write_config writes)."""
    return yaml.safe_dump(config, sort_keys=True)


def describe(config: dict[str, Any]) -> str:
    """A log-safe summary: aliases and upstream models only, never keys."""
    return json.dumps([(e["model_name"], e["litellm_params"]["model"]) for e in config["model_list"]])
