"""Real credentials reach the gateway through its environment only: the config names them with LiteLLM's
`os.environ/<NAME>` (providers.base.env_reference), the gateway process gets the values (ProxySpec.env)."""
from __future__ import annotations

import subprocess
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from ccmatrix.manifest import load_manifest
from ccmatrix.settings import Settings
from providers import registry
from worker.proxy_config import build_config, to_yaml
from worker.runtimes import process as process_runtime
from worker.runtimes.base import ProxySpec

REAL = Settings(anthropic_api_key=SecretStr("sk-ant-REAL-0000"), aws_access_key_id=SecretStr("AKIAREAL000000000000"),
                aws_secret_access_key=SecretStr("aws-secret-REAL-0000"),
                aws_session_token=SecretStr("aws-session-REAL-0000"), azure_api_key=SecretStr("azure-REAL-0000"),
                azure_api_base="https://real.services.ai.azure.com/anthropic")


def test_the_config_names_every_real_credential_and_holds_none(tmp_path):
    config = build_config(load_manifest(), REAL, None, tmp_path / "secrets", real=True)
    text = to_yaml(config)
    secrets = set(registry.secret_values(REAL))
    assert len(secrets) == 5
    for secret in secrets:
        assert secret not in text
    env = registry.gateway_env(REAL)
    assert set(env.values()) == secrets
    refs = {v.removeprefix("os.environ/") for e in config["model_list"] for v in e["litellm_params"].values()
            if isinstance(v, str) and v.startswith("os.environ/")}
    assert refs == set(env), (refs, set(env))  # every reference resolves, and nothing else is handed over


def test_an_emulated_column_hands_the_gateway_no_credential():
    assert registry.gateway_env(Settings()) == {}


def test_the_process_runtime_puts_them_in_the_gateway_environment(monkeypatch, tmp_path):
    seen = {}

    def fake_popen(cmd, **kw):
        seen.update(kw["env"])
        return SimpleNamespace(pid=1, poll=lambda: None)

    monkeypatch.setattr(process_runtime, "ensure_litellm", lambda cache, version: tmp_path)
    monkeypatch.setattr(subprocess, "Popen", fake_popen)
    spec = ProxySpec(litellm_version="1.0.0", config_path=tmp_path / "c.yaml", master_key="k", port=1,
                     log_path=tmp_path / "p.log", env={"CCMATRIX_ANTHROPIC_API_KEY": "sk-ant-REAL-0000"})
    process_runtime.ProcessRuntime().start(spec, SimpleNamespace(wrap=lambda cmd, cwd: cmd))
    assert seen["CCMATRIX_ANTHROPIC_API_KEY"] == "sk-ant-REAL-0000"
    assert "sk-ant-REAL-0000" not in repr(spec)
