"""The thinking row fails a gateway that drops the effort the CLI asked for, where the tier's model offers effort on
the column's platform (emulator/catalog.yaml); an effort the model does not offer there is the gateway's to drop."""
from __future__ import annotations

import json
from types import SimpleNamespace

from providers._wire.universal import Reasoning
from worker.checks.thinking import efforts_asked, upstream_effort_problem


def ctx(provider: str, model: str, client_bodies: list[dict], upstream_efforts: list[str | None]):
    captures = [{"method": "POST", "path": "/v1/messages", "body": json.dumps(b)} for b in client_bodies]
    upstream = [SimpleNamespace(reasoning=Reasoning(mode="adaptive", effort=e)) for e in upstream_efforts]
    return SimpleNamespace(client_reader=lambda: captures, provider=SimpleNamespace(route=provider), api_model=model,
                           upstream_requests=lambda: upstream)


ASKED_HIGH = {"model": "x", "messages": [], "output_config": {"effort": "high"}}


def test_efforts_are_read_from_the_clis_model_calls_only():
    assert efforts_asked(ctx("anthropic", "claude-opus-4-5", [ASKED_HIGH, {"messages": []}], [])) == ["high", None]
    # a count_tokens-like body without messages does not count
    assert efforts_asked(ctx("anthropic", "claude-opus-4-5", [{"output_config": {"effort": "low"}}], [])) == []


def test_dropped_effort_fails_where_the_model_offers_it():
    problem = upstream_effort_problem(ctx("vertex_ai", "claude-opus-4-6", [ASKED_HIGH, ASKED_HIGH], ["high", None]))
    assert problem and "effort high on 2 model call(s), 1 reached" in problem


def test_a_call_the_cli_sent_without_effort_is_not_the_gateways_loss():
    # e.g. the CLI's own retry or side request without an effort, passed through unchanged
    assert upstream_effort_problem(ctx("vertex_ai", "claude-opus-4-6", [ASKED_HIGH, {"messages": []}],
                                       ["high", None])) is None


def test_kept_effort_passes():
    assert upstream_effort_problem(ctx("bedrock_invoke", "claude-opus-4-6", [ASKED_HIGH], ["high", "high"])) is None


def test_a_model_without_effort_on_the_platform_may_lose_it():
    # Sonnet 4.5 refuses effort (catalog.yaml): dropping it is what keeps the request valid
    assert upstream_effort_problem(ctx("anthropic", "claude-sonnet-4-5", [ASKED_HIGH], [None])) is None


def test_no_effort_asked_nothing_to_check():
    assert upstream_effort_problem(ctx("anthropic", "claude-opus-4-6", [{"messages": []}], [None])) is None


def test_the_models_default_display_applies_when_the_cli_names_none():
    from worker.checks.thinking import model_default_display

    # Opus 4.7 answers signature-only thinking by default (catalogue); Opus 4.5 answers text
    assert model_default_display(ctx("bedrock_converse", "claude-opus-4-7", [], [])) == "omitted"
    assert model_default_display(ctx("bedrock_converse", "claude-opus-4-5", [], [])) is None


def test_a_red_tier_names_the_dropped_effort_beside_a_truncated_answer():
    """The CLI's symptom must not hide the upstream's cause: at LiteLLM 1.84.0 on Bedrock Converse the answer lost its
    first characters AND the effort never reached the provider (corpus bedrock-converse-effort-dropped)."""
    from worker.checks import thinking

    printed = {}

    class Run:
        duration_ms = 5
        result = SimpleNamespace(result="HT1234")
        transcript = SimpleNamespace(assistant_blocks=lambda kind: [{"thinking": "hmm", "signature": "sig"}])

    base = ctx("bedrock_converse", "claude-sonnet-4-6", [ASKED_HIGH], [None])
    failed = []
    check_ctx = SimpleNamespace(
        **vars(base),
        run_cli=lambda prompt, **kw: printed.setdefault("run", Run()),
        classify=lambda run: None, supporting=lambda name: True, asserted=lambda *n: None,
        failed=lambda run, assertion: failed.append(assertion) or "red",
        passed=lambda run, **kw: "green")
    assert thinking.Thinking().run(check_ctx) == "red"
    (assertion,) = failed
    assert "the CLI printed 'HT1234'" in assertion
    assert "effort high on 1 model call(s), 0 reached the provider" in assertion
