"""Who is to blame: the classifier reads the emulator's tags in emulator mode, statuses against a real provider;
a tier passes only when its decisive assertions ran; egress findings and the gateway's answer reach every outcome."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ccmatrix.outcomes import Status, TierResult, UpstreamCall
from worker.check import CheckContext
from worker.classify import classify_http, gateway_answer_from_cli, judge


def call(status, cause, path="/v1/messages", reason=None):
    return UpstreamCall(method="POST", path=path, status=status, cause=cause, reason=reason)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refusal_the_emulator_gave_is_the_gateways_fail_whatever_its_status(status):
    verdict = judge(status, "API Error", [call(status, "refused", reason="signature does not match")], emulated=True)
    assert (verdict.kind, verdict.cause) == ("fail", "gateway")
    assert "signature does not match" in verdict.text


@pytest.mark.parametrize("status,cause", [(401, "infrastructure"), (403, "infrastructure"), (404, "infrastructure"),
                                          (429, "provider"), (529, "provider"), (500, "provider")])
def test_an_injected_status_is_an_error(status, cause):
    verdict = judge(status, "x", [call(status, "injected", reason="fault status")], emulated=True)
    assert (verdict.kind, verdict.cause) == ("error", cause)
    assert "injected" in verdict.text


def test_an_emulator_gap_is_an_error_never_pass_nor_fail():
    verdict = judge(404, "x", [call(404, "emulator_gap", path="/", reason="no route for POST /")], emulated=True)
    assert (verdict.kind, verdict.cause) == ("error", "emulator_gap")
    assert verdict.text.startswith("emulator gap")


def test_the_last_non_ok_answer_explains_the_error():
    calls = [call(404, "emulator_gap"), call(200, "ok"), call(400, "refused", reason="bad field")]
    assert judge(400, "x", calls, emulated=True).cause == "gateway"


def test_an_error_without_any_upstream_call_is_the_gateways_fail():
    verdict = judge(500, "litellm.InternalServerError", [], emulated=True)
    assert (verdict.kind, verdict.cause) == ("fail", "gateway")
    assert "without calling the provider" in verdict.text


def test_an_error_after_good_answers_is_the_gateways_fail():
    verdict = judge(500, "boom", [call(200, "ok")], emulated=True)
    assert (verdict.kind, verdict.cause) == ("fail", "gateway")


def test_real_provider_statuses_keep_the_classic_reading():
    assert judge(404, "x", [], emulated=False).cause == "infrastructure"
    assert judge(429, "x", [], emulated=False).cause == "provider"
    assert judge(400, "x", [], emulated=False).kind == "fail"


def test_the_cli_error_line_gives_the_gateways_answer_when_no_recorder_saw_it():
    answer = gateway_answer_from_cli(400, 'API Error: 400 {"error":{"message":"litellm.BadRequestError: x"}}')
    assert answer.status == 400 and answer.body.startswith('{"error"') and answer.source == "cli"
    assert gateway_answer_from_cli(None, "API Error: boom") is None


def test_a_direct_request_keeps_the_gateways_answer():
    outcome = classify_http(400, '{"error": "nope"}', [call(400, "refused")], emulated=True)
    assert outcome.status == Status.FAIL and outcome.cause == "gateway"
    assert outcome.evidence.gateway_response.body == '{"error": "nope"}'


# --- CheckContext.finalize: one place for what every outcome carries ---------------------------------------------
class FakeSandbox:
    def __init__(self, names):
        self.names = names

    def egress_attempts(self, since):
        return self.names


def ctx(emulated=True, decisive=(), client=(), egress=(), secrets=()):
    return CheckContext(feature=None, provider=None, tier="sonnet", model="m", job_id="j", settings=None,
                        emulated=emulated, claude_binary=Path("/bin/true"), proxy_url="", proxy_key="k",
                        sandbox=FakeSandbox(list(egress)), upstream_reader=lambda: [], set_faults=lambda f: None,
                        client_reader=lambda: list(client), decisive=tuple(decisive), secrets=tuple(secrets))


def test_a_pass_without_its_decisive_assertions_is_not_tested():
    c = ctx(emulated=False, decisive=("the provider ran the search",))
    out = c.finalize(TierResult.passed())
    assert out.status == Status.NOT_TESTED
    assert "the provider ran the search" in out.reason and "real provider" in out.reason


def test_a_pass_with_its_decisive_assertions_stays_a_pass():
    c = ctx(decisive=("a", "b"))
    c.asserted("a")
    c.asserted("b")
    out = c.finalize(TierResult.passed())
    assert out.status == Status.PASS and out.evidence.decisive == ["a", "b"]


def test_supporting_assertions_skipped_against_a_real_provider_are_listed():
    c = ctx(emulated=False)
    assert c.supporting("upstream saw a stream") is False
    out = c.finalize(TierResult.passed())
    assert out.evidence.extra["supporting_not_run"] == ["upstream saw a stream"]


def test_egress_findings_reach_an_early_outcome():
    c = ctx(egress=["api.anthropic.com"])
    out = c.finalize(TierResult.errored("boom"))
    assert out.evidence.findings == ["egress attempt blocked: DNS lookup of api.anthropic.com"]


def test_the_gateways_answer_comes_from_the_recorder_masked():
    client = [{"method": "HEAD", "status": 200},
              {"method": "POST", "status": 400, "response_error": '{"error": "key sk-secret-123 refused"}'}]
    c = ctx(client=client, secrets=("sk-secret-123",))
    out = c.finalize(TierResult.failed("refused"))
    assert out.evidence.gateway_response.status == 400
    assert out.evidence.gateway_response.source == "recorder"
    assert "sk-secret-123" not in out.evidence.gateway_response.body and "***" in out.evidence.gateway_response.body


def test_a_pass_carries_no_gateway_response():
    c = ctx(client=[{"method": "POST", "status": 400, "response_error": "x"}])
    assert c.finalize(TierResult.passed()).evidence.gateway_response is None


def test_fidelity_with_nothing_captured_is_unknown():
    from fidelity import RuleSet, compare_run

    result = compare_run([], [], provider="anthropic", tier="sonnet", litellm_version="1", rules=RuleSet.load())
    assert result.verdict == "unknown" and "nothing captured" in result.notes[-1]


def test_strict_fidelity_fails_an_unknown_verdict():
    from worker import judge

    env = SimpleNamespace(client_captures=lambda j: [], captures=lambda j: [])
    job = SimpleNamespace(litellm_version="1")
    provider = SimpleNamespace(id="anthropic", models={})
    outcome = TierResult.passed()
    judge.judge_fidelity(outcome, env, job, "j", provider, "sonnet", strict=True)
    assert outcome.fidelity["verdict"] == "unknown"
    assert outcome.status == Status.FAIL and "could not be judged" in outcome.error
    lenient = TierResult.passed()
    judge.judge_fidelity(lenient, env, job, "j", provider, "sonnet", strict=False)
    assert lenient.status == Status.PASS and lenient.fidelity["verdict"] == "unknown"


def test_a_comparison_that_crashes_is_unknown_with_the_error():
    from worker import judge

    def boom(job_id):
        raise RuntimeError("decoder exploded")

    env = SimpleNamespace(client_captures=boom, captures=lambda j: [])
    outcome = TierResult.passed()
    judge.judge_fidelity(outcome, env, SimpleNamespace(litellm_version="1"), "j",
                         SimpleNamespace(id="anthropic", models={}), "sonnet", strict=True)
    assert outcome.fidelity["verdict"] == "unknown" and "decoder exploded" in outcome.fidelity["notes"][0]
    assert outcome.status == Status.FAIL


def test_cell_fidelity_counts_unknown_as_worse_than_clean():
    from worker.judge import cell_fidelity

    tiers = {"a": TierResult.passed(fidelity={"verdict": "clean"}),
             "b": TierResult.passed(fidelity={"verdict": "unknown"})}
    assert cell_fidelity(tiers)["verdict"] == "unknown"
