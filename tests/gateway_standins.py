"""Stand-ins for gateway plug-ins (the interface of gateways/base.py as the producer uses it), so the planner and
the callback are tested on their own; tests/integration/test_gateways_run.py runs the real plug-ins."""
from __future__ import annotations

import pytest

from producer import gateway_selection


class StandIn:
    """A plug-in as the planner sees it: name, display name, default profile, version resolution, routes."""

    def __init__(self, name, display_name, unreachable=(), latest="9.9.9", profile="recommended"):
        self.name, self.display_name, self.default_profile = name, display_name, profile
        self.unreachable, self.latest, self.asked = set(unreachable), latest, []

    def resolve_version(self, spec, offline=False):
        self.asked.append((spec, offline))
        if spec == "latest":
            return self.latest
        if spec.startswith("0."):
            raise ValueError(f"{self.name} {spec} is not published")
        return spec

    def no_route_reason(self, provider_id):
        # the wording of gateways/base.py's default
        return f"gateway has no route: no {provider_id} route in its provider list" if provider_id in self.unreachable else None


@pytest.fixture
def plugins(monkeypatch):
    found = {"litellm": StandIn("litellm", "LiteLLM"),
             "portkey": StandIn("portkey", "Portkey", unreachable={"bedrock_invoke"}, profile="portkey-default")}

    def get(name):
        if name not in found:
            raise ValueError(f"unknown gateway {name!r}; known: {', '.join(sorted(found))}")
        return found[name]

    monkeypatch.setattr(gateway_selection, "plugin", get)
    return found
