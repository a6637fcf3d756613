"""Production-shaped routing in the emulator: a request is routed by the host it was sent to (the providers' real
hostnames) among the providers reached there only; SigV4 is checked for the real Bedrock host as AWS checks it;
Vertex's token exchange lives at oauth2.googleapis.com; and the same app serves HTTPS with a certificate from a
CA generated per run, which a client trusts only when told to."""
from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from test_emulator_vertex import make_jwt

from ccmatrix.processes import stop_group, wait_until
from emulator import tls
from emulator.server import build_app
from providers import _aws as aws
from providers.vertex_ai import credentials as vertex

ANTHROPIC = "api.anthropic.com"
BEDROCK = aws.runtime_host(aws.AWS_REGION)
MID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
INVOKE = f"/model/{MID}/invoke"
INVOKE_BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [
    {"role": "user", "content": "Reply with exactly the word: routed"}]}).encode()
ROOT = Path(__file__).resolve().parents[3]


def signed(path: str, body: bytes, *, region: str = aws.AWS_REGION, sign_host: bool = True) -> dict:
    """Headers of a request to the real Bedrock host, SigV4-signed by botocore for `region`."""
    req = AWSRequest(method="POST", url=f"https://{BEDROCK}{path}", data=body,
                     headers={"content-type": "application/json"})
    signer = SigV4Auth(Credentials(aws.AWS_ACCESS_KEY_ID, aws.AWS_SECRET_ACCESS_KEY), "bedrock", region)
    if not sign_host:
        every = signer.headers_to_sign

        def without_host(request):
            names = every(request)
            del names["host"]
            return names

        signer.headers_to_sign = without_host
    signer.add_auth(req)
    return {**dict(req.headers.items()), "host": BEDROCK}


def last(emu, job) -> dict:
    return emu.captures(job)[-1]


# --- routing by host -----------------------------------------------------------------------------------------------


def test_every_hostname_gets_the_routes_of_the_providers_reached_there(tmp_path):
    app = build_app(tmp_path, {ANTHROPIC: ["anthropic"], BEDROCK: ["bedrock_invoke", "bedrock_converse",
                                                                   "bedrock_passthrough"]})
    paths = {host: {r.path for r in router.routes} for host, router in app.host_routers.items()}
    assert paths[ANTHROPIC] == {"/v1/messages", "/v1/messages/count_tokens"}
    assert all(p.startswith("/model/") for p in paths[BEDROCK]) and len(paths[BEDROCK]) == 5   # once each


def test_a_bedrock_path_sent_to_api_anthropic_com_is_not_bedrock(emu, job):
    r = emu.http.post(INVOKE, content=INVOKE_BODY, headers=signed(INVOKE, INVOKE_BODY) | {"host": ANTHROPIC})
    assert r.status_code == 404 and r.json()["type"] == "error"   # Anthropic's shape, not Bedrock's
    rec = last(emu, job)
    assert (rec["provider"], rec["cause"], rec["headers"]["host"]) == ("anthropic", "refused", ANTHROPIC)
    assert "bedrock_invoke path sent to api.anthropic.com" in rec["cause_reason"]


def test_an_anthropic_path_sent_to_the_bedrock_host_is_refused_in_bedrocks_shape(emu, job):
    r = emu.http.post("/v1/messages", json={}, headers={"host": BEDROCK})
    assert r.status_code == 404 and r.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert last(emu, job)["cause"] == "refused"


def test_the_plain_port_still_serves_every_provider(emu, job):
    r = emu.http.post(INVOKE, content=INVOKE_BODY, headers=signed(INVOKE, INVOKE_BODY) | {"host": emu.base[7:]})
    # signed for the real host, sent to 127.0.0.1: routed as Bedrock, refused by the signature (host is signed)
    assert r.status_code == 403 and last(emu, job)["provider"] == "bedrock_invoke"


def test_an_unknown_path_of_the_hosts_own_provider_is_still_a_gap(emu, job):
    r = emu.http.get("/v1/models", headers={"host": ANTHROPIC})
    assert r.status_code == 404 and last(emu, job)["cause"] == "emulator_gap"


# --- SigV4 at the real host ----------------------------------------------------------------------------------------


def test_sigv4_for_the_real_host_is_accepted(emu, job):
    r = emu.http.post(INVOKE, content=INVOKE_BODY, headers=signed(INVOKE, INVOKE_BODY))
    assert r.status_code == 200, r.text
    assert r.json()["content"][0]["text"] == "routed" and last(emu, job)["cause"] == "ok"


def test_a_signature_scoped_to_another_region_is_refused_as_aws_does(emu, job):
    r = emu.http.post(INVOKE, content=INVOKE_BODY, headers=signed(INVOKE, INVOKE_BODY, region="us-west-2"))
    assert r.status_code == 403 and r.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert r.json()["message"] == "Credential should be scoped to a valid region."


def test_a_signature_that_does_not_cover_the_host_is_refused(emu, job):
    r = emu.http.post(INVOKE, content=INVOKE_BODY, headers=signed(INVOKE, INVOKE_BODY, sign_host=False))
    assert r.status_code == 403 and "'Host' or ':authority' must be a 'SignedHeader'" in r.json()["message"]


# --- Vertex: the token host and the prediction hosts ---------------------------------------------------------------


@pytest.fixture(scope="module")
def account(emu):
    from cryptography.hazmat.primitives import serialization

    info = json.loads(vertex.service_account(emu.data_dir).read_text())
    return info, serialization.load_pem_private_key(info["private_key"].encode(), password=None)


def _token(emu, account, host: str):
    info, key = account
    assert info["token_uri"] == vertex.TOKEN_URI == "https://oauth2.googleapis.com/token"
    return emu.http.post("/token", headers={"host": host}, data={
        "grant_type": vertex.GRANT, "assertion": make_jwt(key, info["token_uri"])})


def test_the_token_exchange_is_served_at_oauth2_googleapis_com(emu, job, account):
    r = _token(emu, account, "oauth2.googleapis.com")
    assert r.status_code == 200 and r.json()["access_token"].startswith("ya29.")
    token = r.json()["access_token"]
    path = (f"/v1/projects/{vertex.PROJECT}/locations/{vertex.LOCATION}/publishers/anthropic/models/"
            f"claude-sonnet-4-5@20250929:rawPredict")
    body = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 32,
            "messages": [{"role": "user", "content": "Reply with exactly the word: regional"}]}
    ok = emu.http.post(path, json=body, headers={"host": f"{vertex.LOCATION}-aiplatform.googleapis.com",
                                                 "authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["content"][0]["text"] == "regional"
    wrong = emu.http.post(path, json=body, headers={"host": "oauth2.googleapis.com",
                                                    "authorization": f"Bearer {token}"})
    assert wrong.status_code == 404 and last(emu, job)["cause"] == "refused"


def test_the_token_exchange_is_not_served_at_the_aiplatform_host(emu, job, account):
    r = _token(emu, account, f"{vertex.LOCATION}-aiplatform.googleapis.com")
    assert r.status_code == 404 and set(r.json()["error"]) == {"code", "message", "status"}
    assert last(emu, job)["cause"] == "refused"


# --- HTTPS with the per-run CA -------------------------------------------------------------------------------------


def test_each_issue_is_a_new_ca_naming_every_hostname(tmp_path):
    one = tls.issue(tmp_path / "a", [ANTHROPIC, BEDROCK])
    two = tls.issue(tmp_path / "b", [ANTHROPIC, BEDROCK])
    assert one.ca.read_bytes() != two.ca.read_bytes()
    assert tls.hostnames_of(one.cert.read_bytes()) == sorted([ANTHROPIC, BEDROCK])
    ca = x509.load_pem_x509_certificate(one.ca.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert oct(one.key.stat().st_mode & 0o777) == "0o600"
    assert not list((tmp_path / "a").glob("*ca*key*"))   # the CA's key is never written


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def https_emulator(tmp_path_factory):
    """`python -m emulator` with HTTPS on a free port (443 inside a sandbox), as the worker starts it."""
    root = tmp_path_factory.mktemp("https-emu")
    hosts = root / "routing.json"
    hosts.write_text(json.dumps({ANTHROPIC: ["anthropic"], BEDROCK: ["bedrock_invoke", "bedrock_converse"]}))
    plain, secure = _free_port(), _free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(plain), "--https-port", str(secure),
                                "--tls-dir", str(root / "tls"), "--hosts-file", str(hosts),
                                "--data-dir", str(root / "data")], cwd=ROOT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{plain}/_emulator/health", timeout=1).status_code == 200,
                   timeout_s=30, interval_s=0.05, what="the emulator", retry_on=httpx.HTTPError)
        yield {"plain": plain, "secure": secure, "ca": root / "tls" / "ca.pem", "process": process}
    finally:
        stop_group(process, grace_s=5)


def _https(port: int, host: str, ca: Path | None, path: str = "/v1/messages", body: bytes = b"{}"):
    """POST over TLS to 127.0.0.1:port as if to `host` (SNI, certificate check and Host all name it)."""
    pool = urllib3.HTTPSConnectionPool("127.0.0.1", port, server_hostname=host, assert_hostname=host,
                                       ca_certs=str(ca) if ca else None, cert_reqs="CERT_REQUIRED", retries=False)
    return pool.request("POST", path, body=body, headers={"host": host, "content-type": "application/json"})


def test_https_answers_for_the_providers_hostnames_when_the_ca_is_trusted(https_emulator):
    body = json.dumps({"model": "claude-sonnet-4-5-20250929", "max_tokens": 16,
                       "messages": [{"role": "user", "content": "Reply with exactly the word: secure"}]}).encode()
    pool = urllib3.HTTPSConnectionPool("127.0.0.1", https_emulator["secure"], server_hostname=ANTHROPIC,
                                       assert_hostname=ANTHROPIC, ca_certs=str(https_emulator["ca"]),
                                       cert_reqs="CERT_REQUIRED", retries=False)
    from providers.anthropic.credentials import API_KEY

    r = pool.request("POST", "/v1/messages", body=body, headers={
        "host": ANTHROPIC, "content-type": "application/json", "x-api-key": API_KEY, "anthropic-version": "2023-06-01"})
    assert r.status == 200 and json.loads(r.data)["content"][0]["text"] == "secure"
    # a Bedrock path on the Anthropic host over HTTPS: Anthropic's 404
    assert _https(https_emulator["secure"], ANTHROPIC, https_emulator["ca"], INVOKE).status == 404
    assert _https(https_emulator["secure"], BEDROCK, https_emulator["ca"], INVOKE).status == 403   # unsigned


def test_a_client_that_does_not_trust_the_per_run_ca_is_refused(https_emulator):
    with pytest.raises(urllib3.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        _https(https_emulator["secure"], ANTHROPIC, None)   # the default (system/certifi) trust
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx = ssl.create_default_context(cafile=str(https_emulator["ca"]))
        with socket.create_connection(("127.0.0.1", https_emulator["secure"]), timeout=5) as raw:
            ctx.wrap_socket(raw, server_hostname="example.org")   # a name the certificate does not carry


def test_the_emulator_stops_on_sigterm_with_both_servers(https_emulator, tmp_path):
    # a second emulator of its own, so the module's fixture stays up
    plain, secure = _free_port(), _free_port()
    process = subprocess.Popen([sys.executable, "-m", "emulator", "--port", str(plain), "--https-port", str(secure),
                                "--tls-dir", str(tmp_path / "tls"), "--data-dir", str(tmp_path / "data")], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: httpx.get(f"http://127.0.0.1:{plain}/_emulator/health", timeout=1).status_code == 200,
               timeout_s=30, interval_s=0.05, what="the emulator", retry_on=httpx.HTTPError)
    started = time.monotonic()
    process.terminate()
    assert process.wait(10) is not None and time.monotonic() - started < 5
