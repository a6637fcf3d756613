"""Finds the provider packages: every sub-package of `providers` that declares `PROVIDER`."""
from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from providers.base import Provider

# The order columns appear in by default (and in samples); a new package not listed here comes last.
ORDER = ("anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure", "bedrock_passthrough",
         "vertex_passthrough")


class UnknownProvider(KeyError):
    def __str__(self) -> str:
        return f"unknown provider {self.args[0]!r}; known: {', '.join(ids())}"


@lru_cache(maxsize=1)
def _all() -> dict[str, Provider]:
    import providers

    found: dict[str, Provider] = {}
    for info in pkgutil.iter_modules(providers.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"providers.{info.name}")
        provider = getattr(module, "PROVIDER", None)
        if isinstance(provider, Provider):
            if provider.id != info.name:
                raise RuntimeError(f"providers/{info.name} declares id {provider.id!r}: the package name is the id")
            found[provider.id] = provider
    rank = {pid: i for i, pid in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def ids() -> list[str]:
    return list(_all())


def all() -> list[Provider]:  # noqa: A001 - the registry's natural verb
    return list(_all().values())


def get(provider_id: str) -> Provider:
    try:
        return _all()[provider_id]
    except KeyError:
        raise UnknownProvider(provider_id) from None


def message_operations() -> frozenset[str]:
    """Operations (any provider) that create a model message."""
    return frozenset().union(*(p.message_operations for p in all()))


def streaming_operations() -> frozenset[str]:
    return frozenset().union(*(p.streaming_operations for p in all()))


def provider_of_host(host: str) -> str | None:
    """The provider whose own API domain `host` is (Provider.domains), or None."""
    import re

    for provider in all():
        if any(re.search(pattern, host.lower()) for pattern in provider.domains):
            return provider.id
    return None


def real_ids(settings) -> set[str]:
    """The providers whose columns run against the real provider with these settings."""
    return {p.id for p in all() if p.real_configured(settings)}


def gateway_env(settings) -> dict[str, str]:
    """The real credentials the gateway process gets in its environment (its config only names them)."""
    return {k: v for p in all() if p.real_configured(settings) for k, v in p.gateway_env(settings).items()}


def secret_values(settings) -> list[str]:
    return [v for p in all() for v in p.secret_values(settings)]
