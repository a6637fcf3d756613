"""Control API: jobs, captures (masked, persisted), faults."""
from __future__ import annotations

import json
import time

import anthropic
import httpx
import pytest

from providers.anthropic.credentials import API_KEY as anthropic_key

MODEL = "claude-haiku-4-5-20251001"
BODY = {"model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": "Reply with exactly the word: ok"}]}


def test_health(emu):
    r = emu.http.get("/_emulator/health")
    assert r.status_code == 200 and r.json()["ok"] is True


def test_captures_tagged_per_job_and_persisted(emu):
    j1 = emu.job()
    emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    j2 = emu.job()
    emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    c1, c2 = emu.captures(j1), emu.captures(j2)
    assert len(c1) == 1 and len(c2) == 2
    assert all(c["job_id"] == j2 for c in c2)
    assert c2[0]["seq"] < c2[1]["seq"]
    rec = c1[0]
    assert rec["body"] == BODY and rec["method"] == "POST" and rec["path"] == "/v1/messages"
    assert rec["headers"]["x-api-key"] == "***" and anthropic_key not in json.dumps(rec)
    lines = (emu.data_dir / "captures" / f"{j2}.jsonl").read_text().splitlines()
    assert [json.loads(l)["seq"] for l in lines] == [c["seq"] for c in c2]


def test_non_json_body_captured_raw(emu):
    j = emu.job()
    emu.http.post("/v1/messages", headers=emu.anthropic_headers(), content=b"\x00\x01not json")
    rec = emu.captures(j)[0]
    assert "_raw_b64" in rec["body"] and rec["status"] == 400 and rec["error"]


@pytest.mark.parametrize("status,etype", [(429, "rate_limit_error"), (500, "api_error"), (529, "overloaded_error"),
                                          (403, "permission_error"), (503, "api_error")])
def test_fault_status(emu, status, etype):
    emu.job(faults=[{"provider": "anthropic", "status": status, "retry_after": 7 if status == 429 else None}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    assert r.status_code == status
    assert r.json()["error"]["type"] == etype
    if status == 429:
        assert r.headers["retry-after"] == "7"


def test_fault_other_provider_does_not_apply(emu):
    emu.job(faults=[{"provider": "bedrock_invoke", "status": 500}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY)
    assert r.status_code == 200


def test_fault_times_and_delete(emu):
    emu.job(faults=[{"provider": None, "status": 503, "times": 1}])
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY).status_code == 503
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY).status_code == 200
    assert emu.http.post("/_emulator/faults", json={"status": 500}).status_code == 200
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY).status_code == 500
    assert emu.http.delete("/_emulator/faults").status_code == 200
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY).status_code == 200


def test_fault_bad_definition_refused(emu):
    assert emu.http.post("/_emulator/faults", json={"mode": "no_such_mode"}).status_code == 400
    assert emu.http.post("/_emulator/faults", json={"bogus": 1}).status_code == 400


def test_fault_delay(emu):
    emu.job(faults=[{"delay_s": 0.4}])
    t = time.time()
    assert emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=BODY).status_code == 200
    assert time.time() - t >= 0.4


def test_fault_cut_stream(emu):
    emu.job(faults=[{"cut_stream_after": 3}])
    body = dict(BODY, stream=True, messages=[{"role": "user", "content": "Count from 1 to 20"}])
    c = anthropic.Anthropic(base_url=emu.base, api_key=anthropic_key, max_retries=0)
    seen = []
    with pytest.raises(Exception) as ei:
        with c.messages.stream(model=MODEL, max_tokens=32, messages=body["messages"]) as s:
            for ev in s:
                seen.append(ev.type)
    assert "message_stop" not in seen
    assert "incomplete" in str(ei.value) or isinstance(ei.value, (httpx.HTTPError, anthropic.APIError))


def test_fault_malformed_frame(emu):
    emu.job(faults=[{"malformed_frame": True}])
    body = dict(BODY, stream=True, messages=[{"role": "user", "content": "Count from 1 to 10"}])
    r = emu.http.post("/v1/messages", headers=emu.anthropic_headers(), json=body)
    bad = 0
    for line in r.text.splitlines():
        if line.startswith("data: "):
            try:
                json.loads(line[6:])
            except ValueError:
                bad += 1
    assert bad == 1


def test_wrong_token_count_mode(emu):
    emu.job()
    cbody = {"model": MODEL, "messages": [{"role": "user", "content": "word " * 300}]}
    good = emu.http.post("/v1/messages/count_tokens", headers=emu.anthropic_headers(), json=cbody).json()["input_tokens"]
    emu.job(faults=[{"mode": "wrong_token_count"}])
    bad = emu.http.post("/v1/messages/count_tokens", headers=emu.anthropic_headers(), json=cbody).json()["input_tokens"]
    assert bad < good / 2
