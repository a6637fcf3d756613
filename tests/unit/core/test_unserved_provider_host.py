"""A gateway that reaches for a provider's own API host the emulator does not serve (LiteLLM 1.108's Bedrock Mantle
before the emulator had it) gives an emulator gap, not a gateway fail: nothing was learnt about the gateway."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ccmatrix.outcomes import Evidence, Status, TierResult
from providers import registry
from worker.check import CheckContext
from worker.sandbox import Sandbox


def ctx(tmp_path, emulated=True):
    settings = SimpleNamespace(cli_timeout_s=20, cli_max_retries=0)
    return CheckContext(feature=None, provider=None, tier="sonnet", model="m", job_id="j", settings=settings,
                        emulated=emulated, claude_binary=tmp_path / "claude", proxy_url="http://127.0.0.1:1",
                        proxy_key="k", sandbox=Sandbox(tmp_path / "sbx", isolated=False), upstream_reader=list,
                        set_faults=lambda f: None, client_reader=list)


def failed_with(*hosts: str) -> TierResult:
    return TierResult.failed("the gateway answered 500 without calling the provider: cannot connect",
                             evidence=Evidence(findings=[f"egress attempt blocked: DNS lookup of {h}" for h in hosts]))


@pytest.mark.parametrize("host,provider", [("bedrock-agent-runtime.us-east-1.amazonaws.com", "bedrock_invoke"),
                                           ("us-east5-aiplatform.googleapis.com", "vertex_ai"),
                                           ("api.anthropic.com", "anthropic"),
                                           ("myres.services.ai.azure.com", "azure")])
def test_a_provider_domain_is_known(host, provider):
    assert registry.provider_of_host(host) == provider


def test_a_lookup_of_an_unserved_provider_host_turns_the_fail_into_an_emulator_gap(tmp_path):
    out = ctx(tmp_path)._unserved_provider_host(failed_with("bedrock-agent-runtime.us-east-1.amazonaws.com"))
    assert (out.status, out.cause) == (Status.ERROR, "emulator_gap")
    assert "bedrock-agent-runtime.us-east-1.amazonaws.com" in out.error and "without calling the provider" in out.error


def test_any_other_host_stays_the_gateways_fail(tmp_path):
    out = ctx(tmp_path)._unserved_provider_host(failed_with("telemetry.example.org"))
    assert (out.status, out.cause) == (Status.FAIL, "gateway")


def test_against_a_real_provider_nothing_changes(tmp_path):
    out = ctx(tmp_path, emulated=False)._unserved_provider_host(failed_with("api.anthropic.com"))
    assert (out.status, out.cause) == (Status.FAIL, "gateway")
