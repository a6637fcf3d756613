"""The pass-through columns through the real proxy and the real CLI: Claude Code in its native Bedrock / Vertex mode
(providers/<id>/client.py) at LiteLLM's `/bedrock` and `/vertex_ai` pass-through routes, forwarded to the emulated
provider (the Bedrock Invoke and Vertex AI dialects, reused), judged like every other column — classification by the
emulator's own tags, fidelity with the client side decoded through the column's package.
"""
from __future__ import annotations

import pytest

from ccmatrix.manifest import alias_for, load_manifest

TIERS = ("haiku", "sonnet", "opus")
@pytest.fixture(scope="module")
def run_column(run_cell_here):
    """Run one cell of a pass-through column through the session's environment (run_cell_here's: one sandbox,
    emulator and proxy per config, shut down at the end of the session)."""
    from ccmatrix.contract import CellJob
    from ccmatrix.settings import get_settings
    from worker.cell import run_cell

    manifest = load_manifest()
    document = manifest.model_dump(mode="json")
    counter = {"n": 0}

    def run(feature: str, provider: str, tiers=("sonnet",)):
        counter["n"] += 1
        job = CellJob(run_id=f"passthrough{counter['n']}", feature=feature, provider=provider, tiers=list(tiers),
                      litellm_version=manifest.litellm_version, claude_code_version=manifest.claude_code_version,
                      manifest=document)
        return run_cell(job, get_settings()), document

    return run


def _model(document: dict, provider: str, tier: str) -> str:
    return next(p for p in document["providers"] if p["id"] == provider)["models"][tier]


def test_bedrock_passthrough_streams_on_every_tier(run_column):
    """basic_messaging_streaming: the CLI's native Bedrock stream goes through /bedrock to InvokeModel (SigV4-signed by
    the gateway: the emulator checked it) at the deployment's model id, and its deltas reach the CLI one by one."""
    outcome, document = run_column("basic_messaging_streaming", "bedrock_passthrough", TIERS)
    assert outcome.status.value == "pass", outcome.model_dump_json(indent=1)[:3000]
    tier_model = load_manifest().tiers
    for tier in TIERS:
        result = outcome.tiers[tier]
        calls = result.evidence.upstream_calls
        assert calls and {(c.method, c.path, c.status, c.cause) for c in calls} == {
            ("POST", f"/model/{_model(document, 'bedrock_passthrough', tier)}/invoke-with-response-stream", 200, "ok")}
        assert not result.evidence.findings  # nothing reached for the internet
        # fidelity: the client side (the CLI's InvokeModel body at /bedrock/model/<alias>/...) decoded and compared
        fidelity = result.fidelity
        assert fidelity["turns"] == 1 and fidelity["verdict"] != "unknown", fidelity
        model = next(r for r in fidelity["records"] if r["path"] == "turn[0].envelope.model")
        assert model["before"] == alias_for(tier_model[tier], "bedrock_passthrough")
        assert model["status"] == "expected"
        # forwarded as the CLI sent it; what is lost is the CLI's anthropic-beta header (the body's list arrives)
        unexpected = {r["path"] for r in fidelity["records"] if r["status"] == "unexpected"}
        assert unexpected <= {"turn[0].betas[claude-code-20250219]"}, fidelity


def test_bedrock_passthrough_tool_use_loses_thinking_on_the_second_turn(run_column):
    """tool_use at LiteLLM 1.106.2: a `fail`, and why. The gateway forwards both turns byte for byte (fidelity: no
    difference in the messages), but it relays Bedrock's own message_start `model` (the provider's name for the
    model) while the CLI asked for the alias: Claude Code keeps a signed thinking block only from replies naming the
    model it asked for (musistudio/claude-code-router#1629 traces the same rule), so turn 2 carries the tool_use
    without its thinking block and Bedrock refuses it. LiteLLM's own pass-through cells never see this: they run
    one turn (BerriAI/litellm tests/e2e/claude_code/_passthrough.py)."""
    outcome, _ = run_column("tool_use", "bedrock_passthrough")
    sonnet = outcome.tiers["sonnet"]
    assert outcome.status.value == "fail" and sonnet.cause == "gateway", outcome.model_dump_json(indent=1)[:3000]
    assert "must start with a thinking block" in sonnet.error
    assert [c.status for c in sonnet.evidence.upstream_calls] == [200, 400]
    fidelity = sonnet.fidelity
    assert fidelity["turns"] == 2
    assert not [r for r in fidelity["records"] if ".messages" in r["path"]], fidelity  # the CLI sent it so


def test_bedrock_passthrough_rows_that_do_not_apply_are_not_applicable_by_data(run_column):
    manifest = load_manifest()
    rows = [f for f in manifest.features if "bedrock_passthrough" in f.not_applicable]
    assert {f.id for f in rows} == {"basic_messaging_non_streaming", "count_tokens", "tool_search", "web_search"}
    outcome, _ = run_column("count_tokens", "bedrock_passthrough")
    assert outcome.status.value == "not_applicable"
    assert outcome.tiers["sonnet"].reason == manifest.feature("count_tokens").not_applicable["bedrock_passthrough"]


def test_vertex_passthrough_resolves_the_deployment_and_calls_vertex_at_its_production_host(run_column):
    """What LiteLLM's /vertex_ai route does with the CLI's native Vertex request: the alias in the path names the
    `use_in_pass_through` deployment, whose service account the gateway exchanges for a token (at the emulator's
    token endpoint), and whose project, location and model replace the CLI's placeholders; then it calls
    https://<location>-aiplatform.googleapis.com — the route has no api_base
    (llm_passthrough_endpoints.get_vertex_base_url). Where the sandbox routes the providers' hostnames to the
    emulator, the emulator receives that request; where it cannot, the host is an egress finding."""
    outcome, document = run_column("basic_messaging_streaming", "vertex_passthrough")
    sonnet = outcome.tiers["sonnet"]
    calls = [(c.path, c.status, c.cause) for c in sonnet.evidence.upstream_calls]
    assert calls[:1] == [("/token", 200, "ok")], calls
    if calls[1:]:
        from providers.vertex_ai import credentials

        model = _model(document, "vertex_passthrough", "sonnet")
        assert calls[1][0] == (f"/v1/projects/{credentials.PROJECT}/locations/{credentials.LOCATION}/publishers/"
                               f"anthropic/models/{model}:streamRawPredict"), calls
    else:
        assert "egress attempt blocked: DNS lookup of us-east5-aiplatform.googleapis.com" in sonnet.evidence.findings


def test_vertex_passthrough_streams(run_column):
    outcome, _ = run_column("basic_messaging_streaming", "vertex_passthrough")
    assert outcome.status.value == "pass", outcome.error
