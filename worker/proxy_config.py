"""Generate the LiteLLM proxy config: one model entry per (provider route, tier), aliases named after real ids.

A new provider = one entry builder here (keyed by its `route` in the manifest) + one emulator dialect.
Emulated columns point at the sandbox's emulator; a column with real credentials in the settings points at
the real provider (no api_base) with those credentials.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import yaml

from ccmatrix.manifest import Manifest, alias_for
from ccmatrix.settings import Settings
from emulator import credentials as emu

EntryBuilder = Callable[[str, str | None, Settings, Path], dict[str, Any]]


def _anthropic(model: str, api_base: str | None, settings: Settings, secrets_dir: Path) -> dict[str, Any]:
    if api_base is None:
        return {"model": f"anthropic/{model}", "api_key": settings.anthropic_api_key.get_secret_value()}
    return {"model": f"anthropic/{model}", "api_base": api_base, "api_key": emu.ANTHROPIC_API_KEY}


def _aws(settings: Settings, api_base: str | None) -> dict[str, Any]:
    if api_base is None:
        params = {
            "aws_access_key_id": settings.aws_access_key_id.get_secret_value(),
            "aws_secret_access_key": settings.aws_secret_access_key.get_secret_value(),
            "aws_region_name": settings.aws_region,
        }
        if settings.aws_session_token:
            params["aws_session_token"] = settings.aws_session_token.get_secret_value()
        return params
    return {
        "aws_bedrock_runtime_endpoint": api_base,
        "aws_access_key_id": emu.AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": emu.AWS_SECRET_ACCESS_KEY,
        "aws_region_name": emu.AWS_REGION,
    }


def _bedrock_invoke(model: str, api_base: str | None, settings: Settings, secrets_dir: Path) -> dict[str, Any]:
    return {"model": f"bedrock/invoke/{model}", **_aws(settings, api_base)}


def _bedrock_converse(model: str, api_base: str | None, settings: Settings, secrets_dir: Path) -> dict[str, Any]:
    return {"model": f"bedrock/converse/{model}", **_aws(settings, api_base)}


def _vertex_ai(model: str, api_base: str | None, settings: Settings, secrets_dir: Path) -> dict[str, Any]:
    if api_base is None:
        return {"model": f"vertex_ai/{model}", "vertex_project": settings.vertex_project,
                "vertex_location": settings.vertex_location,
                "vertex_credentials": str(settings.vertex_credentials_file)}
    account = emu.vertex_service_account(secrets_dir, f"{api_base}/token")
    return {"model": f"vertex_ai/{model}", "api_base": api_base, "vertex_project": emu.VERTEX_PROJECT,
            "vertex_location": emu.VERTEX_LOCATION, "vertex_credentials": str(account)}


def _azure(model: str, api_base: str | None, settings: Settings, secrets_dir: Path) -> dict[str, Any]:
    if api_base is None:
        return {"model": f"azure_ai/{model}", "api_base": settings.azure_api_base,
                "api_key": settings.azure_api_key.get_secret_value()}
    return {"model": f"azure_ai/{model}", "api_base": api_base, "api_key": emu.AZURE_API_KEY}


ROUTES: dict[str, EntryBuilder] = {
    "anthropic": _anthropic,
    "bedrock_invoke": _bedrock_invoke,
    "bedrock_converse": _bedrock_converse,
    "vertex_ai": _vertex_ai,
    "azure": _azure,
}


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
    real_routes = settings.real_providers()
    entries = []
    for provider in manifest.providers:
        if providers is not None and provider.id not in providers:
            continue
        is_real = provider.route in real_routes
        if is_real != real:
            continue
        builder = ROUTES[provider.route]
        for tier, tier_model in manifest.tiers.items():
            params = builder(provider.models[tier], None if is_real else emulator_url, settings, secrets_dir)
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
