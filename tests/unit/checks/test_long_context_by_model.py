"""long_context_1m follows the tier's model (the model catalogue, emulator/catalog.yaml): native 1M → no beta sent;
1M through the beta → `--betas context-1m-2025-08-07`; no 1M → not_applicable naming the model and its window.
The beta is judged only on the requests that carried the long prompt. Fabricated CheckContext and captures; the CLI
is never run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccmatrix.manifest import Provider, alias_for
from ccmatrix.outcomes import Status
from worker.check import CheckContext
from worker.checks import long_context_1m as lc
from worker.stream_json import Transcript, parse

PROVIDERS = {pid: Provider(id=pid, name=pid, route=pid)
             for pid in ("anthropic", "bedrock_invoke", "vertex_passthrough", "azure")}
WORD = "Longcafe0123"
LONG = [{"type": "text", "text": lc.MARKER + "The archive line 000001 holds nothing ...\n"},
        {"type": "text", "text": f"Reply with exactly the word: {WORD}"}]
BIG = {"input_tokens": 4, "cache_creation_input_tokens": 214_000, "cache_read_input_tokens": 0, "output_tokens": 5}


class Sandbox:
    def egress_attempts(self, since):
        return []


class Run:
    def __init__(self, usage=None, answer=WORD):
        line = {"type": "result", "subtype": "success", "is_error": False, "num_turns": 1, "result": answer,
                "usage": BIG if usage is None else usage}
        self.transcript = Transcript(parse(json.dumps(line)))
        self.duration_ms = 10

    @property
    def result(self):
        return self.transcript.result


def ctx(model, provider="anthropic", captures=(), emulated=True):
    c = CheckContext(feature=None, provider=PROVIDERS[provider], tier="sonnet", model=alias_for(model, provider),
                     job_id="j", settings=None, emulated=emulated, claude_binary=Path("/bin/true"), proxy_url="",
                     proxy_key="k", sandbox=Sandbox(), upstream_reader=lambda: list(captures),
                     set_faults=lambda f: None)
    c.cli_args = []

    def run_cli(prompt, *, args=None, env=None, stdin_data=None, files=None):
        c.cli_args.append(list(args or []))
        asked = json.loads(stdin_data)["message"]["content"][-1]["text"]
        return Run(answer=asked.rsplit(" ", 1)[-1])  # the scripted model answers the word asked for

    c.run_cli = run_cli
    c.classify = lambda run: None
    return c


def capture(content, status=200, betas=(), usage=None, reason=None):
    return {"method": "POST", "path": "/v1/messages", "operation": "messages", "status": status,
            "cause": "ok" if status == 200 else "refused", "cause_reason": reason,
            "headers": {"anthropic-beta": ",".join(betas), "anthropic-version": "2023-06-01"},
            "body": {"model": "m", "max_tokens": 32000, "stream": True,
                     "messages": [{"role": "user", "content": content}]},
            "response": {"content": [{"type": "text", "text": WORD}], "stop_reason": "end_turn",
                         "usage": BIG if usage is None else usage} if status == 200 else None}


SIDE = [{"type": "text", "text": "Give this conversation a short title"}]


# --- the model decides ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider,model,mode", [
    ("anthropic", "claude-sonnet-5-5", lc.NATIVE),
    ("bedrock_invoke", "claude-opus-5-5", lc.NATIVE),
    ("vertex_passthrough", "claude-haiku-5-5", lc.NATIVE),
    ("anthropic", "claude-sonnet-4-5-20250929", lc.VIA_BETA),
    ("azure", "claude-sonnet-4-5", lc.VIA_BETA),
    ("anthropic", "claude-haiku-4-5-20251001", lc.NO_1M),
    ("bedrock_invoke", "claude-opus-4-5-20251101", lc.NO_1M),
    ("anthropic", "claude-unheard-of-9", lc.UNKNOWN),
])
def test_the_catalogue_decides_how_the_model_offers_1m(provider, model, mode):
    assert lc.context_mode(provider, model)[0] == mode


def test_the_tier_model_is_the_alias_without_the_column():
    assert ctx("claude-sonnet-4-5-20250929", "bedrock_invoke").api_model == "claude-sonnet-4-5-20250929"
    assert ctx("claude-haiku-5-5", "vertex_passthrough").api_model == "claude-haiku-5-5"


def test_a_200k_model_is_not_applicable_naming_model_and_window():
    c = ctx("claude-haiku-4-5-20251001")
    out = lc.CHECK.run(c)
    assert out.status == Status.NOT_APPLICABLE
    assert "claude-haiku-4-5-20251001" in out.reason and "200,000-token context window" in out.reason
    assert c.cli_args == []  # the CLI never ran


def test_a_model_the_catalogue_does_not_know_is_an_emulator_gap():
    out = lc.CHECK.run(ctx("claude-unheard-of-9"))
    assert out.status == Status.ERROR and out.cause == "emulator_gap"


def test_a_native_1m_model_gets_no_beta_and_passes():
    c = ctx("claude-sonnet-5-5", captures=[capture(LONG)])
    out = lc.CHECK.run(c)
    assert out.status == Status.PASS, out.error
    assert "--betas" not in c.cli_args[0]
    assert c.ran == [lc.ACCEPTED]
    assert out.evidence.extra["context"].startswith("claude-sonnet-5-5 has a native 1,000,000-token window")


def test_a_beta_model_gets_the_beta_and_passes_when_it_reached_the_upstream():
    c = ctx("claude-sonnet-4-5-20250929", captures=[capture(LONG, betas=[lc.BETA])])
    out = lc.CHECK.run(c)
    assert out.status == Status.PASS, out.error
    assert c.cli_args[0][-2:] == ["--betas", lc.BETA]


def test_a_beta_model_fails_when_the_accepted_long_request_lacked_the_beta():
    c = ctx("claude-sonnet-4-5-20250929", captures=[capture(LONG, betas=["claude-code-20250219"])])
    out = lc.CHECK.run(c)
    assert out.status == Status.FAIL
    assert out.error.startswith(f"the {lc.BETA} beta did not reach the upstream on the accepted request")


def test_a_side_call_without_the_long_prompt_needs_no_beta():
    captures = [capture(LONG, betas=[lc.BETA]), capture(SIDE, betas=["claude-code-20250219"], usage={"input_tokens": 9})]
    c = ctx("claude-sonnet-4-5-20250929", captures=captures)
    assert lc.LongContext1m.beta_missing(c) is None
    assert lc.CHECK.run(c).status == Status.PASS


def test_the_cli_dropping_the_beta_on_a_retry_is_not_the_beta_missing():
    """Claude Code 2.1.332 on a 400 "invalid beta flag" retries without some of its betas, context-1m among them:
    bedrock_invoke's refusal was another beta (per-turn-control), not the missing 1M beta."""
    why = "invalid beta flag (not accepted on bedrock_invoke: per-turn-control-2026-07-01)"
    captures = [capture(LONG, 400, [lc.BETA, "per-turn-control-2026-07-01"], reason=why),
                capture(LONG, 400, ["per-turn-control-2026-07-01"], reason=why),
                capture(LONG, 400, [lc.BETA, "per-turn-control-2026-07-01"], reason=why)]
    c = ctx("claude-sonnet-4-5-20250929", captures=captures)
    assert lc.LongContext1m.beta_missing(c) is None
    assert lc.LongContext1m.refused_with_beta(c) is None  # refused, but not as too long


def test_the_beta_missing_on_every_long_request_is_named():
    captures = [capture(LONG, 400, ["claude-code-20250219"], reason="prompt is too long: 214000 tokens > 200000"),
                capture(SIDE, 200, [lc.BETA], usage={"input_tokens": 9})]
    message = lc.LongContext1m.beta_missing(ctx("claude-sonnet-4-5-20250929", captures=captures))
    assert message == (f"the {lc.BETA} beta did not reach the upstream on any of the 1 request(s) that carried the "
                       "long prompt (betas: ['claude-code-20250219'])")


def test_a_refusal_as_too_long_with_the_beta_is_named():
    captures = [capture(LONG, 400, [lc.BETA], reason="prompt is too long: 214000 tokens > 200000 maximum")]
    message = lc.LongContext1m.refused_with_beta(ctx("claude-sonnet-4-5-20250929", captures=captures))
    assert message.startswith(f"the {lc.BETA} beta reached the upstream, which still refused the prompt as too long")


def test_a_native_model_whose_upstream_counted_200k_or_less_fails():
    c = ctx("claude-opus-5-5", captures=[capture(LONG, usage={"input_tokens": 150_000})])
    out = lc.CHECK.run(c)
    assert out.status == Status.FAIL and "the upstream counted 150000 input tokens" in out.error
