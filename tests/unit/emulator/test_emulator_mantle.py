"""Bedrock Mantle's count_tokens (bedrock-mantle.<region>.api.aws/anthropic/v1/messages/count_tokens): where LiteLLM
1.108 counts the tokens of Claude models on Bedrock. It exists only at the Mantle host; the same path on the plain
port and at Azure's host stays Azure AI Foundry's."""
from __future__ import annotations

import json

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.server import build_app
from providers import _aws as aws

MANTLE = aws.mantle_host(aws.AWS_REGION)
PATH = "/anthropic/v1/messages/count_tokens"
BODY = {"model": "anthropic.claude-haiku-5-5", "messages": [{"role": "user", "content": "How many tokens is this?"}]}


def signed(body: bytes, secret: str = aws.AWS_SECRET_ACCESS_KEY) -> dict:
    req = AWSRequest(method="POST", url=f"https://{MANTLE}{PATH}", data=body,
                     headers={"content-type": "application/json", "anthropic-version": "2023-06-01"})
    SigV4Auth(Credentials(aws.AWS_ACCESS_KEY_ID, secret), "bedrock", aws.AWS_REGION).add_auth(req)
    return {**dict(req.headers.items()), "host": MANTLE}


def test_mantle_counts_what_the_anthropic_api_counts(emu, job):
    raw = json.dumps(BODY).encode()
    r = emu.http.post(PATH, content=raw, headers=signed(raw))
    assert r.status_code == 200, r.text
    mantle = r.json()["input_tokens"]
    rec = emu.captures(job)[-1]
    assert (rec["provider"], rec["operation"], rec["cause"]) == ("bedrock_invoke", "count_tokens", "ok")
    first_party = emu.http.post("/v1/messages/count_tokens", headers=emu.anthropic_headers(),
                                json={**BODY, "model": "claude-haiku-5-5"}).json()["input_tokens"]
    assert mantle == first_party > 0


def test_mantle_checks_the_signature_and_the_model(emu, job):
    raw = json.dumps(BODY).encode()
    assert emu.http.post(PATH, content=raw, headers=signed(raw, secret="wrong")).status_code == 403
    raw = json.dumps({**BODY, "model": "claude-haiku-4-5@20251001"}).encode()   # a Vertex id, not Bedrock's
    r = emu.http.post(PATH, content=raw, headers=signed(raw))
    assert r.status_code == 400 and emu.captures(job)[-1]["cause"] == "refused"


def test_the_route_exists_only_at_the_mantle_host(tmp_path):
    azure_host = "example.services.ai.azure.com"
    app = build_app(tmp_path, {MANTLE: ["bedrock_invoke"], azure_host: ["azure"]})
    mantle_ops = {r.path for r in app.host_routers[MANTLE].routes}
    assert PATH in mantle_ops
    plain = [r for r in app.router.routes if getattr(r, "path", None) == PATH]
    assert len(plain) == 1   # Azure's, not a second one from Bedrock
    assert all("azure" in repr(r.endpoint.args[0]).lower() for r in plain)
