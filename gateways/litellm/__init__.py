"""The LiteLLM proxy (PyPI `litellm[proxy]`), the gateway ccmatrix was built around, behind the gateway interface.

Nothing here changes how LiteLLM is tested: its config is still one `model_list` entry per (column, tier) written
by the provider packages (`providers/<id>/gateway.py`, assembled by worker/proxy_config.py), with the profile of
gateway_profiles/litellm.yaml; it is provisioned into a venv per release (ccmatrix/provision.py: ensure_litellm),
resolved like before (ccmatrix/resolve.py), booted by the proxy runtimes (worker/runtimes: process or docker), ready
when `GET /health/liveliness` answers (../shared/notes/litellm-proxy.md: not `/health`, which calls every model),
and the CLI asks for the aliases named after real ids (ccmatrix/manifest.py: alias_for) in each column's client mode
(providers/<id>/client.py). Every provider column has a route, the two pass-through columns included (its `/bedrock`
and `/vertex_ai` routes).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gateways.base import Gateway


class LiteLLM(Gateway):
    name = "litellm"
    display_name = "LiteLLM"
    package = "PyPI litellm[proxy]"
    default_profile = "recommended"
    routes = {
        "anthropic": "anthropic/<model>",
        "bedrock_invoke": "bedrock/invoke/<model id>",
        "bedrock_converse": "bedrock/converse/<model id>",
        "vertex_ai": "vertex_ai/<model>@<date>",
        "azure": "azure_ai/<model> at the resource's /anthropic endpoint",
        "bedrock_passthrough": "the /bedrock pass-through route (the CLI in its native Bedrock mode)",
        "vertex_passthrough": "the /vertex_ai pass-through route (the CLI in its native Vertex mode)",
    }
    ready_path = "/health/liveliness"

    @property
    def client_env_vars(self) -> frozenset[str]:  # type: ignore[override]
        from providers import registry

        return frozenset().union(*(p.client_env_vars for p in registry.all()))

    # --- releases ----------------------------------------------------------------------------------------
    def resolve_version(self, spec: str, offline: bool = False) -> str:
        from ccmatrix import resolve
        from ccmatrix.settings import get_settings

        memory = Path(get_settings().cache_dir) / "resolve"
        if offline:
            return resolve._from_memory(memory / "last.json", spec, "pinned")["litellm"].version
        return resolve.resolve_litellm(spec, cache=resolve.ProbeCache(memory / "litellm-probes.json")).version

    def provision(self, cache_dir: Path, version: str) -> Path:
        from ccmatrix.provision import ensure_litellm

        return ensure_litellm(cache_dir, version)

    def installed_version(self, install: Path) -> str | None:
        from ccmatrix.provision import litellm_installed_version

        return litellm_installed_version(install)

    def install_dir(self, cache_dir: Path, version: str) -> Path:
        from ccmatrix.provision import litellm_venv

        return litellm_venv(cache_dir, version)

    # --- config ------------------------------------------------------------------------------------------
    def build_config(self, manifest, settings, emulator_url, secrets_dir: Path, *, real: bool = False,
                     profile: str | None = None, providers: list[str] | None = None) -> dict[str, Any]:
        from worker.proxy_config import build_config

        return build_config(manifest, settings, emulator_url, secrets_dir, providers, real=real, profile=profile)

    def config_text(self, config: dict[str, Any]) -> str:
        from worker.proxy_config import to_yaml

        return to_yaml(config)

    config_suffix = ".yaml"  # Gateway.write_config: litellm-<digest>.yaml, as before

    # --- the process -------------------------------------------------------------------------------------
    def runtime(self, name: str):
        from worker.runtimes import get_runtime

        return get_runtime(name)  # process (a venv per release) or docker (the gateway image of the release)

    # --- the client --------------------------------------------------------------------------------------
    def cli_model(self, manifest, tier: str, provider_id: str) -> str:
        return manifest.proxy_alias(tier, provider_id)

    def client_env(self, route: str, config: dict[str, Any], gateway_url: str, gateway_key: str) -> dict[str, str]:
        from providers import registry

        return registry.get(route).client_env(gateway_url, gateway_key)


GATEWAY = LiteLLM()
