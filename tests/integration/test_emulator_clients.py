"""The emulator as a real process (`python -m emulator`): real clients of every dialect, and (when the pinned
LiteLLM proxy and Claude Code CLI are installed under .cache/) basic messaging through the real stack."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import boto3
import httpx
import pytest

from tests import emulator_credentials as credentials

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LITELLM = ROOT / ".cache/litellm/1.106.2/bin/litellm"
CLAUDE = ROOT / ".cache/claude-code/2.1.197/node_modules/.bin/claude"
MID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    data = tmp_path_factory.mktemp("emu")
    port = _port()
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/_emulator/health", 10)
    boot = time.time() - t0
    yield base, data, boot
    proc.terminate()
    proc.wait(timeout=10)


def test_boot_is_fast(emulator):
    assert emulator[2] < 3.0   # process start incl. interpreter; the app itself builds in < 1 s


def test_all_dialects_with_real_clients(emulator):
    base, data, _ = emulator
    httpx.post(base + "/_emulator/jobs", json={"job_id": "clients"})
    a = anthropic.Anthropic(base_url=base, api_key=credentials.ANTHROPIC_API_KEY, max_retries=0)
    assert a.messages.create(model="claude-haiku-4-5-20251001", max_tokens=16,
                             messages=[{"role": "user", "content": "Reply with exactly the word: one"}]).content[0].text == "one"
    z = anthropic.Anthropic(base_url=base + "/anthropic", api_key=credentials.AZURE_API_KEY, max_retries=0)
    assert z.messages.create(model="claude-opus-4-1", max_tokens=16,
                             messages=[{"role": "user", "content": "Reply with exactly the word: two"}]).content[0].text == "two"
    br = boto3.client("bedrock-runtime", endpoint_url=base, region_name=credentials.AWS_REGION,
                      aws_access_key_id=credentials.AWS_ACCESS_KEY_ID, aws_secret_access_key=credentials.AWS_SECRET_ACCESS_KEY)
    r = br.converse_stream(modelId=MID, messages=[{"role": "user", "content": [{"text": "Count from 1 to 3"}]}])
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in r["stream"] if "contentBlockDelta" in e).split() == ["1", "2", "3"]
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16, "messages": [{"role": "user", "content": "Reply with exactly the word: three"}]}
    assert json.loads(br.invoke_model(modelId=MID, body=json.dumps(body))["body"].read())["content"][0]["text"] == "three"
    sa = credentials.vertex_service_account(data, base + "/token")
    service_account = pytest.importorskip("google.oauth2.service_account")
    import google.auth.transport.requests as gtr
    creds = service_account.Credentials.from_service_account_file(str(sa), scopes=["https://www.googleapis.com/auth/cloud-platform"])
    creds.refresh(gtr.Request())
    url = (f"{base}/v1/projects/{credentials.VERTEX_PROJECT}/locations/{credentials.VERTEX_LOCATION}"
           "/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict")
    r = httpx.post(url, headers={"authorization": f"Bearer {creds.token}"},
                   json={"anthropic_version": "vertex-2023-10-16", "max_tokens": 16, "messages": [{"role": "user", "content": "Reply with exactly the word: four"}]})
    assert r.json()["content"][0]["text"] == "four"
    caps = httpx.get(base + "/_emulator/captures", params={"job_id": "clients"}).json()["captures"]
    assert {c["provider"] for c in caps} == {"anthropic", "azure", "bedrock_converse", "bedrock_invoke", "vertex_ai"}
    assert (data / "captures" / "clients.jsonl").exists()


def test_basic_messaging_through_litellm_and_cli(emulator, tools, tmp_path):  # `tools` provisions them
    base, data, _ = emulator
    sa = credentials.vertex_service_account(data, base + "/token")
    port = _port()
    aws = (f"aws_bedrock_runtime_endpoint: '{base}', aws_access_key_id: {credentials.AWS_ACCESS_KEY_ID}, "
           f"aws_secret_access_key: {credentials.AWS_SECRET_ACCESS_KEY}, aws_region_name: {credentials.AWS_REGION}")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"""model_list:
  - {{model_name: claude-sonnet-4-5-anthropic, litellm_params: {{model: anthropic/claude-sonnet-4-5-20250929, api_base: '{base}', api_key: {credentials.ANTHROPIC_API_KEY}}}}}
  - {{model_name: claude-sonnet-4-5-bedrock-invoke, litellm_params: {{model: 'bedrock/invoke/{MID}', {aws}}}}}
  - {{model_name: claude-sonnet-4-5-bedrock-converse, litellm_params: {{model: 'bedrock/converse/{MID}', {aws}}}}}
  - {{model_name: claude-sonnet-4-5-vertex, litellm_params: {{model: 'vertex_ai/claude-sonnet-4-5@20250929', api_base: '{base}', vertex_project: {credentials.VERTEX_PROJECT}, vertex_location: {credentials.VERTEX_LOCATION}, vertex_credentials: '{sa}'}}}}
  - {{model_name: claude-sonnet-4-5-azure, litellm_params: {{model: azure_ai/claude-sonnet-4-5, api_base: '{base}', api_key: {credentials.AZURE_API_KEY}}}}}
litellm_settings: {{num_retries: 0, request_timeout: 60}}
general_settings: {{master_key: sk-test}}
""")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
           "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True"}
    proxy = subprocess.Popen([str(LITELLM), "--config", str(cfg), "--host", "127.0.0.1", "--port", str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{port}/health/liveliness", 60)
        for route in ("anthropic", "bedrock-invoke", "bedrock-converse", "vertex", "azure"):
            job = f"cli-{route}"
            httpx.post(base + "/_emulator/jobs", json={"job_id": job})
            home = tmp_path / route
            home.mkdir()
            cenv = {"PATH": env["PATH"], "HOME": str(home), "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
                    "ANTHROPIC_API_KEY": "sk-test", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_MAX_RETRIES": "0"}
            out = subprocess.run([str(CLAUDE), "-p", "--output-format", "json", "--model", f"claude-sonnet-4-5-{route}", "--",
                                  "Reply with exactly the word: pong"], env=cenv, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=120)
            result = json.loads(out.stdout)
            assert result["is_error"] is False and result["result"] == "pong", (route, out.stdout[:500])
            caps = httpx.get(base + "/_emulator/captures", params={"job_id": job}).json()["captures"]
            assert any(c["status"] == 200 and c["operation"] != "token" for c in caps), route
    finally:
        proxy.terminate()
        proxy.wait(timeout=20)
