"""What the worker makes of a job for a gateway plug-in before anything boots: a column the gateway has no route for
is not_applicable on every tier with the plug-in's reason (never an error, nothing provisioned), an unknown gateway
is an error naming the known ones, and a real column through a gateway that cannot take real credentials is
not_tested with the reason."""
from __future__ import annotations

import pytest

from ccmatrix.contract import CellJob
from ccmatrix.manifest import load_manifest
from ccmatrix.settings import Settings
from gateways import registry
from worker import cell as cell_module


@pytest.fixture
def nothing_boots(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("nothing is provisioned or booted for this cell")

    monkeypatch.setattr(cell_module, "ensure_claude", refuse)
    monkeypatch.setattr(cell_module, "ensure_litellm", refuse)


def _job(gateway: str, provider: str, feature: str = "basic_messaging_streaming") -> CellJob:
    manifest = load_manifest()
    return CellJob(run_id="r", feature=feature, provider=provider, tiers=list(manifest.tiers),
                   litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                   manifest=manifest.model_dump(mode="json"), gateway=gateway, gateway_version="1.0.0")


@pytest.mark.parametrize("gateway,provider", [("claude-code-router", "bedrock_invoke"),
                                              ("claude-code-router", "bedrock_converse"),
                                              ("portkey", "bedrock_invoke"), ("portkey", "vertex_passthrough")])
def test_a_column_without_a_route_is_not_applicable_on_every_tier(nothing_boots, gateway, provider):
    outcome = cell_module.run_cell(_job(gateway, provider), Settings())
    reason = registry.get(gateway).no_route_reason(provider)
    assert outcome.status.value == "not_applicable" and outcome.gateway == gateway
    assert {t: (r.status.value, r.reason) for t, r in outcome.tiers.items()} == \
        {t: ("not_applicable", reason) for t in load_manifest().tiers}


def test_an_unknown_gateway_is_an_error_naming_the_known_ones(nothing_boots):
    outcome = cell_module.run_cell(_job("kong", "anthropic"), Settings())
    assert outcome.status.value == "error"
    assert all(r.error == "unknown gateway 'kong'; known: litellm, portkey, claude-code-router"
               for r in outcome.tiers.values())


def test_a_real_column_through_portkey_is_not_tested_with_the_reason(nothing_boots):
    outcome = cell_module.run_cell(_job("portkey", "anthropic"), Settings(anthropic_api_key="sk-real"))
    assert outcome.status.value == "not_tested"
    assert all("credentials would reach the CLI" in r.reason for r in outcome.tiers.values())


def test_the_profile_recorded_is_the_gateways_own():
    job = _job("portkey", "anthropic")
    record = cell_module.gateway_profile_of(job, Settings())
    assert record == {"name": "recommended", "settings": {"config": {"forward_headers": ["anthropic-beta"]}}}
    assert cell_module.gateway_profile_of(job.model_copy(update={"gateway_profile": "nope"}), Settings()) is None
