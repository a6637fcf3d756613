"""Vertex: JWT-bearer token exchange (real RS256), rawPredict / streamRawPredict, count-tokens, refusals."""
from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from providers.vertex_ai import credentials as vertex

MODEL = "claude-sonnet-4-5@20250929"
BODY = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
        "messages": [{"role": "user", "content": "Reply with exactly the word: vertex"}]}


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_jwt(key, aud: str, iss: str = vertex.SA_CLIENT_EMAIL, exp_in: int = 3600) -> str:
    now = int(time.time())
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "emulator-key-1"}).encode())
    claims = _b64(json.dumps({"iss": iss, "aud": aud, "iat": now, "exp": now + exp_in,
                              "scope": "https://www.googleapis.com/auth/cloud-platform"}).encode())
    sig = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{_b64(sig)}"


@pytest.fixture(scope="module")
def sa(emu):
    path = vertex.service_account(emu.data_dir, emu.base + "/token")
    info = json.loads(path.read_text())
    return info, serialization.load_pem_private_key(info["private_key"].encode(), password=None)


def exchange(emu, assertion):
    return emu.http.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})


@pytest.fixture
def token(emu, sa):
    info, key = sa
    r = exchange(emu, make_jwt(key, info["token_uri"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return body["access_token"]


def url(emu, model=MODEL, verb="rawPredict", project=vertex.PROJECT, location=vertex.LOCATION):
    return f"/v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:{verb}"


def test_raw_predict(emu, job, token):
    r = emu.http.post(url(emu), headers={"authorization": f"Bearer {token}"}, json=BODY)
    assert r.status_code == 200 and r.json()["content"][0]["text"] == "vertex"
    cap = emu.captures(job)[-1]
    assert cap["provider"] == "vertex_ai" and cap["headers"]["authorization"] == "***"


def test_stream_raw_predict(emu, job, token):
    body = dict(BODY, stream=True, messages=[{"role": "user", "content": "Count from 1 to 5"}])
    with emu.http.stream("POST", url(emu, verb="streamRawPredict") + "?alt=sse",
                         headers={"authorization": f"Bearer {token}"}, json=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        datas = [json.loads(l[6:]) for l in r.iter_lines() if l.startswith("data: ")]
    deltas = [d["delta"]["text"] for d in datas if d["type"] == "content_block_delta"]
    assert len(deltas) >= 2 and "".join(deltas).split() == list("12345")


def test_google_auth_client(emu, job, sa):
    service_account = pytest.importorskip("google.oauth2.service_account")
    import google.auth.transport.requests as gtr
    path = vertex.service_account(emu.data_dir, emu.base + "/token")
    creds = service_account.Credentials.from_service_account_file(str(path), scopes=["https://www.googleapis.com/auth/cloud-platform"])
    creds.refresh(gtr.Request())
    r = emu.http.post(url(emu), headers={"authorization": f"Bearer {creds.token}"}, json=BODY)
    assert r.status_code == 200


def test_token_exchange_refusals(emu, job, sa):
    info, key = sa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r = exchange(emu, make_jwt(other, info["token_uri"]))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = exchange(emu, make_jwt(key, info["token_uri"], exp_in=-7200))
    assert r.status_code == 400
    r = exchange(emu, make_jwt(key, "https://evil.example/token"))
    assert r.status_code == 400
    r = emu.http.post("/token", data={"grant_type": "password", "assertion": "x"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def _verr(r, status):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "status"} and body["error"]["code"] == status
    return body["error"]


def test_unissued_token_401(emu, job):
    err = _verr(emu.http.post(url(emu), headers={"authorization": "Bearer ya29.forged"}, json=BODY), 401)
    assert err["status"] == "UNAUTHENTICATED"
    _verr(emu.http.post(url(emu), json=BODY), 401)


@pytest.mark.parametrize("kw,body,status,needle", [
    ({"project": "someone-else"}, BODY, 403, "denied"),
    ({"model": "claude-nonexistent-9@20990101"}, BODY, 404, "not found"),
    ({}, dict(BODY, anthropic_version="bedrock-2023-05-31"), 400, "anthropic_version"),
    ({}, {k: v for k, v in BODY.items() if k != "anthropic_version"}, 400, "anthropic_version"),
    ({}, dict(BODY, model="claude-sonnet-4-5"), 400, "model"),
    ({}, dict(BODY, messages=[{"role": "user", "content": [{"type": "text"}]}]), 400, "text"),
    ({}, dict(BODY, tools=[{"type": "web_fetch_20250910", "name": "web_fetch"}]), 400, "web_fetch"),
])
def test_invalid_requests(emu, job, token, kw, body, status, needle):
    err = _verr(emu.http.post(url(emu, **kw), headers={"authorization": f"Bearer {token}"}, json=body), status)
    assert needle in err["message"]


def test_beta_refused_on_vertex(emu, job, token):
    h = {"authorization": f"Bearer {token}", "anthropic-beta": "prompt-caching-scope-2026-01-05"}
    assert "prompt-caching-scope" in _verr(emu.http.post(url(emu), headers=h, json=BODY), 400)["message"]


def test_count_tokens(emu, job, token):
    h = {"authorization": f"Bearer {token}"}
    cbody = {"model": "claude-sonnet-4-5", "messages": BODY["messages"]}
    r = emu.http.post(url(emu, model="count-tokens"), headers=h, json=cbody)
    assert r.status_code == 200
    usage = emu.http.post(url(emu), headers=h, json=BODY).json()["usage"]
    assert r.json()["input_tokens"] == usage["input_tokens"]
    _verr(emu.http.post(url(emu, model="count-tokens"), headers=h, json=dict(cbody, model="claude-sonnet-4-5@default")), 400)


def test_fault_vertex_shape(emu, token):
    emu.job(faults=[{"provider": "vertex_ai", "status": 429, "retry_after": 3}])
    r = emu.http.post(url(emu), headers={"authorization": f"Bearer {token}"}, json=BODY)
    assert _verr(r, 429)["status"] == "RESOURCE_EXHAUSTED" and r.headers["retry-after"] == "3"


def test_reply_names_the_claude_api_model_id(emu, job, token):
    """Vertex answers with the Claude API id (dated where the path's id has `@<date>`), not the path's name: Claude
    Code keeps its thinking history only when message.model matches the model it asked for."""
    r = emu.http.post(url(emu), headers={"authorization": f"Bearer {token}"}, json=BODY)
    assert r.status_code == 200 and r.json()["model"] == "claude-sonnet-4-5-20250929"
    r = emu.http.post(url(emu, verb="streamRawPredict"), headers={"authorization": f"Bearer {token}"}, json=BODY)
    start = next(json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")
                 and '"message_start"' in line)
    assert start["message"]["model"] == "claude-sonnet-4-5-20250929"
