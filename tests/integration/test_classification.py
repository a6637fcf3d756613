"""Outcome classification through the real CLI and the real LiteLLM proxy, with emulator faults:
infrastructure (credentials, access, not found, rate limit, overload, provider 5xx, timeout, proxy not booting) is
`error` with a reason naming the cause; the provider refusing what the gateway sent (400) is `fail`.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

ROW = "basic_messaging_non_streaming"


def _tier(cell, tier="sonnet"):
    return cell.tiers[tier]


def _statuses(tier):
    return [c.status for c in tier.evidence.upstream_calls] if tier.evidence else []


def _assert_error(cell, *words):
    assert cell.status.value == "error", cell.model_dump_json(indent=1)[:3000]
    tier = _tier(cell)
    assert tier.error, "an error carries its reason"
    for word in words:
        assert word.lower() in tier.error.lower(), tier.error
    return tier


@pytest.fixture
def run_with_settings():
    """run_cell with modified Settings (run_cell_here always uses get_settings())."""
    from ccmatrix.manifest import load_manifest
    from ccmatrix.settings import get_settings
    from ccmatrix.contract import CellJob
    from worker.cell import run_cell

    manifest = load_manifest()
    counter = {"n": 0}

    def run(feature: str, provider: str, faults=(), **overrides):
        counter["n"] += 1
        job = CellJob(run_id=f"classify{counter['n']}", feature=feature, provider=provider, tiers=["sonnet"],
                      litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                      manifest=manifest.model_dump(mode="json"), faults=list(faults))
        return run_cell(job, get_settings().model_copy(update=overrides))

    return run


# Tests run in file order; consecutive tests use different providers where a status makes LiteLLM cool the
# deployment down (401, 404), so a test does not meet the previous test's cooldown.
def test_401_is_an_error_naming_credentials(run_cell_here):
    cell = run_cell_here(ROW, "anthropic", faults=[{"provider": "anthropic", "status": 401}])
    tier = _assert_error(cell, "credentials rejected (401)")
    assert _statuses(tier) == [401]
    assert tier.evidence.api_error_status == 401
    assert not tier.evidence.extra.get("retryable"), "rejected credentials are not worth a retry"


def test_404_deployment_not_found_is_an_error(run_cell_here):
    cell = run_cell_here(ROW, "azure", faults=[{"provider": "azure", "status": 404}])
    tier = _assert_error(cell)
    assert 404 in _statuses(tier), "the provider's 404 is in the evidence"
    # The reason names the provider's cause, whatever status the gateway turned it into.
    assert "not found (404)" in tier.error, tier.error


def test_429_with_retry_after_is_an_error_naming_the_rate_limit(run_cell_here):
    cell = run_cell_here(ROW, "vertex_ai", faults=[{"provider": "vertex_ai", "status": 429, "retry_after": 1}])
    tier = _assert_error(cell, "rate limited")
    assert 429 in _statuses(tier)
    assert tier.evidence.api_error_status == 429
    assert tier.evidence.extra.get("retryable") is True, "rate-limit shaped: worth a retry"


# Order: anthropic runs well after the 401 test above (LiteLLM cools a deployment down after a 401 or 404).
@pytest.mark.parametrize("provider", ["bedrock_invoke", "anthropic"])
def test_403_turns_the_column_into_error_not_fail(run_cell_here, provider):
    """Issue 3's acceptance: a 403 for one provider is `error` (infrastructure), never `fail`."""
    cell = run_cell_here(ROW, provider, faults=[{"provider": provider, "status": 403}])
    tier = _assert_error(cell, "access denied (403)", "credentials")
    assert 403 in _statuses(tier)
    assert tier.evidence.api_error_status == 403


def test_529_overloaded_is_an_error(run_cell_here):
    cell = run_cell_here(ROW, "anthropic", faults=[{"provider": "anthropic", "status": 529}])
    # LiteLLM passes the 529 on as a 500; the classifier names the provider's 529.
    tier = _assert_error(cell, "overloaded (529) at the provider")
    assert _statuses(tier) == [529]


@pytest.mark.parametrize("provider", ["anthropic", "bedrock_converse"])
def test_provider_500_passed_through_is_an_error(run_cell_here, provider):
    cell = run_cell_here(ROW, provider, faults=[{"provider": provider, "status": 500}])
    tier = _assert_error(cell, "provider error 500 passed through")
    assert _statuses(tier) == [500]


def test_400_refusal_is_a_fail(run_cell_here):
    """The provider refusing what the gateway sent is the gateway's problem: `fail`, with the evidence."""
    cell = run_cell_here(ROW, "anthropic", faults=[{"provider": "anthropic", "status": 400}])
    assert cell.status.value == "fail", cell.model_dump_json(indent=1)[:3000]
    tier = _tier(cell)
    assert "request refused (400)" in tier.error
    assert tier.evidence.assertion == tier.error
    assert _statuses(tier) == [400]
    assert tier.evidence.api_error_status == 400


def test_timeout_is_an_error(run_with_settings):
    cell = run_with_settings(ROW, "anthropic", faults=[{"provider": "anthropic", "delay_s": 30}],
                             cli_timeout_s=5, tier_retries=0)
    tier = _assert_error(cell, "timeout", "did not finish in 5 s")
    assert tier.duration_ms < 20_000, "the CLI was stopped at the short timeout, not after the 30 s delay"
    assert tier.evidence.upstream_calls and tier.evidence.upstream_calls[0].status is None, \
        "the provider had not answered yet"


def test_proxy_boot_failure_is_an_error(run_with_settings):
    """A fresh environment whose proxy cannot become alive in time: every tier is `error` naming the proxy."""
    from worker.environment import shutdown_all

    shutdown_all()  # environments are cached per process: force a fresh one with the tiny boot timeout
    try:
        cell = run_with_settings(ROW, "anthropic", proxy_boot_timeout_s=0.5)
    finally:
        shutdown_all()  # the next test boots a normal environment
    tier = _assert_error(cell, "proxy", "ProxyBootError")
    assert "not alive" in tier.error or "exited during boot" in tier.error


@pytest.mark.parametrize("provider", ["anthropic", "bedrock_invoke"])
def test_a_mid_stream_provider_error_is_an_error_and_retried(run_cell_here, provider):
    """Anthropic's `event: error` overloaded_error / Bedrock's exception frame arrive inside an HTTP 200."""
    cell = run_cell_here("basic_messaging_streaming", provider, tiers=("haiku",),
                         faults=[{"provider": provider, "stream_error_after": 3}])
    tier = cell.tiers["haiku"]
    assert cell.status.value == "error", cell.model_dump_json(indent=1)[:2000]
    assert "mid-stream" in tier.error
    assert tier.evidence.extra.get("attempts") == 3  # transient: retried, then reported


def test_a_single_mid_stream_error_is_recovered(run_cell_here):
    """Once only: the stream is retried (by the client, or our retry rule) and the tier passes — never a `fail`."""
    cell = run_cell_here("basic_messaging_streaming", "vertex_ai", tiers=("haiku",),
                         faults=[{"provider": "vertex_ai", "stream_error_after": 2, "times": 1}])
    assert cell.status.value == "pass", cell.model_dump_json(indent=1)[:2000]
    tier = cell.tiers["haiku"]
    retried_by_us = tier.evidence.extra.get("attempts") == 2
    retried_by_client = len([c for c in tier.evidence.upstream_calls if "Predict" in c.path]) >= 2
    assert retried_by_us or retried_by_client


# --- ground truth from the emulator's own tags (issue 10) -------------------------------------------------------
def _emulator_url() -> str:
    from ccmatrix.settings import get_settings
    from worker.environment import environment_for

    env = environment_for(get_settings(), False)
    env.ensure_started()
    return env.sandbox.url("emulator")


def _assert_gateway_fail(cell, *words):
    assert cell.status.value == "fail", cell.model_dump_json(indent=1)[:3000]
    tier = _tier(cell)
    assert tier.cause == "gateway", tier.model_dump_json(indent=1)[:2000]
    for word in words:
        assert word.lower() in tier.error.lower(), tier.error
    assert any(c.cause == "refused" for c in tier.evidence.upstream_calls), tier.evidence.upstream_calls
    response = tier.evidence.gateway_response
    assert response is not None and response.status >= 400 and response.body, "the gateway's own answer is kept"
    return tier


def test_a_wrong_aws_secret_is_the_gateways_fail_not_infrastructure(run_cell_here):
    """The gateway signs with the right key id but the wrong secret: the emulator knows the signature is wrong
    (it issued the credentials), so the 403 is the gateway's `fail`, not a grey-yellow credentials error."""
    cell = run_cell_here(ROW, "bedrock_converse", proxy_params={"aws_secret_access_key": "not-the-issued-secret"})
    tier = _assert_gateway_fail(cell, "refused")
    assert 403 in _statuses(tier)
    assert "signature" in tier.error.lower(), tier.error


def test_a_wrong_model_id_for_the_provider_is_the_gateways_fail(run_cell_here):
    """A proxy config that sends the first-party model id to Bedrock: refused by the provider, the gateway's fault."""
    cell = run_cell_here(ROW, "bedrock_invoke",
                         proxy_params={"model": "bedrock/invoke/claude-sonnet-4-5-20250929"})
    _assert_gateway_fail(cell, "refused")


def test_an_injected_403_stays_an_error(run_cell_here):
    cell = run_cell_here(ROW, "bedrock_converse", faults=[{"provider": "bedrock_converse", "status": 403}])
    tier = _assert_error(cell, "access denied (403)", "injected")
    assert tier.cause == "infrastructure"
    assert [c.cause for c in tier.evidence.upstream_calls] == ["injected"]


def test_a_route_the_emulator_does_not_serve_is_an_emulator_gap(run_cell_here):
    """The gateway POSTs to a path the emulator has no route for: neither pass nor fail — an emulator gap."""
    cell = run_cell_here(ROW, "azure", proxy_params={"api_base": _emulator_url() + "/not-a-route"})
    tier = _assert_error(cell, "emulator gap")
    assert tier.cause == "emulator_gap"
    assert any(c.cause == "emulator_gap" and "/not-a-route" in c.path for c in tier.evidence.upstream_calls)
    assert tier.evidence.gateway_response is not None
