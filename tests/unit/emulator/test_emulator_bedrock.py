"""Bedrock invoke + converse through boto3 and raw SigV4-signed requests."""
from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import aws_post, decode_frames

from providers import _aws as aws

MID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
INVOKE_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
               "messages": [{"role": "user", "content": "Reply with exactly the word: bedrock"}]}


def client(emu, secret=aws.AWS_SECRET_ACCESS_KEY):
    return boto3.client("bedrock-runtime", endpoint_url=emu.base, region_name=aws.AWS_REGION,
                        aws_access_key_id=aws.AWS_ACCESS_KEY_ID, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))


def test_converse(emu, job):
    r = client(emu).converse(modelId=MID, messages=[{"role": "user", "content": [{"text": "Reply with exactly the word: conv"}]}],
                             inferenceConfig={"maxTokens": 64})
    assert r["output"]["message"]["content"] == [{"text": "conv"}] and r["stopReason"] == "end_turn"
    u = r["usage"]
    assert u["inputTokens"] > 0 and u["totalTokens"] == u["inputTokens"] + u["outputTokens"] + u["cacheReadInputTokens"] + u["cacheWriteInputTokens"]
    cap = emu.captures(job)[-1]
    assert cap["provider"] == "bedrock_converse" and cap["operation"] == "converse" and cap["headers"]["authorization"] == "***"


def test_converse_stream(emu, job):
    r = client(emu).converse_stream(modelId=MID, messages=[{"role": "user", "content": [{"text": "Count from 1 to 6"}]}])
    events = list(r["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"]
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert len(texts) >= 2 and "".join(texts).split() == list("123456")
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_invoke_and_stream(emu, job):
    c = client(emu)
    r = c.invoke_model(modelId=MID, body=json.dumps(INVOKE_BODY))
    assert json.loads(r["body"].read())["content"][0]["text"] == "bedrock"
    body = dict(INVOKE_BODY, messages=[{"role": "user", "content": "Count from 1 to 5"}])
    r = c.invoke_model_with_response_stream(modelId=MID, body=json.dumps(body))
    events = [json.loads(e["chunk"]["bytes"]) for e in r["body"]]
    types = [e["type"] for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    assert types.count("content_block_delta") >= 2
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] == events[0]["message"]["usage"]["input_tokens"]
    assert metrics["outputTokenCount"] > 0


@pytest.mark.parametrize("path,body", [
    (f"/model/{MID}/invoke-with-response-stream", INVOKE_BODY),
    (f"/model/{MID.replace(':', '%3A')}/converse-stream",
     {"messages": [{"role": "user", "content": [{"text": "Count from 1 to 9"}]}]}),
])
def test_every_frame_round_trips_through_botocore(emu, job, path, body):
    r = aws_post(emu, path, body)
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.amazon.eventstream"
    frames = decode_frames(r.content)
    assert len(frames) >= 4
    assert all(f.headers[":message-type"] == "event" for f in frames)
    for f in frames:
        json.loads(f.payload)


def test_model_id_raw_colon_and_percent_encoded(emu, job):
    body = {"messages": [{"role": "user", "content": [{"text": "Reply with exactly the word: ok"}]}]}
    assert aws_post(emu, f"/model/{MID}/converse", body).status_code == 200
    assert aws_post(emu, f"/model/{MID.replace(':', '%3A')}/converse", body).status_code == 200


def test_bad_signature_403(emu, job):
    r = aws_post(emu, f"/model/{MID}/invoke", INVOKE_BODY, secret="not-the-secret")
    assert r.status_code == 403
    assert r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert r.json()["message"].startswith("The request signature we calculated does not match")
    with pytest.raises(ClientError) as ei:
        client(emu, secret="wrong").converse(modelId=MID, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert ei.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_tampered_body_fails_signature(emu, job):
    raw = json.dumps(INVOKE_BODY).encode()
    from conftest import sigv4_headers
    headers = sigv4_headers(emu.base + f"/model/{MID}/invoke", raw)
    r = emu.http.post(f"/model/{MID}/invoke", content=raw.replace(b"bedrock\"", b"bedrocK\""), headers=headers)
    assert r.status_code in (400, 403) and "x-amzn-ErrorType" in r.headers


def test_unknown_access_key_and_missing_auth(emu, job):
    r = aws_post(emu, f"/model/{MID}/invoke", INVOKE_BODY, akid="AKIAOTHER0000000000")
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "UnrecognizedClientException"
    r = emu.http.post(f"/model/{MID}/invoke", json=INVOKE_BODY)
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def _refused(r, etype="ValidationException", status=400):
    assert r.status_code == status, r.text
    assert r.headers["x-amzn-ErrorType"] == etype
    assert set(r.json()) == {"message"}
    return r.json()["message"]


def test_converse_unknown_top_level_field(emu, job):
    msg = _refused(aws_post(emu, f"/model/{MID}/converse", {"messages": [{"role": "user", "content": [{"text": "x"}]}], "bogus": 1}))
    assert "bogus" in msg


@pytest.mark.parametrize("body,needle", [
    ({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}, "must start with a user message"),
    ({"messages": [{"role": "user", "content": [{"text": "x"}]}, {"role": "user", "content": [{"text": "y"}]}]}, "alternate"),
    ({"messages": [{"role": "user", "content": [{"text": "x", "image": {"format": "png", "source": {"bytes": "AA=="}}}]}]}, ""),
    ({"messages": [{"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "x"}]}}]}]}, "toolConfig"),
    ({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"maxTokens": "ten"}}, "maxTokens"),
    ({"messages": [{"role": "user", "content": [{"text": "x"}]}], "additionalModelRequestFields": {"anthropic_beta": ["prompt-caching-scope-2026-01-05"]}}, "invalid beta flag"),
    ({"messages": [{"role": "user", "content": [{"text": "x"}]}], "additionalModelRequestFields": {"frobnicate": True}}, "frobnicate"),
    ({"messages": [{"role": "user", "content": [{"document": {"format": "pdf", "name": "bad_name.pdf", "source": {"bytes": "JVBERg=="}}}]}]}, "file name"),
])
def test_converse_invalid(emu, job, body, needle):
    assert needle in _refused(aws_post(emu, f"/model/{MID}/converse", body))


@pytest.mark.parametrize("mutate,needle", [
    (lambda b: b.pop("anthropic_version"), "anthropic_version"),
    (lambda b: b.update(model="claude"), "model: Extra inputs"),
    (lambda b: b.update(anthropic_beta=["prompt-caching-scope-2026-01-05"]), "invalid beta flag"),
    (lambda b: b.update(context_management={"edits": []}), "context_management"),
    (lambda b: b.update(tools=[{"type": "web_search_20250305", "name": "web_search"}]), "web_search_20250305"),
    (lambda b: b.update(max_tokens="x"), "max_tokens"),
])
def test_invoke_invalid(emu, job, mutate, needle):
    body = json.loads(json.dumps(INVOKE_BODY))
    mutate(body)
    assert needle in _refused(aws_post(emu, f"/model/{MID}/invoke", body))


def test_model_identifiers(emu, job):
    _refused(aws_post(emu, "/model/openai.gpt-5/invoke", INVOKE_BODY))
    msg = _refused(aws_post(emu, "/model/anthropic.claude-sonnet-4-5-20250929-v1:0/invoke", INVOKE_BODY))
    assert "inference profile" in msg


def test_count_tokens_both_forms_match_usage(emu, job):
    c = client(emu)
    conv = c.count_tokens(modelId=MID, input={"converse": {"messages": [{"role": "user", "content": [{"text": "Reply with exactly the word: n"}]}]}})
    r = c.converse(modelId=MID, messages=[{"role": "user", "content": [{"text": "Reply with exactly the word: n"}]}])
    assert conv["inputTokens"] == r["usage"]["inputTokens"] > 0
    inv = c.count_tokens(modelId=MID, input={"invokeModel": {"body": json.dumps(INVOKE_BODY).encode()}})
    r = json.loads(c.invoke_model(modelId=MID, body=json.dumps(INVOKE_BODY))["body"].read())
    assert inv["inputTokens"] == r["usage"]["input_tokens"]
    assert emu.captures(job)[-2]["provider"] == "bedrock_invoke"


def test_bedrock_bearer_api_key(emu, job):
    h = {"authorization": f"Bearer {aws.BEDROCK_API_KEY}", "content-type": "application/json"}
    assert emu.http.post(f"/model/{MID}/invoke", json=INVOKE_BODY, headers=h).status_code == 200
    h["authorization"] = "Bearer wrong"
    assert emu.http.post(f"/model/{MID}/invoke", json=INVOKE_BODY, headers=h).status_code == 403


def test_fault_bedrock_shape(emu):
    emu.job(faults=[{"provider": "bedrock_converse", "status": 429}])
    r = aws_post(emu, f"/model/{MID}/converse", {"messages": [{"role": "user", "content": [{"text": "x"}]}]})
    assert r.status_code == 429 and r.headers["x-amzn-ErrorType"] == "ThrottlingException" and "retry-after" in r.headers


def test_fault_malformed_event_stream_frame(emu):
    from botocore.eventstream import ChecksumMismatch
    emu.job(faults=[{"provider": "bedrock_invoke", "malformed_frame": True}])
    r = aws_post(emu, f"/model/{MID}/invoke-with-response-stream", INVOKE_BODY)
    with pytest.raises(ChecksumMismatch):
        decode_frames(r.content)


def test_invoke_reads_betas_from_the_body_only(emu, job):
    # Claude Code's own Bedrock mode sends `anthropic-beta: claude-code-20250219` on every request (measured) and
    # Bedrock answers it: the header is not part of InvokeModel (botocore's model); the body's anthropic_beta is.
    header = {"anthropic-beta": "prompt-caching-scope-2026-01-05,oauth-2025-04-20"}
    ok = aws_post(emu, f"/model/{MID}/invoke", INVOKE_BODY, extra=header)
    assert ok.status_code == 200, ok.text
    assert ok.json()["content"][0]["text"] == "bedrock"
    refused = aws_post(emu, f"/model/{MID}/invoke", dict(INVOKE_BODY, anthropic_beta=["prompt-caching-scope-2026-01-05"]))
    assert "invalid beta flag" in _refused(refused)


def test_invoke_accepts_the_tool_examples_beta_it_documents(emu, job):
    # tool-examples-2025-10-29 is in the Bedrock Invoke beta whitelist (AWS's Claude Messages page, as LiteLLM 1.81.6
    # keeps it); an undocumented neighbour is refused as before.
    ok = aws_post(emu, f"/model/{MID}/invoke", dict(INVOKE_BODY, anthropic_beta=["tool-examples-2025-10-29"]))
    assert ok.status_code == 200, ok.text
    refused = aws_post(emu, f"/model/{MID}/invoke", dict(INVOKE_BODY, anthropic_beta=["tool-examples-2099-01-01"]))
    assert refused.status_code == 400
