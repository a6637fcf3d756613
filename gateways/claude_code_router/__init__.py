"""claude-code-router (npm `@musistudio/claude-code-router`, `ccr`), booted with node inside the sandbox.

Facts this plug-in rests on (re-checked here on 2.0.0, dist/cli.js of the npm package; 3.1.1 depends on a package
this registry does not serve, so `latest` resolves to the newest release whose tree installs):
- `ccr start` runs the server in the foreground from `$HOME/.claude-code-router/config.json` (HOST, PORT, APIKEY,
  Providers, Router); `GET /health` answers without a key (its readiness path here). With APIKEY set, every other
  path needs it as `x-api-key` or `Authorization: Bearer` (401 "Invalid API key" otherwise).
- A request whose model is `<provider>,<model>` goes to that provider and model when the config lists both
  (lower-case names); otherwise Router.default.
- The `Anthropic` transformer (capital A: a lower-case name is silently ignored and the body rewritten to OpenAI
  shape) posts Anthropic-shaped bodies to the provider's `api_base_url` with `x-api-key`: the Anthropic API
  (https://api.anthropic.com/v1/messages) and Azure AI Foundry (the resource's /anthropic/v1/messages).
- `vertex-claude` reaches Vertex AI: a service account from GOOGLE_APPLICATION_CREDENTIALS (google-auth-library:
  JWT exchanged at https://oauth2.googleapis.com/token), then https://<location>-aiplatform.googleapis.com/v1/
  projects/<p>/locations/<l>/publishers/anthropic/models/<m>:rawPredict|streamRawPredict. Both hosts are ones the
  sandbox serves by their real names (the vertex_ai package's hostnames), so the emulator can serve this route.
- No Bedrock provider at all, no pass-through routes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateways import _npm, _process
from gateways.base import Gateway

PACKAGE = "@musistudio/claude-code-router"
ENTRY = Path("node_modules") / "@musistudio" / "claude-code-router" / "dist" / "cli.js"


class ClaudeCodeRouter(Gateway):
    name = "claude-code-router"
    display_name = "claude-code-router"
    package = f"npm {PACKAGE}"
    routes = {
        "anthropic": "provider with the Anthropic transformer at https://api.anthropic.com/v1/messages",
        "vertex_ai": "provider with the vertex-claude transformer (service account, <location>-aiplatform)",
        "azure": "provider with the Anthropic transformer at the resource's /anthropic/v1/messages",
    }
    no_route = {
        "bedrock_invoke": "claude-code-router has no Bedrock provider",
        "bedrock_converse": "claude-code-router has no Bedrock provider",
        "bedrock_passthrough": "claude-code-router has no Bedrock provider (and no pass-through route)",
        "vertex_passthrough": "the Vertex pass-through column is LiteLLM's /vertex_ai route; claude-code-router "
                              "has none",
    }
    ready_path = "/health"
    client_env_vars = frozenset({"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"})

    def real_columns_reason(self) -> str | None:
        return ("claude-code-router reads provider keys from its config file; the plug-in writes the emulator's "
                "only (real columns are not wired for it yet)")

    # --- releases ----------------------------------------------------------------------------------------
    def resolve_version(self, spec: str, offline: bool = False) -> str:
        from ccmatrix.settings import get_settings

        return _npm.resolve(self.name, PACKAGE, spec, cache_dir=get_settings().cache_dir, offline=offline)

    def provision(self, cache_dir: Path, version: str) -> Path:
        from ccmatrix.provision import ensure_npm

        return ensure_npm(self.install_dir(cache_dir, version), PACKAGE, version)

    def installed_version(self, install: Path) -> str | None:
        from ccmatrix.provision import npm_installed_version

        return npm_installed_version(install, PACKAGE)

    # --- config: one config.json for every routed column --------------------------------------------------
    def build_config(self, manifest, settings, emulator_url, secrets_dir: Path, *, real: bool = False,
                     profile: str | None = None, providers: list[str] | None = None) -> dict[str, Any]:
        from gateways.claude_code_router import providers as ccr

        entries, gateway_env = [], {}
        for column in self.routed_columns(manifest, settings, real, providers):
            models = sorted({m for tier in manifest.tiers
                             if (m := manifest.provider_model(tier, column.id)) is not None})
            entry, env = ccr.provider_entry(column.route, models, Path(secrets_dir))
            entries.append(entry)
            gateway_env.update(env)
        config = {"Providers": entries, "LOG": False, "NON_INTERACTIVE_MODE": True}
        if entries:
            config["Router"] = {"default": f"{entries[0]['name']},{entries[0]['models'][0]}"}
        config = self.profiles().apply(config, profile or self.default_profile)
        # not config for ccr itself: the variables its process needs (vertex-claude reads the account from them)
        return {**config, "_env": gateway_env}

    # --- the process -------------------------------------------------------------------------------------
    def runtime(self, name: str):
        return _process.runtime_for(self, name)

    def command(self, install: Path, spec, gateway_env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """`ccr start` with HOME = a directory of this boot's own, holding .claude-code-router/config.json: the
        generated config plus this boot's key and port."""
        config = json.loads(spec.config_path.read_text())
        extra_env = config.pop("_env", {})
        home = spec.config_path.parent / f"home-{spec.config_path.stem}"
        directory = home / ".claude-code-router"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "config.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps({**config, "HOST": "127.0.0.1", "PORT": spec.port, "APIKEY": spec.master_key},
                                   indent=1))
        (directory / ".claude-code-router.pid").unlink(missing_ok=True)
        env = {**_process.node_env(install, gateway_env, home), **extra_env}
        return ["node", str(install / ENTRY), "start"], env

    # --- the client --------------------------------------------------------------------------------------
    def cli_model(self, manifest, tier: str, provider_id: str) -> str:
        from gateways.claude_code_router import providers as ccr

        route = manifest.provider(provider_id).route
        return f"{ccr.provider_name(route)},{manifest.provider_model(tier, provider_id)}"

    def client_env(self, route: str, config: dict[str, Any], gateway_url: str, gateway_key: str) -> dict[str, str]:
        # As claude-code-router's README sets the CLI up (`ccr code` / `ccr activate`): ANTHROPIC_BASE_URL at the
        # router, its APIKEY as ANTHROPIC_AUTH_TOKEN.
        return {"ANTHROPIC_BASE_URL": gateway_url, "ANTHROPIC_AUTH_TOKEN": gateway_key}


GATEWAY = ClaudeCodeRouter()
