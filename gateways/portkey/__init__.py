"""Portkey's open-source AI gateway (npm `@portkey-ai/gateway`), booted with node inside the sandbox.

Facts this plug-in rests on (re-checked here on 1.15.2; build/start-server.js of the npm package):
- `node build/start-server.js --port=<port> --headless` serves `/v1/messages` (and count_tokens) on the port; `GET /`
  answers "AI Gateway says hey!" (its readiness path here). The open-source gateway has no key of its own and no
  server-side config: each request carries its routing config in the `x-portkey-config` header (Portkey's "gateway
  configs": provider, credentials, options), so that is where this plug-in's per-column config goes.
- Its streamed replies fail with a 500 unless `@hono/node-server` is pinned to 1.14.1 (Portkey-AI/gateway#1389): the
  pin is provisioned beside the gateway.
- Routes (its providers, the `provider` of a config): `anthropic` (https://api.anthropic.com/v1/messages);
  `bedrock`, whose /v1/messages calls Bedrock's **Converse** API (`/model/<id>/converse[-stream]`: its getEndpoint
  picks converse for `messages`), so Portkey's Bedrock route belongs in the bedrock_converse column, and the
  bedrock_invoke column has none; `vertex-ai` (model `anthropic.<id>@<date>`: the publisher is the model's prefix;
  a service account's JWT exchanged at https://oauth2.googleapis.com/token, then
  https://<region>-aiplatform.googleapis.com/v1/projects/<p>/locations/<region>/publishers/anthropic/models/<m>:
  rawPredict|streamRawPredict); `azure-ai` with `azure_foundry_url` = the resource's `/anthropic` endpoint (it then
  posts `<url>/v1/messages` with `x-api-key`).
- Claude Code setup, as Portkey's guide writes it (portkey.ai/docs/integrations/libraries/claude-code): the Anthropic
  API mode (`ANTHROPIC_BASE_URL` = the gateway, `ANTHROPIC_AUTH_TOKEN`, Portkey headers in
  `ANTHROPIC_CUSTOM_HEADERS`), the model the provider knows (`ANTHROPIC_MODEL`: e.g.
  `us.anthropic.claude-sonnet-4-...-v1:0` on Bedrock) — "Don't set CLAUDE_CODE_USE_BEDROCK or CLAUDE_CODE_USE_VERTEX"
  (portkey.ai/docs/integrations/libraries/claude-code-gateway-compatibility). No pass-through columns.
Provider credentials travel in that header, i.e. through the CLI's environment: fine for the emulator's own
credentials, not for real ones — real columns are not run through Portkey (real_columns_reason).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateways import _npm, _process
from gateways.base import Gateway

PACKAGE = "@portkey-ai/gateway"
PINS = ("@hono/node-server@1.14.1",)  # Portkey-AI/gateway#1389: streamed replies 500 without it
ENTRY = Path("node_modules") / "@portkey-ai" / "gateway" / "build" / "start-server.js"
CONFIG_HEADER = "x-portkey-config"


class Portkey(Gateway):
    name = "portkey"
    display_name = "Portkey"
    package = f"npm {PACKAGE}"
    routes = {
        "anthropic": "provider anthropic",
        "bedrock_converse": "provider bedrock (its /v1/messages calls Converse)",
        "vertex_ai": "provider vertex-ai, model anthropic.<id>@<date>",
        "azure": "provider azure-ai, azure_foundry_url = the resource's /anthropic endpoint",
    }
    no_route = {
        "bedrock_invoke": "Portkey's Bedrock route calls the Converse API (see the bedrock_converse column); it has "
                          "no Bedrock Invoke route for /v1/messages",
        "bedrock_passthrough": "the Bedrock pass-through column is LiteLLM's /bedrock route; Portkey has none",
        "vertex_passthrough": "the Vertex pass-through column is LiteLLM's /vertex_ai route; Portkey has none",
    }
    ready_path = "/"
    client_env_vars = frozenset({"ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS"})

    def real_columns_reason(self) -> str | None:
        return ("the open-source Portkey gateway takes provider credentials from each request's x-portkey-config "
                "header, which the CLI sends: real credentials would reach the CLI's environment")

    # --- releases ----------------------------------------------------------------------------------------
    def resolve_version(self, spec: str, offline: bool = False) -> str:
        from ccmatrix.settings import get_settings

        return _npm.resolve(self.name, PACKAGE, spec, cache_dir=get_settings().cache_dir, offline=offline,
                            pins=PINS)

    def provision(self, cache_dir: Path, version: str) -> Path:
        from ccmatrix.provision import ensure_npm

        return ensure_npm(self.install_dir(cache_dir, version), PACKAGE, version, PINS)

    def installed_version(self, install: Path) -> str | None:
        from ccmatrix.provision import npm_installed_version

        return npm_installed_version(install, PACKAGE)

    # --- config: one gateway config (the x-portkey-config header) per column -------------------------------
    def build_config(self, manifest, settings, emulator_url, secrets_dir: Path, *, real: bool = False,
                     profile: str | None = None, providers: list[str] | None = None) -> dict[str, Any]:
        from gateways.portkey import targets

        profiles = self.profiles()
        columns = {}
        for column in self.routed_columns(manifest, settings, real, providers):
            target = targets.target(column.route, Path(secrets_dir))
            columns[column.route] = profiles.apply(target, profile or self.default_profile)
        return {"columns": columns}

    # --- the process -------------------------------------------------------------------------------------
    def runtime(self, name: str):
        return _process.runtime_for(self, name)

    def command(self, install: Path, spec, gateway_env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        cmd = ["node", str(install / ENTRY), f"--port={spec.port}", "--headless"]
        return cmd, _process.node_env(install, gateway_env, spec.config_path.parent)

    # --- the client --------------------------------------------------------------------------------------
    def cli_model(self, manifest, tier: str, provider_id: str) -> str:
        from gateways.portkey import targets

        return targets.model_name(manifest.provider(provider_id).route, manifest.provider_model(tier, provider_id))

    def client_env(self, route: str, config: dict[str, Any], gateway_url: str, gateway_key: str) -> dict[str, str]:
        header = json.dumps(config["columns"][route], separators=(",", ":"), sort_keys=True)
        return {"ANTHROPIC_BASE_URL": gateway_url, "ANTHROPIC_AUTH_TOKEN": gateway_key,
                "ANTHROPIC_CUSTOM_HEADERS": f"{CONFIG_HEADER}: {header}"}


GATEWAY = Portkey()
