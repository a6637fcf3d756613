"""Routing: the server serves every provider package's routes (from the registry, through Starlette); a path no
route serves goes to the provider with the longest claim on it; the control API answers its own 404."""
from __future__ import annotations

import pytest
from starlette.routing import Mount

from emulator.server import build_app
from providers import registry


def test_every_provider_package_routes_are_served(tmp_path):
    app = build_app(tmp_path)
    served = {route.path for route in app.router.routes if not isinstance(route, Mount)}
    for provider in registry.all():
        dialect = provider.emulator()
        # a pass-through package reaches another package's provider API: it re-exports that package's dialect
        owner = registry.get(dialect.provider)
        assert owner.emulator() is dialect and dialect.routes, provider
        assert {op.path for op in dialect.routes} <= served, provider


@pytest.mark.parametrize("path,provider", [
    ("/v1/foo", "anthropic"), ("/v1/projects/p/locations/l/publishers/anthropic/models/m:bogus", "vertex_ai"),
    ("/anthropic/v1/models", "azure"), ("/model/m/invoke-later", "bedrock_invoke"),
    ("/model/m/summarize", "bedrock_converse"), ("/guardrail/g", "bedrock_converse"), ("/nowhere", None)])
def test_the_longest_claim_names_the_provider_of_an_unrouted_path(tmp_path, path, provider):
    claimant = build_app(tmp_path).claimant(path)
    assert (claimant.provider if claimant else None) == provider


def test_unknown_path_in_a_providers_namespace_is_captured_in_its_shape(emu):
    j = emu.job()
    path = "/v1/projects/p/locations/us-east5/publishers/anthropic/models/m:bogus"
    r = emu.http.post(path, json={})
    assert r.status_code == 404 and set(r.json()["error"]) == {"code", "message", "status"}
    rec = emu.captures(j)[-1]
    assert (rec["provider"], rec["operation"], rec["cause"]) == ("vertex_ai", "unknown", "emulator_gap")


@pytest.mark.parametrize("method,path", [("GET", "/_emulator/nothing"), ("PUT", "/_emulator/jobs"),
                                         ("POST", "/_emulator/health")])
def test_control_api_answers_its_own_404(emu, method, path):
    r = emu.http.request(method, path)
    assert r.status_code == 404 and r.json()["ok"] is False and "no control route" in r.json()["error"]
