"""Each plug-in's config per provider column, production-shaped (the providers' real hosts, the emulator's
credentials), its profile applied, and how the CLI is pointed at it."""
from __future__ import annotations

import json

import pytest

from ccmatrix.manifest import load_manifest
from ccmatrix.settings import Settings
from gateways import registry
from providers import _aws
from providers.anthropic import credentials as anthropic
from providers.azure import credentials as azure
from providers.vertex_ai import credentials as vertex


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


def _config(name, manifest, tmp_path, profile=None):
    return registry.get(name).build_config(manifest, Settings(), "http://127.0.0.1:18080", tmp_path, profile=profile)


def test_portkey_has_one_gateway_config_per_routed_column(manifest, tmp_path):
    columns = _config("portkey", manifest, tmp_path)["columns"]
    assert sorted(columns) == ["anthropic", "azure", "bedrock_converse", "vertex_ai"]
    assert columns["anthropic"]["provider"] == "anthropic" and columns["anthropic"]["api_key"] == anthropic.API_KEY
    assert columns["bedrock_converse"].items() >= {"provider": "bedrock", "aws_access_key_id": _aws.AWS_ACCESS_KEY_ID,
                                                   "aws_secret_access_key": _aws.AWS_SECRET_ACCESS_KEY,
                                                   "aws_region": _aws.AWS_REGION}.items()
    account = columns["vertex_ai"]["vertex_service_account_json"]
    assert columns["vertex_ai"]["provider"] == "vertex-ai" and account["token_uri"] == vertex.TOKEN_URI
    assert columns["vertex_ai"]["vertex_region"] == vertex.LOCATION
    assert columns["azure"]["azure_foundry_url"] == azure.API_BASE and columns["azure"]["provider"] == "azure-ai"
    # production-shaped: no custom host anywhere, the emulator's URL nowhere
    assert "custom_host" not in json.dumps(columns) and "127.0.0.1" not in json.dumps(columns)


def test_portkey_profiles_and_harness_land_in_every_column(manifest, tmp_path):
    recommended = _config("portkey", manifest, tmp_path)["columns"]
    defaults = _config("portkey", manifest, tmp_path, profile="defaults")["columns"]
    for route in recommended:
        assert recommended[route]["forward_headers"] == ["anthropic-beta"]
        assert "forward_headers" not in defaults[route]
        assert recommended[route]["request_timeout"] == defaults[route]["request_timeout"] == 120000


def test_portkey_points_the_cli_with_its_config_header_and_the_provider_model(manifest, tmp_path):
    portkey = registry.get("portkey")
    config = _config("portkey", manifest, tmp_path)
    env = portkey.client_env("bedrock_converse", config, "http://127.0.0.1:14100/_job/j", "sk-gw")
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:14100/_job/j" and env["ANTHROPIC_AUTH_TOKEN"] == "sk-gw"
    name, _, value = env["ANTHROPIC_CUSTOM_HEADERS"].partition(": ")
    assert name == "x-portkey-config" and json.loads(value) == config["columns"]["bedrock_converse"]
    assert "\n" not in env["ANTHROPIC_CUSTOM_HEADERS"]
    assert set(env) == portkey.client_env_vars
    assert portkey.cli_model(manifest, "sonnet", "bedrock_converse") == \
        manifest.provider_model("sonnet", "bedrock_converse")
    assert portkey.cli_model(manifest, "sonnet", "vertex_ai") == \
        "anthropic." + manifest.provider_model("sonnet", "vertex_ai")


def test_claude_code_router_lists_its_providers_with_the_capital_a_transformer(manifest, tmp_path):
    config = _config("claude-code-router", manifest, tmp_path)
    by_name = {p["name"]: p for p in config["Providers"]}
    assert sorted(by_name) == ["anthropic", "azure", "vertex"]
    assert by_name["anthropic"]["api_base_url"] == "https://api.anthropic.com/v1/messages"
    assert by_name["azure"]["api_base_url"] == f"{azure.API_BASE}/v1/messages"
    assert by_name["anthropic"]["transformer"] == by_name["azure"]["transformer"] == {"use": ["Anthropic"]}
    assert by_name["vertex"]["transformer"] == {"use": ["vertex-claude"]} and by_name["vertex"]["api_key"]
    assert by_name["anthropic"]["models"] == sorted(manifest.provider_model(t, "anthropic") for t in manifest.tiers)
    assert config["_env"]["GOOGLE_APPLICATION_CREDENTIALS"].endswith(vertex.SA_FILENAME)
    assert config["API_TIMEOUT_MS"] == 120000  # the harness setting
    assert "127.0.0.1" not in json.dumps(config["Providers"])


def test_claude_code_router_model_names_the_provider(manifest):
    ccr = registry.get("claude-code-router")
    assert ccr.cli_model(manifest, "haiku", "azure") == "azure," + manifest.provider_model("haiku", "azure")
    assert ccr.cli_model(manifest, "opus", "vertex_ai") == "vertex," + manifest.provider_model("opus", "vertex_ai")
    env = ccr.client_env("azure", {}, "http://127.0.0.1:14000", "sk-gw")
    assert env == {"ANTHROPIC_BASE_URL": "http://127.0.0.1:14000", "ANTHROPIC_AUTH_TOKEN": "sk-gw"}


def test_claude_code_router_boots_with_its_key_and_port_in_a_home_of_its_own(manifest, tmp_path):
    from types import SimpleNamespace

    ccr = registry.get("claude-code-router")
    config = _config("claude-code-router", manifest, tmp_path)
    path, digest = ccr.write_config(config, tmp_path / "proxy")
    assert oct(path.stat().st_mode & 0o777) == "0o600" and digest in path.name
    assert ccr.write_config(config, tmp_path / "proxy") == (path, digest)  # same config, same file
    spec = SimpleNamespace(config_path=path, port=14000, master_key="sk-boot")
    cmd, env = ccr.command(tmp_path / "install", spec, {"SSL_CERT_FILE": "/run/ca.pem"})
    assert cmd[-1] == "start" and cmd[0] == "node"
    written = json.loads((__import__("pathlib").Path(env["HOME"]) / ".claude-code-router" / "config.json").read_text())
    assert written["APIKEY"] == "sk-boot" and written["PORT"] == 14000 and written["HOST"] == "127.0.0.1"
    assert "_env" not in written and env["GOOGLE_APPLICATION_CREDENTIALS"] == config["_env"]["GOOGLE_APPLICATION_CREDENTIALS"]
    assert env["NODE_EXTRA_CA_CERTS"] == "/run/ca.pem"  # node trusts the per-run CA this way, nothing else does


def test_litellm_plugin_is_the_config_it_always_had(manifest, tmp_path):
    import yaml

    from worker.proxy_config import build_config

    litellm = registry.get("litellm")
    ours = litellm.build_config(manifest, Settings(), "http://127.0.0.1:18080", tmp_path)
    assert ours == build_config(manifest, Settings(), "http://127.0.0.1:18080", tmp_path)
    path, digest = litellm.write_config(ours, tmp_path / "a")
    assert path.name == f"litellm-{digest}.yaml" and yaml.safe_load(path.read_text()) == ours  # the YAML LiteLLM reads
    assert path.stat().st_mode & 0o077 == 0  # 0600: it may name credentials
    assert litellm.cli_model(manifest, "sonnet", "azure") == manifest.proxy_alias("sonnet", "azure")
    assert litellm.client_env("bedrock_passthrough", ours, "http://gw", "k")["CLAUDE_CODE_USE_BEDROCK"] == "1"


@pytest.mark.parametrize("name", ["portkey", "claude-code-router"])
def test_node_gateways_refuse_the_docker_runtime_in_one_line(name):
    from gateways.base import GatewayUnsupported

    with pytest.raises(GatewayUnsupported) as error:
        registry.get(name).runtime("docker")
    assert "\n" not in str(error.value) and "CCMATRIX_PROXY_RUNTIME=process" in str(error.value)
    assert registry.get(name).runtime("process").name == "process"


@pytest.mark.parametrize("name", ["portkey", "claude-code-router"])
def test_real_columns_are_refused_with_a_reason(name):
    reason = registry.get(name).real_columns_reason()
    assert reason and "\n" not in reason
    assert registry.get("litellm").real_columns_reason() is None
