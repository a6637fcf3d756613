"""The CLI's client mode per column (Provider.client_env, providers/<id>/client.py): the pass-through columns drive
the CLI in its native Bedrock / Vertex mode at the gateway's pass-through routes. The driver accepts exactly the
variables the packages declare, and the only key that ever reaches the CLI is the gateway's own. What the CLI sends
in native mode decodes on fidelity's client side through the column's package."""
from __future__ import annotations

import json
import stat
import types

import pytest

from ccmatrix.settings import Settings
from providers import registry
from providers.base import ANTHROPIC_API_MODE
from worker import driver
from worker.driver import BASE_ENV, CLIENT_ENV, GATEWAY_KEY_ENV, build_env, run_cli
from worker.sandbox import Sandbox

URL, KEY = "http://127.0.0.1:4000/_job/run:row:col:sonnet", "sk-gateway-per-boot"

# Real credentials for every provider: none of them may reach the CLI, whatever the column.
REAL = Settings(anthropic_api_key="sk-ant-REAL-0000", aws_access_key_id="AKIAREAL000000000000",
                aws_secret_access_key="aws-secret-REAL-0000", aws_session_token="aws-session-REAL-0000",
                azure_api_key="azure-REAL-0000", azure_api_base="https://real.example",
                vertex_project="real-project", vertex_credentials_file="/secret/vertex-REAL.json")


def test_the_default_client_mode_is_the_anthropic_api_at_the_gateway():
    anthropic = registry.get("anthropic")
    assert anthropic.client_env_vars == ANTHROPIC_API_MODE
    assert anthropic.client_env(URL, KEY) == {"ANTHROPIC_BASE_URL": URL, "ANTHROPIC_API_KEY": KEY}
    # what the driver builds without a client env is the same mode
    env = build_env(URL, KEY, home="/tmp/h", timeout_s=10, max_retries=0)
    assert env["ANTHROPIC_BASE_URL"] == URL and env["ANTHROPIC_API_KEY"] == KEY


def test_bedrock_passthrough_is_the_clis_native_bedrock_mode_at_the_gateways_bedrock_route():
    env = registry.get("bedrock_passthrough").client_env(URL, KEY)
    assert env == {"CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_BEDROCK_BASE_URL": f"{URL}/bedrock",
                   "CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1", "AWS_REGION": "us-east-1", "ANTHROPIC_AUTH_TOKEN": KEY}


def test_vertex_passthrough_is_the_clis_native_vertex_mode_at_the_gateways_vertex_route():
    env = registry.get("vertex_passthrough").client_env(URL + "/", KEY)
    assert env == {"CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_BASE_URL": f"{URL}/vertex_ai/v1",
                   "ANTHROPIC_VERTEX_PROJECT_ID": "gateway-resolves-the-project", "CLOUD_ML_REGION": "us-east5",
                   "CLAUDE_CODE_SKIP_VERTEX_AUTH": "1", "ANTHROPIC_AUTH_TOKEN": KEY}


@pytest.mark.parametrize("provider", registry.ids())
def test_no_credential_ever_reaches_the_cli(provider):
    package = registry.get(provider)
    client = package.client_env(URL, KEY)
    assert set(client) <= package.client_env_vars <= CLIENT_ENV
    env = build_env(URL, KEY, home="/tmp/h", timeout_s=10, max_retries=0, client=client)
    text = json.dumps(env)
    for secret in registry.secret_values(REAL) + [str(REAL.vertex_credentials_file)]:
        assert secret not in text, (provider, secret)
    # the one key in the environment is the gateway's, under a gateway-key variable
    assert {name for name, value in env.items() if value == KEY} <= GATEWAY_KEY_ENV
    assert not any(driver.CREDENTIAL_NAME.search(name) for name in set(env) - GATEWAY_KEY_ENV - set(BASE_ENV))


def test_the_driver_refuses_what_no_package_declares_and_any_other_key():
    with pytest.raises(ValueError, match="not declared by any provider package"):
        build_env(URL, KEY, home="/tmp/h", timeout_s=10, max_retries=0,
                  client={"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_SECRET_ACCESS_KEY": "aws-secret-REAL-0000"})
    with pytest.raises(ValueError, match="not declared by any provider package"):
        build_env(URL, KEY, home="/tmp/h", timeout_s=10, max_retries=0,
                  client={"AWS_BEARER_TOKEN_BEDROCK": "bedrock-api-key"})
    with pytest.raises(ValueError, match="must carry the gateway's key"):
        build_env(URL, KEY, home="/tmp/h", timeout_s=10, max_retries=0,
                  client={"ANTHROPIC_AUTH_TOKEN": "sk-ant-REAL-0000"})
    # a check's own env is still an allowlist: it cannot switch the client mode either
    with pytest.raises(ValueError, match="not allowed"):
        build_env(URL, KEY, home="/tmp/h", timeout_s=10, max_retries=0, extra={"CLAUDE_CODE_USE_BEDROCK": "1"})


def test_a_package_declaring_a_credential_variable_stops_the_worker(monkeypatch):
    rogue = types.SimpleNamespace(client_env_vars=frozenset({"CLAUDE_CODE_USE_BEDROCK", "AWS_SECRET_ACCESS_KEY"}))
    monkeypatch.setattr(registry, "all", lambda: [*registry._all().values(), rogue])
    with pytest.raises(RuntimeError, match="AWS_SECRET_ACCESS_KEY"):
        driver._client_env_vars()


def test_a_package_cannot_set_a_variable_it_did_not_declare(monkeypatch):
    package = registry.get("bedrock_passthrough")
    client = package._client()
    monkeypatch.setattr(client, "env", lambda url, key: {"CLAUDE_CODE_USE_VERTEX": "1"})
    with pytest.raises(ValueError, match="undeclared"):
        package.client_env(URL, KEY)


FAKE = """#!/bin/sh
python3 - <<'PY'
import json, os
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": json.dumps(dict(os.environ))}))
PY
"""


def test_the_cli_gets_the_native_mode_and_nothing_of_the_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("CCMATRIX_AWS_SECRET_ACCESS_KEY", "aws-secret-REAL-0000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREAL000000000000")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/secret/vertex-REAL.json")
    fake = tmp_path / "claude"
    fake.write_text(FAKE)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    client = registry.get("bedrock_passthrough").client_env(URL, KEY)
    run = run_cli(fake, prompt="hi", model="m", base_url=URL, api_key=KEY,
                  sandbox=Sandbox(tmp_path / "sbx", isolated=False), timeout_s=30, client_env=client)
    env = json.loads(run.result.result)
    assert {k: env[k] for k in client} == client
    assert "ANTHROPIC_BASE_URL" not in env and "ANTHROPIC_API_KEY" not in env  # the key is sent once, as a bearer
    text = json.dumps(env)
    assert "REAL" not in text and "GOOGLE_APPLICATION_CREDENTIALS" not in env


# -- what the CLI sends in native mode, on fidelity's client side ---------------------------------------------------

BODY = {"anthropic_version": "bedrock-2023-05-31", "anthropic_beta": ["interleaved-thinking-2025-05-14"],
        "max_tokens": 32000, "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "system": [{"type": "text", "text": "You are Claude Code."}]}


def test_native_bedrock_requests_decode_on_the_client_side_through_the_column_package():
    from fidelity import decode_client, request_kind

    alias = "claude-sonnet-4-5-20250929-bedrock-passthrough"
    capture = {"method": "POST", "path": f"/bedrock/model/{alias}/invoke-with-response-stream", "query": "",
               "headers": {"anthropic-beta": "claude-code-20250219", "authorization": "***"}, "body": BODY}
    assert request_kind(capture, "client", "bedrock_passthrough") == "message"
    assert request_kind(capture, "client") is None  # not the Anthropic API: the plain client decoder knows it not
    u = decode_client(capture, "bedrock_passthrough")
    assert (u.envelope.model, u.envelope.stream, u.envelope.api_version) == (alias, True, "bedrock-2023-05-31")
    # Bedrock reads betas from the body only: the CLI's anthropic-beta header means nothing there
    # (providers/bedrock_invoke/emulator.py decode_invoke_body)
    assert set(u.betas) == {"interleaved-thinking-2025-05-14"}
    assert [m.role for m in u.messages] == ["user"]
    probe = {"method": "GET", "path": "/bedrock/inference-profiles", "query": "type=SYSTEM_DEFINED", "body": None}
    assert request_kind(probe, "client", "bedrock_passthrough") is None


def test_native_vertex_requests_decode_on_the_client_side_through_the_column_package():
    from fidelity import decode_client, request_kind

    body = {k: v for k, v in BODY.items() if k not in ("anthropic_version", "anthropic_beta")}
    capture = {"method": "POST", "query": "", "body": {**body, "anthropic_version": "vertex-2023-10-16", "stream": True},
               "path": "/vertex_ai/v1/projects/gateway-resolves-the-project/locations/us-east5/publishers/anthropic/"
                       "models/claude-sonnet-4-5-20250929-vertex-passthrough:streamRawPredict",
               "headers": {"anthropic-beta": "interleaved-thinking-2025-05-14"}}
    assert request_kind(capture, "client", "vertex_passthrough") == "message"
    u = decode_client(capture, "vertex_passthrough")
    assert u.envelope.model == "claude-sonnet-4-5-20250929-vertex-passthrough" and u.envelope.stream is True
    assert u.betas == ["interleaved-thinking-2025-05-14"]


def test_every_other_column_still_decodes_the_anthropic_api_on_the_client_side():
    from fidelity import decode_client
    from tests.unit.fidelity.fidelity_testkit import cli_body, client_capture

    capture = client_capture(cli_body())
    for package in registry.all():
        if package.client_env_vars == ANTHROPIC_API_MODE:
            assert package.decode_client(capture) == decode_client(capture)
