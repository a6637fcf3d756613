"""Readiness and stop of the npm gateways with a real start of the provisioned release (Portkey boots in ~0.5 s,
claude-code-router in ~1 s): not ready before it listens, ready on its readiness path, gone after stop. Outside the
sandbox (the plug-ins' commands run as they are, on a free port); inside it the worker's pool does the same."""
from __future__ import annotations

import subprocess
from types import SimpleNamespace

import httpx
import pytest

from ccmatrix.processes import wait_until
from ccmatrix.settings import get_settings
from gateways import registry
from worker.runtimes.process import ProcessHandle
from worker.sandbox import Sandbox, free_port

RELEASES = {"portkey": "1.15.2", "claude-code-router": "2.0.0"}


def _ready(gateway, url) -> bool:
    with httpx.Client(base_url=url, timeout=2) as client:
        try:
            return gateway.ready(client)
        except httpx.HTTPError:
            return False


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_start_ready_stop(tmp_path, name):
    gateway = registry.get(name)
    install = gateway.provision(get_settings().cache_dir, RELEASES[name])  # cached after the first run
    assert gateway.installed_version(install) == RELEASES[name]
    config = gateway.build_config(__import__("ccmatrix.manifest", fromlist=["x"]).load_manifest(), get_settings(),
                                  "http://127.0.0.1:1", tmp_path)
    path, _ = gateway.write_config(config, tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    assert not _ready(gateway, url), "nothing listens yet"
    cmd, env = gateway.command(install, SimpleNamespace(config_path=path, port=port, master_key="sk-test"), {})
    log = tmp_path / "gateway.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=tmp_path)
    handle = ProcessHandle(process, url, log)
    try:
        wait_until(lambda: _ready(gateway, url), timeout_s=60, interval_s=0.1, what=name)
        assert handle.alive()
    finally:
        handle.stop()
    assert not handle.alive() and process.returncode is not None
    assert not _ready(gateway, url), "stopped: nothing answers any more"


@pytest.mark.parametrize("name", sorted(RELEASES))
def test_without_production_routing_the_runtime_refuses_in_one_line(tmp_path, name):
    from worker.runtimes import ProxyBootError, ProxySpec

    sandbox = Sandbox(tmp_path, isolated=False)
    spec = ProxySpec(litellm_version=RELEASES[name], config_path=tmp_path / "c.json", master_key="k", port=1)
    with pytest.raises(ProxyBootError) as error:
        registry.get(name).runtime("process").start(spec, sandbox)
    assert "production-shaped routing" in str(error.value) and "\n" not in str(error.value)
