"""The provider registry: one package per provider (moto's one-package-per-service layout).

Everything that is true of one provider lives in `providers/<id>/`: how a gateway is configured to reach it
(`gateway.py`), which settings make its column real, its operations (`__init__.py`), its dialect in the emulator
(`emulator.py`: routes, auth, envelope, error shape), the credentials it issues and checks (`credentials.py`), what
it accepts per model (`profile.yaml`), and how what it receives decodes into the universal form (`wire.py`, for
fidelity). `_wire/` holds the universal model and one codec per wire format; `_aws.py` and `_bedrock/` what the
two Bedrock packages share. Nothing outside this package names a provider id.

    from providers import registry
    registry.ids()            -> ["anthropic", "bedrock_invoke", ...] (the order columns are shown in by default)
    registry.get("vertex_ai") -> the Provider
"""
from __future__ import annotations

from providers.base import Provider
from providers import registry

__all__ = ["Provider", "registry"]
