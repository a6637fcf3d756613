"""The same cell under the two gateway profiles (gateway_profiles/litellm.yaml), through the real CLI and the real
LiteLLM proxy: a profile changes a verdict, and the evidence names the profile that produced it.

- `forward_client_headers_to_llm_api` (recommended) forwards the CLI's `anthropic-beta` header: the 1M-context
  beta reaches Azure AI Foundry, which the gateway's defaults drop (long_context_1m × azure: fail → pass).
- `drop_params` (recommended) drops a parameter the route does not support; the defaults refuse it with
  UnsupportedParamsError before the provider is called (a `seed` on the Bedrock Converse deployment: fail → pass).
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

RECOMMENDED = {"name": "recommended",
               "settings": {"general_settings": {"forward_client_headers_to_llm_api": True},
                            "litellm_settings": {"drop_params": True, "modify_params": True}}}
DEFAULTS = {"name": "defaults", "settings": {}}


def _both(run_cell_here, feature, provider, **kw):
    return {name: run_cell_here(feature, provider, gateway_profile=name, **kw) for name in ("defaults", "recommended")}


def _named(cell, profile):
    """The cell and every tier that ran say which profile the gateway ran with."""
    assert cell.gateway_profile == profile, cell.gateway_profile
    for tier in cell.tiers.values():
        if tier.evidence is not None:
            assert tier.evidence.extra["gateway_profile"] == profile["name"]
            assert tier.evidence.extra["proxy_runtime"] == "process"   # how the gateway was booted, per tier


def test_the_1m_context_beta_reaches_azure_only_when_the_profile_forwards_client_headers(run_cell_here):
    cells = _both(run_cell_here, "long_context_1m", "azure")
    defaults, recommended = cells["defaults"], cells["recommended"]
    _named(defaults, DEFAULTS)
    _named(recommended, RECOMMENDED)

    tier = defaults.tiers["sonnet"]
    assert defaults.status.value == "fail", defaults.model_dump_json(indent=1)[:3000]
    assert tier.cause == "gateway"
    assert "context-1m-2025-08-07 beta did not reach the upstream" in tier.error, tier.error
    assert [c.cause for c in tier.evidence.upstream_calls] == ["refused"]  # Azure: "prompt is too long"

    tier = recommended.tiers["sonnet"]
    assert recommended.status.value == "pass", recommended.model_dump_json(indent=1)[:3000]
    assert [(c.status, c.cause) for c in tier.evidence.upstream_calls] == [(200, "ok")]


def test_a_parameter_the_route_does_not_support_is_refused_by_defaults_and_dropped_by_recommended(run_cell_here):
    # Bedrock Converse has no `seed`: LiteLLM's Converse mapping lists it as unsupported for Claude.
    cells = _both(run_cell_here, "basic_messaging_non_streaming", "bedrock_converse", proxy_params={"seed": 7})
    defaults, recommended = cells["defaults"], cells["recommended"]
    _named(defaults, DEFAULTS)
    _named(recommended, RECOMMENDED)

    tier = defaults.tiers["sonnet"]
    assert defaults.status.value == "fail", defaults.model_dump_json(indent=1)[:3000]
    assert tier.cause == "gateway"
    assert "UnsupportedParamsError" in tier.error and "['seed']" in tier.error, tier.error
    # refused by the gateway itself: the provider never got the non-streaming request
    assert not [c for c in tier.evidence.upstream_calls if c.path.endswith("/converse")], tier.evidence.upstream_calls

    tier = recommended.tiers["sonnet"]
    assert recommended.status.value == "pass", recommended.model_dump_json(indent=1)[:3000]
    # dropped, not passed on: the emulator validates Converse strictly and answered every call
    assert tier.evidence.upstream_calls and all(c.cause == "ok" for c in tier.evidence.upstream_calls)
