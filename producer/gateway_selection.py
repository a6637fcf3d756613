"""Which gateways a run tests: `--gateway NAME[@VERSION][,NAME[@VERSION]...]` parsed, checked and resolved.

LiteLLM is the default gateway and keeps its own version option: `litellm@X` is the same as `--litellm-version X`
(both given and different: refused). Every other gateway is a plug-in of the `gateways` package, asked by name
(`gateways.registry.get`: an unknown name is refused with the plug-in registry's own message) to resolve its
version spec (`latest` becomes a release once, here, like LiteLLM's). Everything that is wrong is a ValueError
with one line, raised before anything is enqueued.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

DEFAULT_GATEWAY = "litellm"
# A release number (1.15.2, 2.0.0-beta.1, 1.80.13rc1) or `latest`; LiteLLM's spec may also be a local path (its own
# option's rules apply to it: ccmatrix.local_source).
_VERSION = re.compile(r"latest|\d+(\.\d+){0,3}([.+-]?[A-Za-z][0-9A-Za-z]*([.+-][0-9A-Za-z]+)*)?")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class GatewaySpec(BaseModel):
    """One `NAME[@VERSION]` of --gateway (version None: the gateway's default)."""

    name: str
    version: str | None = None


class PlannedGateway(BaseModel):
    """A gateway of the run as planned: its release (resolved), how `latest` or a pin became it, and its profile."""

    name: str
    display_name: str
    version: str
    requested: str | None = None
    profile: str | None = None


def parse_specs(raw: list[str] | None) -> list[GatewaySpec]:
    """["litellm", "portkey@1.15.2"] → specs, in the order given; nothing given → [litellm].
    A malformed item, or a gateway named twice, raises ValueError (one line)."""
    specs: list[GatewaySpec] = []
    for item in raw or [DEFAULT_GATEWAY]:
        name, at, version = item.strip().partition("@")
        name, version = name.strip().lower(), version.strip()
        if not _NAME.fullmatch(name):
            raise ValueError(f"--gateway {item!r}: expected NAME[@VERSION], e.g. portkey@1.15.2 or litellm@latest")
        if at and not version:
            raise ValueError(f"--gateway {item!r}: the version after '@' is empty")
        if at and name != DEFAULT_GATEWAY and not _VERSION.fullmatch(version):
            raise ValueError(f"--gateway {item!r}: {version!r} is not a version (a release number or `latest`)")
        if any(s.name == name for s in specs):
            raise ValueError(f"--gateway names {name!r} twice")
        specs.append(GatewaySpec(name=name, version=version or None))
    return specs


def check_known(specs: list[GatewaySpec]) -> None:
    """Every named gateway has a plug-in (else the registry's ValueError, naming the known ones) — checked before any
    version is resolved, so a typo costs no registry round trip."""
    for spec in specs:
        plugin(spec.name)


def litellm_request(specs: list[GatewaySpec], litellm_version: str | None) -> str | None:
    """The LiteLLM version the run asks for: `litellm@X` or --litellm-version (None: the manifest's); both, different:
    ValueError."""
    pinned = next((s.version for s in specs if s.name == DEFAULT_GATEWAY and s.version), None)
    if pinned and litellm_version and pinned != litellm_version:
        raise ValueError(f"--gateway litellm@{pinned} and --litellm-version {litellm_version} disagree: give one")
    return pinned or litellm_version


def plugin(name: str):
    """The gateway plug-in `name` (gateways.registry); an unknown name raises ValueError naming the known ones."""
    from gateways import registry

    return registry.get(name)


def plan_gateways(specs: list[GatewaySpec], litellm_version: str, litellm_profile: str | None,
                  offline: bool = False) -> list[PlannedGateway]:
    """Each gateway of the run with its concrete release: LiteLLM's is `litellm_version` (already resolved by the
    run's version resolution), every other is resolved by its plug-in here (`latest` once, for every job)."""
    planned = []
    for spec in specs:
        gateway = plugin(spec.name)
        if spec.name == DEFAULT_GATEWAY:
            version, profile = litellm_version, litellm_profile
        else:
            requested = spec.version or _default_version(gateway)
            try:
                version = gateway.resolve_version(requested, offline=offline)
            except ValueError as error:
                raise ValueError(f"--gateway {spec.name}@{requested}: {' '.join(str(error).split())}") from None
            profile = gateway.default_profile
        planned.append(PlannedGateway(name=gateway.name, display_name=gateway.display_name, version=version,
                                      requested=spec.version, profile=profile))
    return planned


def _default_version(gateway: Any) -> str:
    """The release a plug-in is tested at when --gateway names no version: its own pin, else `latest`."""
    return getattr(gateway, "default_version", None) or "latest"


def no_route_reason(gateway_name: str, provider_id: str) -> str | None:
    """Why the gateway cannot reach the column (None: it can), in the plug-in's own words."""
    return plugin(gateway_name).no_route_reason(provider_id)
