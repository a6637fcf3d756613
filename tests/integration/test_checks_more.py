"""Rows thinking, thinking_with_tool_use, web_search, structured_outputs, count_tokens, tool_search: each passes on a
healthy emulator (anthropic plus one other provider) and FAILS, with the right assertion and evidence, when exactly
its feature is broken. One tier (sonnet) per cell to stay fast.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


from tests.integration.cell_assertions import assert_fail as _assert_fail
from tests.integration.cell_assertions import statuses as _statuses
from tests.integration.cell_assertions import tier_of as _tier


PASSES = [
    ("thinking", "anthropic"),
    ("thinking", "bedrock_converse"),
    ("thinking_with_tool_use", "anthropic"),
    ("thinking_with_tool_use", "vertex_ai"),
    ("web_search", "anthropic"),
    ("web_search", "azure"),
    ("structured_outputs", "anthropic"),
    ("structured_outputs", "bedrock_invoke"),
    ("count_tokens", "anthropic"),
    ("count_tokens", "vertex_ai"),
    ("tool_search", "anthropic"),
    ("tool_search", "bedrock_invoke"),
]


@pytest.mark.parametrize("feature,provider", PASSES)
def test_row_passes(run_cell_here, feature, provider):
    cell = run_cell_here(feature, provider)
    assert cell.status.value == "pass", cell.model_dump_json(indent=1)[:3000]
    tier = _tier(cell)
    assert tier.error is None
    assert tier.evidence.upstream_calls and tier.evidence.result_text
    assert all(s == 200 for s in _statuses(tier)), _statuses(tier)


# --- thinking --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["anthropic", "bedrock_converse"])
def test_thinking_fails_when_thinking_is_stripped(run_cell_here, provider):
    cell = run_cell_here("thinking", provider, faults=[{"mode": "strip_thinking", "provider": provider}])
    tier = _assert_fail(cell, "no thinking block reached the CLI")
    # The answer itself was right: only the thinking was missing.
    assert tier.evidence.result_text and tier.evidence.result_text.startswith("THOUGHT")
    assert _statuses(tier)[-1] == 200


# --- thinking + tool use -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["anthropic", "vertex_ai"])
def test_thinking_with_tool_use_fails_when_the_signature_is_tampered(run_cell_here, provider):
    cell = run_cell_here("thinking_with_tool_use", provider,
                         faults=[{"mode": "tamper_signature", "provider": provider}])
    # The provider refuses the replayed block (400 on turn 2); LiteLLM then strips the thinking blocks and retries
    # with thinking disabled, so the tool round completes — the check catches the silently dropped thinking.
    tier = _assert_fail(cell, "refused the replayed thinking block", "thinking off", "stripped")
    statuses = [s for s in _statuses(tier) if s is not None]
    assert 400 in statuses, statuses
    assert statuses.index(400) >= 1, "the refusal is of the replayed (turn-2) request"
    assert "pong" in (tier.evidence.result_text or "")


# --- web search --------------------------------------------------------------------------------------------------

def test_web_search_fails_when_the_provider_refuses_the_server_tool(run_cell_here):
    cell = run_cell_here("web_search", "anthropic", faults=[{"mode": "refuse_web_search", "provider": "anthropic"}])
    tier = _assert_fail(cell, "the search request was refused", "web_search_20250305")
    assert 400 in _statuses(tier)


def test_web_search_fails_on_bedrock_invoke_today(run_cell_here):
    """A real finding: LiteLLM refuses Anthropic's server-side web search for Bedrock itself (no upstream refusal),
    so the WebSearch tool gets an API error. The gateway is at fault: `fail`, not `error`."""
    cell = run_cell_here("web_search", "bedrock_invoke")
    tier = _assert_fail(cell, "the search request was refused", "API Error: 400")
    assert "web search" in tier.error.lower()
    assert all(s == 200 for s in _statuses(tier)), "the refusal came from the gateway, not the provider"


# --- structured outputs ------------------------------------------------------------------------------------------

def test_structured_outputs_fails_without_the_structured_tool_call(run_cell_here):
    """The model answers plain text instead of calling the StructuredOutput tool: the CLI has no structured_output.
    (scenario reply_text cannot break this row: the StructuredOutput tool call wins over the text override.)"""
    cell = run_cell_here("structured_outputs", "anthropic", faults=[{"mode": "no_tool_use", "provider": "anthropic"}])
    tier = _assert_fail(cell, "the CLI reported no structured_output")
    assert not (tier.evidence.result_text or "").lstrip().startswith("{")


# --- count_tokens ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["anthropic", "vertex_ai"])
def test_count_tokens_fails_on_a_wrong_count(run_cell_here, provider):
    # (Bedrock's count-tokens path is shared by both Bedrock dialects; the emulator attributes it to
    # bedrock_converse, so a fault for provider=bedrock_invoke would not reach it.)
    cell = run_cell_here("count_tokens", provider, faults=[{"mode": "wrong_token_count", "provider": provider}])
    tier = _assert_fail(cell, "count_tokens said", "the provider bills")
    said = int(tier.error.split("count_tokens said ")[1].split(",")[0])
    billed = int(tier.error.split("the provider bills ")[1].split(" ")[0])
    assert said < billed / 2, tier.error
    assert all(s == 200 for s in _statuses(tier)), "both calls succeeded: only the number was wrong"
    # the wrong number came from the provider's own counter: the message says it was asked (not a local estimate)
    assert "the provider's counter was asked (1 call(s))" in tier.error, tier.error


# --- tool search -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["anthropic", "vertex_ai"])
def test_tool_search_fails_when_defer_loading_is_lost(run_cell_here, monkeypatch, provider):
    """The upstream receives the deferred tools without defer_loading (what a gateway dropping the field sends)."""
    from worker.checks import tool_search

    original = tool_search._tool
    monkeypatch.setattr(tool_search, "_tool",
                        lambda name: {k: v for k, v in original(name).items() if k != "defer_loading"})
    cell = run_cell_here("tool_search", provider)
    tier = _assert_fail(cell, "defer_loading was dropped")
    for name in tool_search.DEFERRED:
        assert name in tier.error
    assert _statuses(tier)[-1] == 200


def test_tool_search_fails_when_the_provider_refuses_the_request(run_cell_here):
    cell = run_cell_here("tool_search", "anthropic",
                         faults=[{"status": 400, "provider": "anthropic", "operation": "messages"}])
    tier = _assert_fail(cell, "request refused (400)")
    assert tier.evidence.upstream_calls[-1].status == 400
    assert tier.evidence.api_error_status == 400
