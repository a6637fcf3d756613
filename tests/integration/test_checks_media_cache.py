"""Rows prompt_caching_5m, prompt_caching_1h, vision, pdf_input, long_context_1m: each passes on a healthy emulator
(two providers at least) and FAILS, with the right assertion and evidence, when exactly its feature is broken.

"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

from tests.integration.cell_assertions import assert_fail as _assert_fail
from tests.integration.cell_assertions import tier_of as _tier


@pytest.fixture(scope="module")
def run_row(run_cell_here):
    return run_cell_here


PASSES = [
    ("prompt_caching_5m", "anthropic"),
    ("prompt_caching_5m", "bedrock_converse"),
    ("prompt_caching_5m", "vertex_ai"),
    ("prompt_caching_1h", "anthropic"),
    ("prompt_caching_1h", "bedrock_invoke"),
    ("prompt_caching_1h", "vertex_ai"),
    ("vision", "anthropic"),
    ("vision", "bedrock_converse"),
    ("vision", "vertex_ai"),
    ("pdf_input", "anthropic"),
    ("pdf_input", "bedrock_invoke"),
    ("pdf_input", "vertex_ai"),
    ("long_context_1m", "anthropic"),
    ("long_context_1m", "bedrock_invoke"),
    ("long_context_1m", "vertex_ai"),
]


@pytest.mark.parametrize("feature,provider", PASSES)
def test_row_passes(run_row, feature, provider):
    cell = run_row(feature, provider)
    assert cell.status.value == "pass", cell.model_dump_json(indent=1)[:3000]
    evidence = _tier(cell).evidence
    assert evidence.upstream_calls and evidence.result_text


BROKEN = [
    # (feature, provider, fault mode, words the failing assertion must contain)
    ("prompt_caching_5m", "anthropic", "drop_cache_usage", "turn 1 created no cache"),
    ("prompt_caching_5m", "bedrock_invoke", "drop_cache_usage", "turn 1 created no cache"),
    ("prompt_caching_1h", "anthropic", "downgrade_ttl_1h", "1h TTL silently downgraded"),
    ("prompt_caching_1h", "vertex_ai", "downgrade_ttl_1h", "1h TTL silently downgraded"),
    ("vision", "anthropic", "corrupt_image", "does not name the colour"),
    ("vision", "bedrock_converse", "corrupt_image", "does not name the colour"),
    ("pdf_input", "anthropic", "corrupt_image", "does not contain the PDF's word"),
    ("pdf_input", "vertex_ai", "corrupt_image", "does not contain the PDF's word"),
]


@pytest.mark.parametrize("feature,provider,mode,words", BROKEN)
def test_row_fails_when_its_feature_is_broken(run_row, feature, provider, mode, words):
    cell = run_row(feature, provider, faults=[{"mode": mode, "provider": provider}])
    _assert_fail(cell, words)


def test_caching_evidence_carries_both_views(run_row):
    cell = run_row("prompt_caching_5m", "anthropic", faults=[{"mode": "drop_cache_usage"}])
    extra = _assert_fail(cell, "cache").evidence.extra
    assert len(extra["turn_usage"]) == 2 and len(extra["upstream_usage"]) == 2
    assert all(u["cache_read_input_tokens"] == 0 for u in extra["upstream_usage"])


def test_long_context_fails_without_the_beta(run_row, monkeypatch):
    from worker.checks import long_context_1m

    monkeypatch.setattr(long_context_1m.CHECK, "with_beta", False)
    cell = run_row("long_context_1m", "anthropic")
    tier = _assert_fail(cell, "context-1m-2025-08-07 beta did not reach the upstream", "too long")
    assert tier.evidence.upstream_calls[-1].status == 400


# --- findings with LiteLLM 1.106.2 (these document today's gateway behaviour; a fixed gateway flips them) -------

def test_finding_converse_drops_the_1h_usage_split(run_row):
    """Converse reports cacheDetails [{ttl: 1h}]; LiteLLM's Anthropic adapter emits only cache_creation_input_tokens."""
    cell = run_row("prompt_caching_1h", "bedrock_converse")
    _assert_fail(cell, "gateway dropped the 1h split")


def test_finding_azure_drops_the_context_1m_beta(run_row):
    """With LiteLLM's defaults the azure_ai /v1/messages route rebuilds the headers: the client's anthropic-beta values
    never reach Foundry (the `recommended` profile forwards client headers: tests/integration/test_gateway_profiles.py)."""
    cell = run_row("long_context_1m", "azure", gateway_profile="defaults")
    _assert_fail(cell, "context-1m-2025-08-07 beta did not reach the upstream")
