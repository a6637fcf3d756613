"""What a provider package declares (`PROVIDER = SomeProvider()` in `providers/<id>/__init__.py`)."""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, ClassVar

# The CLI's default client mode: the Anthropic API at the gateway, with the gateway's key.
ANTHROPIC_API_MODE = frozenset({"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY"})


class DirectEmulatorURL(str):
    """The emulator's own URL, for a sandbox where the providers' real hostnames cannot lead to it (no network
    namespace of ours: no DNS recorder to answer them, no port 443): a gateway entry given one points the gateway at
    it with `api_base` / `aws_bedrock_runtime_endpoint`. Any other emulator URL means production-shaped routing:
    the entry is what a production user writes (no api_base where production has none) and the sandbox brings the
    gateway to the emulator by the providers' hostnames (README "Production-shaped routing")."""


def direct(emulator_url: str | None) -> bool:
    """True when a gateway entry must point the gateway at the emulator's URL itself (see DirectEmulatorURL)."""
    return isinstance(emulator_url, DirectEmulatorURL)


def host_map(providers, settings: Any) -> dict[str, list[str]]:
    """Hostname → the ids of the providers reached at it (`Provider.hostnames`), over `providers` (the registry):
    what the sandbox's DNS answers, what the per-run certificate names, how the emulator routes by Host."""
    out: dict[str, list[str]] = {}
    for provider in providers:
        for host in provider.hostnames(settings):
            out.setdefault(host.lower(), []).append(provider.id)
    return out


def gateway_env_name(setting: str) -> str:
    """The variable a real credential reaches the gateway process in: the setting's own name (CCMATRIX_<SETTING>)."""
    return "CCMATRIX_" + setting.upper()


def env_reference(setting: str) -> str:
    """How a gateway config names a real credential without holding it: LiteLLM's `os.environ/<NAME>`, read from the
    gateway process's environment when the config is loaded (docs.litellm.ai/docs/proxy/configs; LiteLLM 1.106.2
    litellm/router.py resolves it in every deployment's litellm_params, proxy_server.py _check_for_os_environ_vars
    in the settings). The value itself goes to that process's environment only (Provider.gateway_env)."""
    return "os.environ/" + gateway_env_name(setting)


class Provider:
    """One upstream provider as ccmatrix knows it. Subclasses set the class attributes and `gateway_entry`."""

    id: ClassVar[str]
    name: ClassVar[str]  # display name (the manifest may override it per column)
    wire: ClassVar[str]  # the request format the provider receives: "messages" (Anthropic Messages) or "converse"
    # Emulator operation names (as captured) that create a model message, and those that stream.
    message_operations: ClassVar[frozenset[str]] = frozenset()
    streaming_operations: ClassVar[frozenset[str]] = frozenset()
    # Settings fields (Settings attribute names) holding this provider's real credentials: their values are
    # masked wherever evidence quotes the gateway, and never reach the CLI.
    secret_settings: ClassVar[tuple[str, ...]] = ()
    # Settings fields that must all be set for this column to run against the real provider.
    real_requires: ClassVar[tuple[str, ...]] = ()
    # How this provider writes a Claude model id: "api" (claude-sonnet-4-5-20250929), "bedrock"
    # ([geo.]anthropic.<id>-v1:0 or an ARN) or "vertex" (<name>@<date>); see emulator/catalog.py.
    model_id_shape: ClassVar[str] = "api"
    # Where this column sits in the CLI's own model table (ccmatrix/model_table.py, PROVIDER_KINDS): the provider
    # kind whose id the upstream knows each model by ("first_party", "bedrock", "vertex", "foundry"), and the kind
    # whose alias the CLI resolves for this column's client mode ("gateway" when the CLI speaks the Anthropic API to
    # the gateway; the native kind when a pass-through column runs the CLI in its native mode). Every package
    # declares both (tests/unit/core/test_tiers.py); ccmatrix/tiers.py derives a tier's model per column from them.
    model_table_kind: ClassVar[str]
    alias_kind: ClassVar[str]
    # The vendor's own API domains (regexes over a hostname): a gateway that looks up one of these where the emulator
    # does not serve it reached for a provider endpoint the emulator lacks — an emulator gap, not a gateway fault.
    domains: ClassVar[tuple[str, ...]] = ()

    # --- real or emulated -----------------------------------------------------------------------------
    def real_configured(self, settings: Any) -> bool:
        """True when the settings hold this provider's real credentials: its column then leaves the emulator."""
        return bool(self.real_requires) and all(getattr(settings, f, None) for f in self.real_requires)

    def secret_values(self, settings: Any) -> list[str]:
        values = []
        for field in self.secret_settings:
            value = getattr(settings, field, None)
            if value is not None:
                values.append(value.get_secret_value() if hasattr(value, "get_secret_value") else str(value))
        return values

    def gateway_env(self, settings: Any) -> dict[str, str]:
        """{variable: value} of the real credentials this provider's gateway entries refer to (env_reference)."""
        env = {}
        for field in self.secret_settings:
            value = getattr(settings, field, None)
            if value is not None:
                env[gateway_env_name(field)] = (value.get_secret_value() if hasattr(value, "get_secret_value")
                                                else str(value))
        return env

    # --- the gateway --------------------------------------------------------------------------------------
    def gateway_entry(self, model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
        """LiteLLM `litellm_params` for one deployment of `model` (emulator_url None = the real provider)."""
        return self.module("gateway").entry(model, emulator_url, settings, secrets_dir)

    def hostnames(self, settings: Any) -> tuple[str, ...]:
        """The hostnames the gateway reaches this provider at when its column is emulated with production-shaped
        routing (`hostnames(settings)` in providers/<id>/gateway.py). A package without one whose emulator dialect
        is another package's (a pass-through column reaching the same API) is reached where that package is."""
        hook = getattr(self.module("gateway"), "hostnames", None)
        if hook is not None:
            return tuple(hook(settings))
        owner = getattr(self.emulator(), "provider", self.id)
        if owner != self.id:
            from providers import registry

            return registry.get(owner).hostnames(settings)
        return ()

    # --- the client: how the CLI reaches the gateway for this column (providers/<id>/client.py, optional) --
    # Without a client.py the CLI speaks the Anthropic API to the gateway (ANTHROPIC_BASE_URL + the gateway's key);
    # a package whose column drives the CLI in another mode (its native Bedrock or Vertex mode, at the gateway's
    # pass-through route) declares it there: ENV_VARS (every variable it may set), env(gateway_url, gateway_key),
    # and what the CLI then sends, decoded for fidelity's client side (decode, request_kind).
    @property
    def client_env_vars(self) -> frozenset[str]:
        """The variables `client_env` may set: the CLI driver accepts these and refuses any other."""
        client = self._client()
        return frozenset(client.ENV_VARS) if client is not None else ANTHROPIC_API_MODE

    def client_env(self, gateway_url: str, gateway_key: str) -> dict[str, str]:
        """The CLI's environment for this column's client mode: where the gateway is (`gateway_url`, as the CLI
        sees it) and the gateway's own key — never a provider credential (worker/driver.py refuses one)."""
        client = self._client()
        env = (client.env(gateway_url, gateway_key) if client is not None
               else {"ANTHROPIC_BASE_URL": gateway_url, "ANTHROPIC_API_KEY": gateway_key})
        undeclared = set(env) - self.client_env_vars
        if undeclared:
            raise ValueError(f"providers/{self.id}/client.py sets undeclared variables {sorted(undeclared)}")
        return env

    def decode_client(self, capture: dict[str, Any]):
        """A request the CLI sent the gateway for this column (a recorder capture), as the universal request."""
        client = self._client()
        if client is not None:
            return client.decode(capture)
        from providers._wire import messages

        return messages.decode_capture(capture, "client")

    def client_request_kind(self, path: str) -> str | None:
        """"message", "count_tokens" or None for a request the CLI sent the gateway in this column's mode."""
        client = self._client()
        if client is not None:
            return client.request_kind(path)
        from providers._wire import messages

        return messages.request_kind(path)

    def _client(self):
        name = f"providers.{self.id}.client"
        return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None

    # --- what it receives, in the universal form (fidelity's upstream side) ------------------------------
    def decode(self, capture: dict[str, Any]):
        """A request this provider received (a capture) as the universal request (providers/<id>/wire.py)."""
        return self.module("wire").decode(capture)

    def request_kind(self, path: str) -> str | None:
        """"message" (creates a model message), "count_tokens", or None (a token exchange, a probe), by path."""
        return self.module("wire").request_kind(path)

    def same_model(self, model_id: str) -> set[str]:
        """The ids this provider's requests may name one model by (e.g. Bedrock CountTokens takes the foundation
        id of an inference profile): `model_id` itself unless the package's wire says more."""
        return getattr(self.module("wire"), "same_model", lambda m: {m})(model_id)

    # --- the emulator -------------------------------------------------------------------------------------
    def emulator(self):
        """This provider's emulator dialect (`DIALECT` of providers/<id>/emulator.py): its routes, auth, errors."""
        return self.module("emulator").DIALECT

    @property
    def profile_path(self) -> Path:
        """What the provider accepts beyond its request schema, per model (data read by emulator/profiles.py)."""
        return Path(importlib.import_module(f"providers.{self.id}").__file__).parent / "profile.yaml"

    # --- the package's own modules ----------------------------------------------------------------------
    def module(self, name: str):
        """A module of this provider's package, imported on first use (e.g. "gateway", "emulator")."""
        return importlib.import_module(f"providers.{self.id}.{name}")

    def __repr__(self) -> str:
        return f"<Provider {self.id}>"
