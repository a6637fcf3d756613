"""Production-shaped routing, end to end (README "Production-shaped routing"): inside a worker's sandbox the
providers' real hostnames resolve to the emulator while any other name is refused and recorded as egress; the
emulator answers them over HTTPS with a per-run CA that the gateway process trusts and nothing else does; and the
basic row gets its verdict from a real model call on every column, at several LiteLLM releases.

Needs root (a network namespace): skipped otherwise, as production-shaped routing itself is."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccmatrix.contract import CellJob
from ccmatrix.manifest import load_manifest
from ccmatrix.settings import get_settings
from providers import registry
from providers.base import host_map
from worker.sandbox import isolation_available

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not isolation_available(), reason="needs root + unshare (a network namespace)")]

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
UNKNOWN = "egress-probe.example.org"
MACHINE_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ROW = "basic_messaging_non_streaming"
# The releases the basic row is checked at: the two whose api_base handling broke Vertex routing (issue 12:
# 1.83.14 POSTs to api_base itself, 1.91.1 appends ":streamRawPredict" to it) and the manifest's default.
VERSIONS = ("1.83.14", "1.91.1", load_manifest().litellm_version)


@pytest.fixture(scope="module")
def env(tools):
    from worker.environment import environment_for

    environment = environment_for(get_settings(), real=False)
    environment.ensure_started()
    assert environment.sandbox.production_routing
    return environment


def _inside(env, code: str, *args: str, extra_env: dict | None = None) -> dict:
    """Run a Python snippet inside the sandbox (the worker's interpreter, an explicit small environment)."""
    process_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **(extra_env or {})}
    done = subprocess.run(env.sandbox.wrap([sys.executable, "-c", code, *args], cwd="/"), capture_output=True,
                          text=True, timeout=60, env=process_env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


RESOLVE = """
import json, socket, sys
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = sorted({a[4][0] for a in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)})
    except OSError as error:
        out[name] = type(error).__name__
print(json.dumps(out))
"""


def test_providers_hostnames_resolve_to_loopback_and_any_other_name_is_an_egress_finding(env):
    hosts = sorted(host_map(registry.all(), get_settings()))
    assert {"api.anthropic.com", "bedrock-runtime.us-east-1.amazonaws.com", "us-east5-aiplatform.googleapis.com",
            "aiplatform.googleapis.com", "oauth2.googleapis.com"} <= set(hosts)
    assert any(h.endswith(".services.ai.azure.com") for h in hosts)
    since = time.time()
    out = _inside(env, RESOLVE, *hosts, UNKNOWN, "pypi.org")
    assert {h: out[h] for h in hosts} == {h: ["127.0.0.1"] for h in hosts}
    assert out[UNKNOWN] == out["pypi.org"] == "gaierror"
    egress = env.sandbox.egress_attempts(since=since)
    assert UNKNOWN in egress and "pypi.org" in egress
    assert not set(hosts) & set(egress)   # the providers' hostnames are not egress
    assert set(hosts) <= set(env.sandbox.resolved(since=since))


HTTPS = """
import json, ssl, sys, urllib.request, urllib.error
req = urllib.request.Request("https://api.anthropic.com/v1/messages", method="POST", data=sys.argv[2].encode(),
                             headers={"x-api-key": sys.argv[1], "anthropic-version": "2023-06-01",
                                      "content-type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        print(json.dumps({"status": r.status, "body": json.loads(r.read())}))
except urllib.error.URLError as error:
    print(json.dumps({"error": str(error.reason)}))
"""
MESSAGE = json.dumps({"model": "claude-sonnet-4-5-20250929", "max_tokens": 16,
                      "messages": [{"role": "user", "content": "Reply with exactly the word: trusted"}]})


def test_the_per_run_ca_is_trusted_by_the_gateway_process_and_by_nothing_else(env):
    from providers.anthropic.credentials import API_KEY
    from worker.driver import build_env

    ca = Path(env.sandbox.gateway_env["SSL_CERT_FILE"])
    pem = ca.read_text().strip()
    assert ca.is_relative_to(env.root) and pem.startswith("-----BEGIN CERTIFICATE-----")
    assert env.sandbox.gateway_env == {"SSL_CERT_FILE": str(ca), "REQUESTS_CA_BUNDLE": str(ca)}

    # the gateway process: its environment names the CA (LiteLLM's httpx/aiohttp clients read SSL_CERT_FILE,
    # google-auth's requests reads REQUESTS_CA_BUNDLE), and a client with that trust reaches the emulator by name
    proxy = env.proxy(load_manifest(), load_manifest().litellm_version)
    environ = dict(item.split("=", 1) for item in
                   Path(f"/proc/{proxy.handle.process.pid}/environ").read_text().split("\0") if "=" in item)
    assert environ["SSL_CERT_FILE"] == environ["REQUESTS_CA_BUNDLE"] == str(ca)
    trusted = _inside(env, HTTPS, API_KEY, MESSAGE, extra_env={"SSL_CERT_FILE": str(ca)})
    assert trusted["status"] == 200 and trusted["body"]["content"][0]["text"] == "trusted"

    # nothing else: not the worker, not the CLI's environment (and a client with it fails the TLS check), not the
    # machine's trust store, not the gateway's own certifi bundle
    assert not [name for name, value in os.environ.items() if str(ca.parent) in value]   # the worker's own
    cli_env = build_env("http://127.0.0.1:14100", "sk-gateway", Path("/tmp"), 60, 0)
    assert not {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE"} & set(cli_env)
    untrusted = _inside(env, HTTPS, API_KEY, MESSAGE, extra_env={k: v for k, v in cli_env.items() if k != "HOME"})
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted["error"], untrusted
    if MACHINE_BUNDLE.exists():
        assert pem not in MACHINE_BUNDLE.read_text()
    for bundle in (CACHE / "litellm").glob("*/lib/python*/site-packages/certifi/cacert.pem"):
        assert pem not in bundle.read_text(), bundle


def test_the_cli_does_not_trust_the_per_run_ca(env, tools):
    """The real CLI pointed at https://api.anthropic.com (which resolves to the emulator inside the sandbox) fails
    the TLS check: the emulator never sees its request."""
    from providers.anthropic.credentials import API_KEY
    from worker.driver import run_cli

    job_id = f"cli-trust-{time.time_ns()}"
    env.begin_job(job_id)
    since = time.time()
    run = run_cli(tools["claude"], prompt="Reply with exactly the word: untrusted", model="claude-sonnet-4-5-20250929",
                  base_url="https://api.anthropic.com", api_key=API_KEY, sandbox=env.sandbox, timeout_s=90)
    assert "api.anthropic.com" in env.sandbox.resolved(since=since)   # it did reach the emulator's address
    assert run.result is not None and run.result.is_error
    assert "SSL certificate verification failed" in run.result.result, run.result.result
    assert env.captures(job_id) == []
    env.end_job(job_id)


def _provisioned(version: str) -> bool:
    return (CACHE / "litellm" / version / "bin" / "litellm").exists()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_basic_row_gets_its_verdict_from_a_real_model_call_on_every_column(version, tools):
    """Pass where the gateway works, or a gateway `fail` with its evidence — never a routing artefact (an emulator
    gap, a 404 from a route nobody serves, an "Invalid port" from a mangled api_base), never an egress finding."""
    if not _provisioned(version):
        pytest.skip(f"LiteLLM {version} is not provisioned (ccmatrix provision --litellm-version {version})")
    from worker.cell import run_cell

    manifest = load_manifest()
    verdicts = {}
    for column in manifest.providers:
        job = CellJob(run_id=f"routing-{version}-{time.time_ns()}", feature=ROW, provider=column.id, tiers=["sonnet"],
                      litellm_version=version, claude_code_version=manifest.claude_code_version,
                      manifest=manifest.model_dump(mode="json"))
        cell = run_cell(job, get_settings())
        verdicts[column.id] = cell.status.value
        for tier, result in cell.tiers.items():
            where = f"{version} {column.id}/{tier}: {result.status.value} {result.cause} {result.error}"
            if result.status.value == "not_applicable":
                continue
            evidence = result.evidence
            assert evidence is not None, where
            assert result.cause != "emulator_gap" and not evidence.findings, where
            text = json.dumps(evidence.model_dump(mode="json"))
            assert "Invalid port" not in text and "matches no emulated route" not in text, where
            assert not [c for c in evidence.upstream_calls if c.status == 404], where
            if result.status.value == "pass":
                assert any(c.status == 200 and c.cause == "ok" for c in evidence.upstream_calls), where
            else:   # a gateway `fail`, with the gateway's own answer or the assertion that failed
                assert result.status.value == "fail" and result.cause == "gateway", where
                assert evidence.gateway_response is not None or evidence.assertion, where
    print(f"\nLiteLLM {version}: {verdicts}")
