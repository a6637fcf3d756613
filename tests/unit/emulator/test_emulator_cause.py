"""Every answer is tagged with why the emulator gave it: capture keys `cause` and `cause_reason`.

ok (answered normally) · injected (a fault the run asked for) · refused (the request broke the provider's
contract) · emulator_gap (the emulator cannot judge it; it still answers like the provider would).
"""
from __future__ import annotations

import json

import anthropic
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import aws_post
from test_emulator_vertex import exchange, make_jwt

from providers import _aws as aws
from providers.anthropic.credentials import API_KEY as anthropic_key
from providers.azure.credentials import API_KEY as azure_key
from providers.vertex_ai import credentials as vertex

MODEL = "claude-haiku-4-5-20251001"
BODY = {"model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": "Reply with exactly the word: ok"}]}
MID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
INVOKE_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 32,
               "messages": [{"role": "user", "content": "Reply with exactly the word: bedrock"}]}
CONVERSE_BODY = {"messages": [{"role": "user", "content": [{"text": "Reply with exactly the word: conv"}]}]}
VERTEX_BODY = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 32,
               "messages": [{"role": "user", "content": "Reply with exactly the word: vertex"}]}
THINK = {"type": "enabled", "budget_tokens": 2048}
BASH = {"name": "Bash", "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}


def last(emu, job_id) -> dict:
    caps = emu.captures(job_id)
    assert caps, "the answer was captured"
    return caps[-1]


def assert_cause(rec: dict, cause: str, *needles: str) -> None:
    assert rec["cause"] == cause, (rec["cause"], rec["cause_reason"], rec["status"], rec["error"])
    if cause == "ok":
        assert rec["cause_reason"] is None
    else:
        assert rec["cause_reason"] and "\n" not in rec["cause_reason"]
    for needle in needles:
        assert needle in rec["cause_reason"], rec["cause_reason"]


def anthropic_client(emu, key=anthropic_key, base=""):
    return anthropic.Anthropic(base_url=emu.base + base, api_key=key, max_retries=0)


def bedrock_client(emu, secret=aws.AWS_SECRET_ACCESS_KEY):
    return boto3.client("bedrock-runtime", endpoint_url=emu.base, region_name=aws.AWS_REGION,
                        aws_access_key_id=aws.AWS_ACCESS_KEY_ID, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def vertex_token(emu):
    from cryptography.hazmat.primitives import serialization

    path = vertex.service_account(emu.data_dir, emu.base + "/token")
    info = json.loads(path.read_text())
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    emu.job()
    r = exchange(emu, make_jwt(key, info["token_uri"]))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def vertex_url(model="claude-sonnet-4-5@20250929", verb="rawPredict"):
    return (f"/v1/projects/{vertex.PROJECT}/locations/{vertex.LOCATION}/publishers/"
            f"anthropic/models/{model}:{verb}")


# -- ok ------------------------------------------------------------------------------------------------------------

def test_normal_answers_are_ok(emu):
    j = emu.job()
    assert anthropic_client(emu).messages.create(**BODY).content[0].text == "ok"
    assert_cause(last(emu, j), "ok")
    with anthropic_client(emu).messages.stream(**BODY) as s:
        assert s.get_final_message().content[0].text == "ok"
    rec = last(emu, j)
    assert rec["stream"] is True
    assert_cause(rec, "ok")
    r = bedrock_client(emu).converse(modelId=MID, **CONVERSE_BODY)
    assert r["output"]["message"]["content"][0]["text"] == "conv"
    assert_cause(last(emu, j), "ok")


def test_cause_is_in_the_control_listing_and_the_persisted_record(emu):
    j = emu.job()
    emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=dict(BODY, bogus=1))
    listed = emu.http.get("/_emulator/captures", params={"job_id": j}).json()["captures"]
    assert [(c["cause"], c["status"]) for c in listed] == [("ok", 200), ("refused", 400)]
    lines = [json.loads(line) for line in (emu.data_dir / "captures" / f"{j}.jsonl").read_text().splitlines()]
    assert [(c["cause"], c["cause_reason"]) for c in lines] == [(c["cause"], c["cause_reason"]) for c in listed]


# -- injected ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [429, 500])
def test_status_fault_is_injected(emu, status):
    j = emu.job(faults=[{"provider": "anthropic", "status": status}])
    with pytest.raises(anthropic.APIStatusError) as exc:
        anthropic_client(emu).messages.create(**BODY)
    assert exc.value.status_code == status
    assert_cause(last(emu, j), "injected", f"status {status}")


def test_status_fault_wins_over_a_refusal(emu):
    """The fault answers before the body is judged: what the client sees is the injected status."""
    j = emu.job(faults=[{"status": 503}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=dict(BODY, bogus=1))
    assert r.status_code == 503
    assert_cause(last(emu, j), "injected", "status 503")


def test_mode_fault_answered_200_is_injected(emu):
    j = emu.job(faults=[{"mode": "strip_thinking"}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(),
                      json=dict(BODY, max_tokens=4096, thinking=THINK))
    assert r.status_code == 200 and [b["type"] for b in r.json()["content"]] == ["text"]
    assert_cause(last(emu, j), "injected", "mode strip_thinking")


def test_stream_faults_are_injected_only_when_the_stream_carries_them(emu):
    j = emu.job(faults=[{"cut_stream_after": 2}])
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY).status_code == 200
    assert_cause(last(emu, j), "ok")   # a JSON answer has no stream to cut
    with pytest.raises(Exception):
        with anthropic_client(emu).messages.stream(**BODY) as s:
            s.get_final_message()
    assert_cause(last(emu, j), "injected", "stream cut after 2 events")
    j = emu.job(faults=[{"stream_error_after": 3, "provider": "bedrock_converse"}])
    r = bedrock_client(emu).converse_stream(modelId=MID, **CONVERSE_BODY)
    with pytest.raises(Exception):
        list(r["stream"])
    assert_cause(last(emu, j), "injected", "mid-stream provider error after 3 events")


def test_refusals_caused_by_a_mode_are_injected(emu):
    """A mode whose effect is a refusal (refuse_web_search), or whose faulty answer the client replays
    (tamper_signature), is the run's fault, not the client's."""
    j = emu.job(faults=[{"mode": "refuse_web_search"}])
    tools = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}]
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(),
                      json=dict(BODY, tools=tools, messages=[{"role": "user", "content": "Search the web for x"}]))
    assert r.status_code == 400
    assert_cause(last(emu, j), "injected", "mode refuse_web_search")

    j = emu.job(faults=[{"mode": "tamper_signature", "times": 1}])
    body = {"model": MODEL, "max_tokens": 4096, "thinking": THINK, "tools": [BASH],
            "messages": [{"role": "user", "content": "Use the Bash tool to run `echo pong`"}]}
    turn1 = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=body).json()
    assert_cause(last(emu, j), "injected", "mode tamper_signature")
    tu = next(b for b in turn1["content"] if b["type"] == "tool_use")
    turn2 = dict(body, messages=body["messages"] + [
        {"role": "assistant", "content": turn1["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu["id"], "content": "pong"}]}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=turn2)
    assert r.status_code == 400 and "Invalid `signature`" in r.json()["error"]["message"]
    assert_cause(last(emu, j), "injected", "tamper_signature")
    # the same refusal for a signature the client made up is the client's
    bad = dict(turn2, messages=[turn2["messages"][0], {"role": "assistant", "content": [
        dict(turn1["content"][0], signature="RU1VMQ" + "A" * 40), tu]}, turn2["messages"][2]])
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=bad).status_code == 400
    assert_cause(last(emu, j), "refused", "Invalid `signature`")


def test_vertex_token_exchange_takes_only_faults_naming_it(emu, vertex_token):
    from cryptography.hazmat.primitives import serialization

    info = json.loads(vertex.service_account(emu.data_dir, emu.base + "/token").read_text())
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    j = emu.job(faults=[{"status": 500}])
    assert exchange(emu, make_jwt(key, info["token_uri"])).status_code == 200
    assert_cause(last(emu, j), "ok")
    j = emu.job(faults=[{"status": 503, "operation": "token"}])
    assert exchange(emu, make_jwt(key, info["token_uri"])).status_code == 503
    assert_cause(last(emu, j), "injected", "status 503")


# -- refused -------------------------------------------------------------------------------------------------------

def test_sigv4_right_key_id_wrong_secret_is_refused(emu):
    j = emu.job()
    r = aws_post(emu, f"/model/{MID}/invoke", INVOKE_BODY, secret="not-the-secret")
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert_cause(last(emu, j), "refused", "signature we calculated does not match")
    with pytest.raises(ClientError):
        bedrock_client(emu, secret="wrong").converse(modelId=MID, **CONVERSE_BODY)
    assert_cause(last(emu, j), "refused", "signature")


def test_wrong_api_keys_are_refused(emu, vertex_token):
    j = emu.job()
    with pytest.raises(anthropic.AuthenticationError):
        anthropic_client(emu, key="sk-wrong").messages.create(**BODY)
    assert_cause(last(emu, j), "refused", "invalid x-api-key")
    with pytest.raises(anthropic.AuthenticationError):
        anthropic_client(emu, key=anthropic_key, base="/anthropic").messages.create(
            **dict(BODY, model="claude-sonnet-4-5"))
    assert_cause(last(emu, j), "refused", "invalid subscription key")
    r = emu.http.post(vertex_url(), headers={"authorization": "Bearer ya29.not-issued"}, json=VERTEX_BODY)
    assert r.status_code == 401
    assert_cause(last(emu, j), "refused", "invalid authentication credentials")
    r = exchange(emu, "not.a.jwt")
    assert r.status_code == 400
    assert_cause(last(emu, j), "refused", "Invalid JWT")


def test_known_model_in_another_providers_id_shape_is_refused(emu, vertex_token):
    j = emu.job()
    # an Anthropic-style id sent to Bedrock
    r = aws_post(emu, "/model/claude-sonnet-4-5-20250929/invoke", INVOKE_BODY)
    assert r.status_code == 400 and r.json()["message"] == "The provided model identifier is invalid."
    assert_cause(last(emu, j), "refused", "is a Claude API model id, not a Bedrock model id")
    # a Bedrock id sent to Vertex
    r = emu.http.post(vertex_url(MID), headers={"authorization": f"Bearer {vertex_token}"}, json=VERTEX_BODY)
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
    assert_cause(last(emu, j), "refused", "is a Bedrock model id, not a Vertex AI model id")
    # a dated Claude API id sent to Vertex (Vertex writes the date after `@`)
    r = emu.http.post(vertex_url("claude-sonnet-4-5-20250929"), headers={"authorization": f"Bearer {vertex_token}"},
                      json=VERTEX_BODY)
    assert r.status_code == 404
    assert_cause(last(emu, j), "refused", "Claude API model id")
    # Vertex and Bedrock ids sent to the Anthropic API
    for model in ("claude-sonnet-4-5@20250929", MID):
        with pytest.raises(anthropic.NotFoundError):
            anthropic_client(emu).messages.create(**dict(BODY, model=model))
        assert_cause(last(emu, j), "refused", f"model: {model}")


def test_known_model_not_offered_on_the_provider_is_refused(emu):
    j = emu.job()
    azure = anthropic_client(emu, key=azure_key, base="/anthropic")
    with pytest.raises(anthropic.NotFoundError):
        azure.messages.create(**dict(BODY, model="claude-3-haiku-20240307"))
    assert_cause(last(emu, j), "refused", "not offered on azure")
    assert anthropic_client(emu).messages.create(**dict(BODY, model="claude-3-haiku-20240307")).content[0].text == "ok"
    assert_cause(last(emu, j), "ok")


def test_schema_validation_error_is_refused(emu):
    j = emu.job()
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(),
                      json={"model": MODEL, "messages": BODY["messages"]})
    assert r.status_code == 400
    rec = last(emu, j)
    assert_cause(rec, "refused", "max_tokens")
    assert rec["cause_reason"] == r.json()["error"]["message"] == rec["error"]
    msg = aws_post(emu, f"/model/{MID}/converse", dict(CONVERSE_BODY, bogus=1)).json()["message"]
    assert_cause(last(emu, j), "refused", "bogus")
    assert "bogus" in msg


def test_provider_namespace_with_wrong_method_or_shape_is_refused(emu):
    j = emu.job()
    r = emu.http.get("/v1/messages", headers=emu.anthropic_headers())
    assert r.status_code == 405
    rec = last(emu, j)
    assert (rec["provider"], rec["operation"], rec["method"]) == ("anthropic", "messages", "GET")
    assert_cause(rec, "refused", "not supported")
    r = aws_post(emu, f"/model/{MID}/summarize", INVOKE_BODY)
    assert r.status_code == 404 and r.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert_cause(last(emu, j), "refused", "no bedrock-runtime operation")


# -- emulator_gap --------------------------------------------------------------------------------------------------

def test_model_unknown_everywhere_is_a_gap(emu, vertex_token):
    j = emu.job()
    with pytest.raises(anthropic.NotFoundError) as exc:
        anthropic_client(emu).messages.create(**dict(BODY, model="claude-sonnet-9-9"))
    assert exc.value.body["error"] == {"type": "not_found_error", "message": "model: claude-sonnet-9-9"}
    assert_cause(last(emu, j), "emulator_gap", "emulator gap:", "claude-sonnet-9-9")
    r = aws_post(emu, "/model/us.anthropic.claude-sonnet-9-9-v1:0/invoke", INVOKE_BODY)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "ValidationException"
    assert_cause(last(emu, j), "emulator_gap", "emulator gap:", "claude-sonnet-9-9")
    r = emu.http.post(vertex_url("claude-sonnet-9-9@20990101"), headers={"authorization": f"Bearer {vertex_token}"},
                      json=VERTEX_BODY)
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
    assert_cause(last(emu, j), "emulator_gap", "emulator gap:")


@pytest.mark.parametrize("method,path,provider", [("POST", "/", None), ("POST", "/v1/foo", "anthropic"),
                                                  ("GET", "/v1/models", "anthropic")])
def test_unknown_route_is_captured_as_a_gap_under_the_current_job(emu, method, path, provider):
    j = emu.job()
    r = emu.http.request(method, path, headers=emu.anthropic_headers(), content=b'{"x": 1}')
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    rec = last(emu, j)
    assert (rec["job_id"], rec["provider"], rec["operation"], rec["method"], rec["path"], rec["status"]) == \
        (j, provider, "unknown", method, path, 404)
    assert rec["body"] == {"x": 1} and rec["headers"]["x-api-key"] == "***"
    assert_cause(rec, "emulator_gap", "emulator gap:", path)
    assert json.loads((emu.data_dir / "captures" / f"{j}.jsonl").read_text().splitlines()[-1])["cause"] == "emulator_gap"


def test_bedrock_operation_not_emulated_is_a_gap(emu):
    j = emu.job()
    r = aws_post(emu, f"/model/{MID}/invoke-with-bidirectional-stream", INVOKE_BODY)
    assert r.status_code == 404 and "x-amzn-ErrorType" in r.headers
    rec = last(emu, j)
    assert rec["provider"] == "bedrock_invoke"
    assert_cause(rec, "emulator_gap", "InvokeModelWithBidirectionalStream is not emulated")


def test_betas_unknown_everywhere_are_gaps_known_but_refused_here_are_refusals(emu, vertex_token):
    j = emu.job()
    h = emu.anthropic_headers(**{"anthropic-beta": "made-up-2099-01-01"})
    r = emu.http.post("/v1/messages", headers=h, json=BODY)
    assert r.status_code == 400 and "made-up-2099-01-01" in r.json()["error"]["message"]
    assert_cause(last(emu, j), "emulator_gap", "made-up-2099-01-01", "no provider profile")
    # Bedrock refuses files-api-2025-04-14 (providers/bedrock_invoke/profile.yaml: no Files API), which the
    # first-party API accepts
    r = aws_post(emu, f"/model/{MID}/invoke", dict(INVOKE_BODY, anthropic_beta=["files-api-2025-04-14"]))
    assert r.status_code == 400 and r.json()["message"] == "invalid beta flag"
    assert_cause(last(emu, j), "refused", "files-api-2025-04-14")
    r = aws_post(emu, f"/model/{MID}/invoke", dict(INVOKE_BODY, anthropic_beta=["made-up-2099-01-01"]))
    assert r.status_code == 400 and r.json()["message"] == "invalid beta flag"
    assert_cause(last(emu, j), "emulator_gap", "made-up-2099-01-01")
    r = emu.http.post(vertex_url(), headers={"authorization": f"Bearer {vertex_token}",
                                             "anthropic-beta": "prompt-caching-scope-2026-01-05"}, json=VERTEX_BODY)
    assert r.status_code == 400
    assert_cause(last(emu, j), "refused", "prompt-caching-scope-2026-01-05")
    # the Messages API's launch beta, which Portkey's gateway sends on every Anthropic call, is accepted there
    h = emu.anthropic_headers(**{"anthropic-beta": "messages-2023-12-15"})
    assert emu.http.post("/v1/messages", headers=h, json=BODY).status_code == 200
    # a beta of the anthropic SDK's own list is accepted by the first-party API
    h = emu.anthropic_headers(**{"anthropic-beta": "output-300k-2026-03-24"})
    assert emu.http.post("/v1/messages", headers=h, json=BODY).status_code == 200
    assert_cause(last(emu, j), "ok")


def test_tool_types_and_converse_fields_the_emulator_does_not_model_are_gaps(emu):
    j = emu.job()
    # bash_20241022 passes the SDK schema but no provider profile lists it
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(),
                      json=dict(BODY, tools=[{"type": "bash_20241022", "name": "bash"}]))
    assert r.status_code == 400
    assert_cause(last(emu, j), "emulator_gap", "bash_20241022")
    # web_search_20250305 is a known server tool Bedrock does not offer
    r = aws_post(emu, f"/model/{MID}/invoke",
                 dict(INVOKE_BODY, tools=[{"type": "web_search_20250305", "name": "web_search"}]))
    assert r.status_code == 400
    assert_cause(last(emu, j), "refused", "web_search_20250305")
    # additionalModelRequestFields: an Anthropic Messages field the codec does not model vs no such field at all
    r = aws_post(emu, f"/model/{MID}/converse", dict(CONVERSE_BODY, additionalModelRequestFields={"metadata": {}}))
    assert r.status_code == 400
    assert_cause(last(emu, j), "emulator_gap", "additionalModelRequestFields.metadata")
    r = aws_post(emu, f"/model/{MID}/converse", dict(CONVERSE_BODY, additionalModelRequestFields={"bogus": 1}))
    assert r.status_code == 400
    assert_cause(last(emu, j), "refused", "bogus")


def test_internal_error_is_a_gap(emu, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(emu.state.model, "respond", boom)
    j = emu.job()
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert_cause(last(emu, j), "emulator_gap", "emulator internal error: RuntimeError: kaboom")
