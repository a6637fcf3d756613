"""What a provider package declares (`PROVIDER = SomeProvider()` in `providers/<id>/__init__.py`)."""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar


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

    # --- the gateway --------------------------------------------------------------------------------------
    def gateway_entry(self, model: str, emulator_url: str | None, settings: Any, secrets_dir: Path) -> dict[str, Any]:
        """LiteLLM `litellm_params` for one deployment of `model` (emulator_url None = the real provider)."""
        return self.module("gateway").entry(model, emulator_url, settings, secrets_dir)

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
