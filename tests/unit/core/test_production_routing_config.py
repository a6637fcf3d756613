"""Production-shaped routing (README "Production-shaped routing"), the config side: in an isolated sandbox each
emulated column's gateway config is what a production user writes for that provider — no `api_base` /
`aws_bedrock_runtime_endpoint` for Anthropic, Bedrock and Vertex AI (as LiteLLM's docs and its own suite,
BerriAI/litellm tests/e2e/claude_code/test_config.yaml, write them), the resource URL for Azure AI Foundry — and each
provider package declares the hostnames it is reached at. Without a namespace (DirectEmulatorURL) the entries point
at the emulator's URL, as before."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import yaml

from ccmatrix.manifest import load_manifest
from ccmatrix.settings import get_settings
from providers import registry
from providers.base import DirectEmulatorURL, direct, host_map
from gateways import registry as gateways
from worker.proxy_config import build_config

EMULATOR = "http://127.0.0.1:18080"
ENDPOINT_KEYS = ("api_base", "aws_bedrock_runtime_endpoint", "base_url")
# What production users write: no endpoint at all (the provider's own hostname), or the Azure resource URL.
NO_ENDPOINT_IN_PRODUCTION = {"anthropic", "bedrock_invoke", "bedrock_converse", "vertex_ai", "bedrock_passthrough",
                             "vertex_passthrough"}


@pytest.fixture
def settings(monkeypatch, tmp_path):
    """Every column emulated (no real credentials)."""
    for name in ("CCMATRIX_ANTHROPIC_API_KEY", "CCMATRIX_AWS_ACCESS_KEY_ID", "CCMATRIX_AWS_SECRET_ACCESS_KEY",
                 "CCMATRIX_VERTEX_CREDENTIALS_FILE", "CCMATRIX_VERTEX_PROJECT", "CCMATRIX_AZURE_API_KEY",
                 "CCMATRIX_AZURE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CCMATRIX_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _entries(settings, tmp_path, emulator_url) -> dict[str, list[dict]]:
    """litellm_params of each emulated column's deployments, by the column's route (provider package)."""
    manifest = load_manifest()
    return {column.route: [e["litellm_params"] for e in build_config(manifest, settings, emulator_url,
                                                                       tmp_path / "secrets", [column.id])["model_list"]]
            for column in manifest.providers}


@pytest.mark.parametrize("route", [c.route for c in load_manifest().providers])
def test_the_generated_config_has_no_endpoint_where_production_has_none(settings, tmp_path, route):
    entries = _entries(settings, tmp_path, EMULATOR)[route]
    assert entries, route
    for params in entries:
        if route in NO_ENDPOINT_IN_PRODUCTION:
            assert not set(ENDPOINT_KEYS) & set(params), params
        else:   # Azure AI Foundry: the resource URL, as users set it; LiteLLM posts to <api_base>/v1/messages
            assert route == "azure"
            base = params["api_base"]
            host = urlsplit(base).hostname
            assert base == f"https://{host}/anthropic" and host.endswith(".services.ai.azure.com"), base
            assert host in registry.get(route).hostnames(settings)
        # nothing in the entry names the emulator
        assert "127.0.0.1" not in json.dumps(params), params


def test_vertex_uses_googles_token_endpoint_and_the_region_it_is_reached_at(settings, tmp_path):
    for params in _entries(settings, tmp_path, EMULATOR)["vertex_ai"]:
        account = json.loads(open(params["vertex_credentials"]).read())
        assert account["token_uri"] == "https://oauth2.googleapis.com/token"
        hosts = registry.get("vertex_ai").hostnames(settings)
        assert f"{params['vertex_location']}-aiplatform.googleapis.com" in hosts
        assert {"aiplatform.googleapis.com", "oauth2.googleapis.com"} <= set(hosts)


def test_bedrock_is_reached_at_the_runtime_and_mantle_hosts_of_its_region(settings, tmp_path):
    for route in ("bedrock_invoke", "bedrock_converse"):
        for params in _entries(settings, tmp_path, EMULATOR)[route]:
            region = params["aws_region_name"]
            assert registry.get(route).hostnames(settings) == (f"bedrock-runtime.{region}.amazonaws.com",
                                                               f"bedrock-mantle.{region}.api.aws")


def test_every_provider_declares_where_it_is_reached_and_pass_through_packages_inherit_it(settings):
    hosts = host_map(registry.all(), settings)
    assert hosts["api.anthropic.com"] == ["anthropic"]
    for provider in registry.all():
        assert provider.hostnames(settings), provider
        owner = provider.emulator().provider   # a pass-through package re-exports another package's dialect
        assert provider.hostnames(settings) == registry.get(owner).hostnames(settings)
        for host in provider.hostnames(settings):
            assert provider.id in hosts[host]


def test_without_a_namespace_the_entries_point_at_the_emulator(settings, tmp_path):
    url = DirectEmulatorURL(EMULATOR)
    assert direct(url) and not direct(EMULATOR) and not direct(None)
    config = build_config(load_manifest(), settings, url, tmp_path / "secrets")
    for entry in config["model_list"]:
        params = entry["litellm_params"]
        endpoints = [params[k] for k in ENDPOINT_KEYS if k in params]
        if params["model"].startswith("vertex_ai/") and not endpoints:
            continue   # the pass-through route has no api_base (LiteLLM always calls the regional host)
        assert endpoints == [EMULATOR] and type(endpoints[0]) is str, params
    path, _ = gateways.get("litellm").write_config(config, tmp_path / "proxy")   # YAML-safe: a plain str, not the marker class
    assert yaml.safe_load(path.read_text())["model_list"]


def test_real_columns_are_unchanged(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("CCMATRIX_ANTHROPIC_API_KEY", "sk-ant-real")
    monkeypatch.setenv("CCMATRIX_AWS_ACCESS_KEY_ID", "AKIAREAL")
    monkeypatch.setenv("CCMATRIX_AWS_SECRET_ACCESS_KEY", "real-secret")
    get_settings.cache_clear()
    config = build_config(load_manifest(), get_settings(), EMULATOR, tmp_path / "secrets", ["anthropic",
                          "bedrock_invoke"], real=True)
    for entry in config["model_list"]:
        params = entry["litellm_params"]
        assert not set(ENDPOINT_KEYS) & set(params)
        # the credentials are named, never written (providers.base.env_reference; drills/secrets.py)
        assert (params.get("api_key") == "os.environ/CCMATRIX_ANTHROPIC_API_KEY"
                or params.get("aws_access_key_id") == "os.environ/CCMATRIX_AWS_ACCESS_KEY_ID"), params
