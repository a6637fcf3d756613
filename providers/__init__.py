"""The provider registry: one package per provider (moto's one-package-per-service layout).

Everything that is true of one provider lives in `providers/<id>/`: how a gateway is configured to reach it
(`gateway.py`), which settings make its column real, its operations, and — on the emulator side — its wire
dialect, codec, credentials, errors and profile data. Nothing outside this package names a provider id.

    from providers import registry
    registry.ids()            -> ["anthropic", "bedrock_invoke", ...] (the order columns are shown in by default)
    registry.get("vertex_ai") -> the Provider
"""
from __future__ import annotations

from providers.base import Provider
from providers import registry

__all__ = ["Provider", "registry"]
