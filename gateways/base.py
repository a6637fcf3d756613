"""What a gateway package declares (`GATEWAY = SomeGateway()` in `gateways/<package>/__init__.py`).

The worker drives every gateway through this one interface, the producer asks it which columns have a route and
what `latest` means:

    gateway.no_route_reason(provider_id)        -> None, or "gateway has no route: <why>" (the cell's n/a reason)
    gateway.resolve_version(spec, offline)      -> a release ("latest": the newest one that installs here)
    gateway.provision(cache_dir, version)       -> the install dir .cache/<gateway>/<version>/ (idempotent, locked)
    gateway.build_config(manifest, settings, emulator_url, secrets_dir, real=, profile=) -> its config (a dict)
    gateway.write_config(config, directory)     -> (path, digest); the pool reuses a running gateway per digest
    gateway.runtime(name).start(spec, sandbox)  -> a handle (alive, log_tail, stop), inside the sandbox
    gateway.ready(client)                       -> True once it answers its readiness path
    gateway.cli_model(manifest, tier, column)   -> the model name the CLI asks the gateway for
    gateway.client_env(route, config, url, key) -> how the CLI is pointed at it (base URL, key, headers)
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

NO_ROUTE = "gateway has no route"


class GatewayUnsupported(RuntimeError):
    """This gateway cannot run what was asked (a runtime, real credentials) here: a one-line reason, never a
    traceback; the cell reports it."""


class Gateway:
    """One gateway under test. Subclasses set the class attributes and the config / client methods."""

    name: ClassVar[str]  # as on the command line and in the matrix ("claude-code-router"); package: '-' -> '_'
    display_name: ClassVar[str]
    package: ClassVar[str]  # where a release comes from: "PyPI litellm[proxy]", "npm @portkey-ai/gateway"
    default_profile: ClassVar[str] = "recommended"  # gateway_profiles/<name>.yaml
    # Provider packages (routes) the gateway reaches, each with a note on how (shown in docs and reports); a column
    # whose route is not here has no route, for the reason in `no_route` (or a generic one).
    routes: ClassVar[dict[str, str]] = {}
    no_route: ClassVar[dict[str, str]] = {}
    ready_path: ClassVar[str] = "/"
    # The variables client_env may set for the CLI (the driver accepts exactly these from a gateway).
    client_env_vars: ClassVar[frozenset[str]] = frozenset({"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"})

    # --- columns ------------------------------------------------------------------------------------------
    def no_route_reason(self, provider_id: str) -> str | None:
        """None when the gateway reaches this provider column; else the not_applicable reason."""
        if provider_id in self.routes:
            return None
        why = self.no_route.get(provider_id) or f"{self.display_name} has no route for the {provider_id} column"
        return f"{NO_ROUTE}: {why}"

    def real_columns_reason(self) -> str | None:
        """None when columns with real credentials can run through this gateway; else why not (a one-line
        reason: the cell's tiers are `not_tested` with it)."""
        return None

    # --- releases ----------------------------------------------------------------------------------------
    def resolve_version(self, spec: str, offline: bool = False) -> str:
        raise NotImplementedError

    def provision(self, cache_dir: Path, version: str) -> Path:
        """The install dir of `version` (provisioned on first use; idempotent; a file lock per release)."""
        raise NotImplementedError

    def installed_version(self, install: Path) -> str | None:
        """The release actually installed in `install` (what a cell reports)."""
        raise NotImplementedError

    def install_dir(self, cache_dir: Path, version: str) -> Path:
        return Path(cache_dir) / self.name / version

    # --- profiles and config ------------------------------------------------------------------------------
    def profiles(self):
        """This gateway's profiles (gateway_profiles/<name>.yaml, ccmatrix.gateway_profiles)."""
        from ccmatrix.gateway_profiles import load_profiles

        return load_profiles(gateway=self.name)

    def build_config(self, manifest, settings, emulator_url, secrets_dir: Path, *, real: bool = False,
                     profile: str | None = None, providers: list[str] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def routed_columns(self, manifest, settings, real: bool, providers: list[str] | None = None):
        """The manifest's columns this config covers: routed by this gateway, real or emulated as asked."""
        from providers import registry

        real_routes = registry.real_ids(settings)
        for column in manifest.providers:
            if providers is not None and column.id not in providers:
                continue
            if (column.route in real_routes) != real or self.no_route_reason(column.route):
                continue
            yield column

    def config_text(self, config: dict[str, Any]) -> str:
        return json.dumps(config, indent=1, sort_keys=True)

    config_suffix: ClassVar[str] = ".json"

    def write_config(self, config: dict[str, Any], directory: Path) -> tuple[Path, str]:
        """Write the config (0600: it may hold credentials) and return (path, content hash)."""
        text = self.config_text(config)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}-{digest}{self.config_suffix}"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.touch(mode=0o600)
            tmp.write_text(text)
            tmp.replace(path)
        return path, digest

    # --- the process ----------------------------------------------------------------------------------------
    def runtime(self, name: str):
        """The runtime that boots this gateway (`start(spec, sandbox) -> handle`); GatewayUnsupported when this
        gateway has no runtime of that name."""
        raise NotImplementedError

    def ready(self, client) -> bool:
        """True once the gateway answers (`client`: an httpx client on its base URL)."""
        return client.get(self.ready_path).status_code == 200

    # --- the client ---------------------------------------------------------------------------------------
    def cli_model(self, manifest, tier: str, provider_id: str) -> str:
        """The model name the CLI asks the gateway for on this column and tier."""
        raise NotImplementedError

    def client_env(self, route: str, config: dict[str, Any], gateway_url: str, gateway_key: str) -> dict[str, str]:
        """The CLI's environment for this column: where the gateway is and its key (never a provider's real
        credential)."""
        return {"ANTHROPIC_BASE_URL": gateway_url, "ANTHROPIC_API_KEY": gateway_key}

    def __repr__(self) -> str:
        return f"<Gateway {self.name}>"
