"""Every row passes on a healthy emulator and FAILS, with the right evidence, when exactly its feature is broken.

A check that cannot be made to fail is not done: each row has a `broken` case below.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def _tier(cell, tier="sonnet"):
    return cell.tiers[tier]


@pytest.mark.parametrize("feature", ["basic_messaging_non_streaming", "basic_messaging_streaming", "tool_use",
                                     "tool_use_streaming"])
def test_row_passes_on_anthropic(run_cell_here, feature):
    cell = run_cell_here(feature, "anthropic")
    assert cell.status.value == "pass", cell.model_dump_json(indent=1)[:3000]
    evidence = _tier(cell).evidence
    assert evidence.upstream_calls and evidence.result_text


BROKEN = [
    # (feature, provider, fault, words the failing assertion must contain)
    ("basic_messaging_streaming", "anthropic", {"mode": "buffer_stream"}, "buffered"),
    ("tool_use", "anthropic", {"mode": "no_tool_use"}, "tool_use"),
    ("tool_use_streaming", "bedrock_converse", {"mode": "buffer_stream"}, "buffered"),
]


@pytest.mark.parametrize("feature,provider,fault,words", [b for b in BROKEN if b[3]])
def test_row_fails_when_its_feature_is_broken(run_cell_here, feature, provider, fault, words):
    cell = run_cell_here(feature, provider, faults=[{**fault, "provider": provider}])
    assert cell.status.value == "fail", cell.model_dump_json(indent=1)[:3000]
    tier = _tier(cell)
    assert words in tier.error
    assert tier.evidence.assertion == tier.error
    assert tier.evidence.upstream_calls, "a failing cell carries the upstream calls as evidence"


def test_basic_messaging_fails_on_a_wrong_answer(run_cell_here):
    cell = run_cell_here("basic_messaging_non_streaming", "vertex_ai", scenario={"reply_text": "BANANA"})
    assert cell.status.value == "fail"
    assert "expected exactly" in _tier(cell).error and "BANANA" in _tier(cell).error


@pytest.mark.parametrize("provider", ["anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "azure"])
def test_basic_messaging_passes_on_every_column_and_tier(run_cell_here, provider):
    """Issue 3's bar: the real CLI through the real LiteLLM proxy to each of the five emulated providers."""
    cell = run_cell_here("basic_messaging_non_streaming", provider, tiers=("haiku", "sonnet", "opus"))
    assert cell.status.value == "pass", cell.model_dump_json(indent=1)[:3000]
    assert {t: r.status.value for t, r in cell.tiers.items()} == {"haiku": "pass", "sonnet": "pass", "opus": "pass"}
    for tier in cell.tiers.values():
        assert all(c.status == 200 for c in tier.evidence.upstream_calls)
