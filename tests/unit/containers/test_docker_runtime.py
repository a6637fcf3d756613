"""The `docker` proxy runtime against the Docker SDK's API surface (no engine runs here).

Two layers:
- the high-level SDK objects (`DockerClient`, `ContainerCollection`, `ImageCollection`, `Container`) replaced by
  autospec'd mocks, so every call the runtime makes is checked against the real method signatures;
- the real high-level SDK code driving an autospec'd low-level `APIClient`, so the keyword arguments the runtime
  passes are turned by docker-py itself into the Engine API payload (HostConfig) that we then assert on.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from unittest.mock import create_autospec

import pytest

docker = pytest.importorskip("docker", reason="the docker SDK (pip install 'ccmatrix[docker]') is not installed")
from docker.errors import APIError, DockerException, ImageNotFound, NotFound  # noqa: E402
from docker.models.containers import Container, ContainerCollection  # noqa: E402
from docker.models.images import Image, ImageCollection  # noqa: E402

from worker.runtimes import get_runtime  # noqa: E402
from worker.runtimes.base import ProxyBootError, ProxySpec  # noqa: E402
from worker.runtimes.docker import (  # noqa: E402
    CONFIG_MOUNT,
    DockerProxyHandle,
    DockerRuntime,
    image_reference,
)

REAL_PROVIDER_CONFIG = """
model_list:
  - model_name: claude-sonnet-4-5-anthropic
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: os.environ/ANTHROPIC_API_KEY}
litellm_settings: {num_retries: 0}
"""

EMULATOR_CONFIG = """
model_list:
  - model_name: claude-sonnet-4-5-anthropic
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "http://127.0.0.1:18080", api_key: fake}
litellm_settings: {num_retries: 0}
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("CCMATRIX_PROXY_IMAGE", "CCMATRIX_PROXY_IMAGE_TAG_TEMPLATE", "CCMATRIX_PROXY_IMAGE_PULL",
                 "CCMATRIX_PROXY_DOCKER_NETWORK", "CCMATRIX_PROXY_MEM_LIMIT", "DOCKER_HOST"):
        monkeypatch.delenv(name, raising=False)
    from ccmatrix.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _spec(tmp_path: Path, config: str = REAL_PROVIDER_CONFIG, port: int = 0, **kw) -> ProxySpec:
    cfg = tmp_path / "litellm-config.yaml"
    cfg.write_text(config)
    return ProxySpec(litellm_version="1.106.2", config_path=cfg, master_key="sk-test-master", port=port,
                     env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "EXTRA": "1"}, **kw)


def _client(published_port: str = "49153"):
    client = create_autospec(docker.DockerClient, instance=True)
    client.containers = create_autospec(ContainerCollection, instance=True)
    client.images = create_autospec(ImageCollection, instance=True)
    container = create_autospec(Container, instance=True)
    container.id = "c0ffee"
    container.status = "running"
    container.ports = {"4000/tcp": [{"HostIp": "127.0.0.1", "HostPort": published_port}]}
    container.logs.return_value = b"INFO: Uvicorn running on http://0.0.0.0:4000\n"
    client.containers.create.return_value = container
    client.images.get.return_value = create_autospec(Image, instance=True)
    return client, container


# --- image reference ------------------------------------------------------------------------------------------

def test_image_reference_default_template_and_overrides():
    assert image_reference("ghcr.io/berriai/litellm", "1.106.2") == "ghcr.io/berriai/litellm:v1.106.2-stable"
    assert image_reference("ghcr.io/berriai/litellm", "v1.106.2", "main-v{version}") == \
        "ghcr.io/berriai/litellm:main-v1.106.2"
    # A registry with a port is not a tag; an explicit tag or digest is used verbatim.
    assert image_reference("localhost:5000/litellm", "1.2.3") == "localhost:5000/litellm:v1.2.3-stable"
    assert image_reference("ghcr.io/berriai/litellm:main-stable", "1.2.3") == "ghcr.io/berriai/litellm:main-stable"
    assert image_reference("ghcr.io/berriai/litellm@sha256:" + "a" * 64, "1") .endswith("a" * 64)


def test_image_and_tag_template_from_environment(monkeypatch):
    monkeypatch.setenv("CCMATRIX_PROXY_IMAGE", "registry.example/litellm")
    monkeypatch.setenv("CCMATRIX_PROXY_IMAGE_TAG_TEMPLATE", "main-v{version}")
    runtime = DockerRuntime(client=_client()[0])
    assert runtime.image_for("1.93.0") == "registry.example/litellm:main-v1.93.0"


def test_get_runtime_returns_docker_runtime():
    runtime = get_runtime("docker")
    assert isinstance(runtime, DockerRuntime) and runtime.name == "docker"


def test_bad_policies_are_refused():
    with pytest.raises(ValueError):
        DockerRuntime(client=_client()[0], pull="sometimes")
    with pytest.raises(ValueError):
        DockerRuntime(client=_client()[0], network="overlay")


# --- the container spec -----------------------------------------------------------------------------------------

def test_bridge_container_spec(tmp_path):
    client, container = _client("49153")
    handle = DockerRuntime(client=client).start(_spec(tmp_path), sandbox=None)

    client.images.get.assert_called_once_with("ghcr.io/berriai/litellm:v1.106.2-stable")
    client.images.pull.assert_not_called()
    client.containers.create.assert_called_once()
    (image,), kwargs = client.containers.create.call_args
    assert image == "ghcr.io/berriai/litellm:v1.106.2-stable"
    assert kwargs["command"] == ["--config", "/app/config.yaml", "--port", "4000"]
    assert kwargs["detach"] is True
    cfg = str((tmp_path / "litellm-config.yaml").resolve())
    assert kwargs["volumes"] == {cfg: {"bind": CONFIG_MOUNT, "mode": "ro"}}
    assert kwargs["ports"] == {"4000/tcp": ("127.0.0.1", None)}
    assert kwargs["environment"]["LITELLM_MASTER_KEY"] == "sk-test-master"
    assert kwargs["environment"]["EXTRA"] == "1"
    assert kwargs["environment"]["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert kwargs["labels"]["io.ccmatrix.role"] == "proxy"
    assert kwargs["labels"]["io.ccmatrix.litellm-version"] == "1.106.2"
    assert kwargs["labels"]["io.ccmatrix.owner-pid"] == str(os.getpid())
    assert kwargs["name"].startswith("ccmatrix-proxy-")
    assert kwargs["cap_drop"] == ["ALL"] and kwargs["security_opt"] == ["no-new-privileges"]
    assert "network_mode" not in kwargs
    container.start.assert_called_once_with()
    assert handle.base_url == "http://127.0.0.1:49153"
    assert isinstance(handle, DockerProxyHandle)


def test_fixed_host_port_is_published_on_loopback(tmp_path):
    client, _ = _client("45678")
    handle = DockerRuntime(client=client).start(_spec(tmp_path, port=45678))
    assert client.containers.create.call_args.kwargs["ports"] == {"4000/tcp": ("127.0.0.1", 45678)}
    assert handle.base_url == "http://127.0.0.1:45678"


def test_loopback_upstream_uses_host_network(tmp_path):
    client, _ = _client()
    handle = DockerRuntime(client=client).start(_spec(tmp_path, EMULATOR_CONFIG, port=41234))
    kwargs = client.containers.create.call_args.kwargs
    assert kwargs["network_mode"] == "host"
    assert "ports" not in kwargs
    assert kwargs["command"] == ["--config", "/app/config.yaml", "--host", "127.0.0.1", "--port", "41234"]
    assert handle.base_url == "http://127.0.0.1:41234"


def test_forced_bridge_keeps_publishing(tmp_path):
    client, _ = _client()
    DockerRuntime(client=client, network="bridge").start(_spec(tmp_path, EMULATOR_CONFIG))
    kwargs = client.containers.create.call_args.kwargs
    assert "network_mode" not in kwargs and "4000/tcp" in kwargs["ports"]


def test_credentials_file_named_in_config_is_mounted_read_only(tmp_path):
    sa = tmp_path / "service-account.json"
    sa.write_text("{}")
    config = f"""
model_list:
  - model_name: claude-sonnet-4-5-vertex
    litellm_params: {{model: "vertex_ai/claude-sonnet-4-5@20250929", vertex_credentials: "{sa}"}}
"""
    client, _ = _client()
    DockerRuntime(client=client).start(_spec(tmp_path, config))
    volumes = client.containers.create.call_args.kwargs["volumes"]
    assert volumes[str(sa)] == {"bind": str(sa), "mode": "ro"}


# --- errors -------------------------------------------------------------------------------------------------------

def test_missing_image_is_pulled(tmp_path):
    client, _ = _client()
    client.images.get.side_effect = ImageNotFound("no such image")
    DockerRuntime(client=client).start(_spec(tmp_path))
    client.images.pull.assert_called_once_with("ghcr.io/berriai/litellm", tag="v1.106.2-stable")


def test_missing_image_that_cannot_be_pulled_is_a_boot_error(tmp_path):
    client, _ = _client()
    client.images.get.side_effect = ImageNotFound("no such image")
    client.images.pull.side_effect = NotFound("manifest unknown")
    with pytest.raises(ProxyBootError, match=r"ghcr.io/berriai/litellm:v1.106.2-stable.*could not be pulled"):
        DockerRuntime(client=client).start(_spec(tmp_path))
    client.containers.create.assert_not_called()


def test_pull_never(tmp_path):
    client, _ = _client()
    client.images.get.side_effect = ImageNotFound("no such image")
    with pytest.raises(ProxyBootError, match="pulling is disabled"):
        DockerRuntime(client=client, pull="never").start(_spec(tmp_path))
    client.images.pull.assert_not_called()


def test_unreachable_engine_is_a_boot_error(tmp_path, monkeypatch):
    def boom(**_kw):
        raise DockerException("Error while fetching server API version: Connection refused")

    monkeypatch.setattr(docker, "from_env", boom)
    with pytest.raises(ProxyBootError, match="Docker engine unreachable"):
        DockerRuntime().start(_spec(tmp_path))


def test_engine_that_does_not_answer_ping_is_a_boot_error(tmp_path, monkeypatch):
    client, _ = _client()
    client.ping.side_effect = APIError("500 Server Error")
    monkeypatch.setattr(docker, "from_env", lambda **_kw: client)
    with pytest.raises(ProxyBootError, match="Docker engine unreachable"):
        DockerRuntime().start(_spec(tmp_path))


def test_failed_start_removes_the_container(tmp_path):
    client, container = _client()
    container.start.side_effect = APIError("driver failed programming external connectivity: port is already allocated")
    with pytest.raises(ProxyBootError, match="port is already allocated"):
        DockerRuntime(client=client).start(_spec(tmp_path, port=4000))
    container.remove.assert_called_once_with(force=True, v=True)


def test_missing_published_port_removes_the_container(tmp_path):
    client, container = _client()
    container.ports = {}
    with pytest.raises(ProxyBootError, match="no published port"):
        DockerRuntime(client=client).start(_spec(tmp_path))
    container.remove.assert_called_once_with(force=True, v=True)


def test_isolated_sandbox_is_refused(tmp_path):
    class IsolatedSandbox:
        isolated = True

    client, _ = _client()
    with pytest.raises(ProxyBootError, match="CCMATRIX_NETWORK_ISOLATION=off"):
        DockerRuntime(client=client).start(_spec(tmp_path), IsolatedSandbox())
    client.containers.create.assert_not_called()


def test_unreadable_config_is_a_boot_error(tmp_path):
    client, _ = _client()
    spec = ProxySpec(litellm_version="1.106.2", config_path=tmp_path / "missing.yaml", master_key="k", port=0)
    with pytest.raises(ProxyBootError, match="unreadable"):
        DockerRuntime(client=client).start(spec)
    client.containers.create.assert_not_called()


# --- the handle ------------------------------------------------------------------------------------------------

def test_alive_and_log_tail(tmp_path):
    client, container = _client()
    handle = DockerRuntime(client=client).start(_spec(tmp_path))
    assert handle.alive() is True
    container.reload.assert_called()
    container.status = "exited"
    assert handle.alive() is False
    container.reload.side_effect = NotFound("gone")
    assert handle.alive() is False
    assert "Uvicorn running" in handle.log_tail(5)
    container.logs.assert_called_with(stdout=True, stderr=True, tail=5)


def test_stop_saves_logs_and_removes_even_when_stop_fails(tmp_path):
    client, container = _client()
    log_path = tmp_path / "proxy.log"
    handle = DockerRuntime(client=client).start(_spec(tmp_path, log_path=log_path))
    container.stop.side_effect = APIError("cannot stop container")
    handle.stop()
    container.stop.assert_called_once_with(timeout=5)
    container.remove.assert_called_once_with(force=True, v=True)
    assert "Uvicorn running" in log_path.read_text()
    # idempotent, and the handle still answers from the saved logs
    handle.stop()
    assert container.remove.call_count == 1
    assert handle.alive() is False
    assert "Uvicorn running" in handle.log_tail()


def test_stop_tolerates_an_already_removed_container(tmp_path):
    client, container = _client()
    handle = DockerRuntime(client=client).start(_spec(tmp_path))
    container.logs.side_effect = NotFound("gone")
    container.stop.side_effect = NotFound("gone")
    container.remove.side_effect = NotFound("gone")
    handle.stop()  # no exception
    container.remove.assert_called_once_with(force=True, v=True)


def test_cleanup_leftovers_removes_only_dead_owners(tmp_path):
    client, _ = _client()
    mine = create_autospec(Container, instance=True)
    mine.id, mine.labels = "a", {"io.ccmatrix.owner-pid": str(os.getpid())}
    dead = create_autospec(Container, instance=True)
    dead.id, dead.labels = "b", {"io.ccmatrix.owner-pid": "999999999"}
    client.containers.list.return_value = [mine, dead]
    assert DockerRuntime(client=client).cleanup_leftovers() == 1
    dead.remove.assert_called_once_with(force=True, v=True)
    mine.remove.assert_not_called()
    filters = client.containers.list.call_args.kwargs["filters"]
    assert f"io.ccmatrix.owner-host={socket.gethostname()}" in filters["label"]


def test_first_start_sweeps_leftovers_once(tmp_path):
    client, _ = _client()
    dead = create_autospec(Container, instance=True)
    dead.id, dead.labels = "b", {"io.ccmatrix.owner-pid": "999999999"}
    client.containers.list.return_value = [dead]
    runtime = DockerRuntime(client=client)
    runtime.start(_spec(tmp_path))
    runtime.start(_spec(tmp_path))
    client.containers.list.assert_called_once()
    dead.remove.assert_called_once_with(force=True, v=True)
    # a failing sweep never prevents a boot
    other, _ = _client()
    other.containers.list.side_effect = APIError("boom")
    DockerRuntime(client=other).start(_spec(tmp_path))
    other.containers.create.assert_called_once()


# --- the Engine API payload, built by docker-py's own code -----------------------------------------------------

@pytest.fixture
def engine_api():
    api = create_autospec(docker.APIClient, instance=True)
    api._version = "1.45"
    api.inspect_image.return_value = {"Id": "sha256:" + "1" * 64}
    api.create_container.return_value = {"Id": "cid-1"}
    api.inspect_container.return_value = {
        "Id": "cid-1", "Name": "/ccmatrix-proxy-x", "State": {"Status": "running", "Running": True},
        "NetworkSettings": {"Ports": {"4000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49200"}]}},
    }
    api.logs.return_value = b"proxy log line\n"
    client = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.45")
    client.api = api
    return client, api


def test_engine_payload_bridge(tmp_path, engine_api):
    client, api = engine_api
    handle = DockerRuntime(client=client).start(_spec(tmp_path))
    api.inspect_image.assert_called_once_with("ghcr.io/berriai/litellm:v1.106.2-stable")
    api.create_container.assert_called_once()
    kw = api.create_container.call_args.kwargs
    assert kw["image"] == "ghcr.io/berriai/litellm:v1.106.2-stable"
    assert kw["command"] == ["--config", "/app/config.yaml", "--port", "4000"]
    assert kw["ports"] == [("4000", "tcp")]
    assert kw["environment"]["LITELLM_MASTER_KEY"] == "sk-test-master"
    assert kw["labels"]["io.ccmatrix.role"] == "proxy"
    host_config = kw["host_config"]
    cfg = str((tmp_path / "litellm-config.yaml").resolve())
    assert host_config["Binds"] == [f"{cfg}:/app/config.yaml:ro"]
    assert host_config["PortBindings"] == {"4000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert host_config["CapDrop"] == ["ALL"]
    assert host_config["SecurityOpt"] == ["no-new-privileges"]
    assert host_config["ExtraHosts"] == ["host.docker.internal:host-gateway"]
    api.start.assert_called_once_with("cid-1")
    assert handle.base_url == "http://127.0.0.1:49200"
    assert handle.alive()
    handle.stop()
    api.stop.assert_called_once_with("cid-1", timeout=5)
    api.remove_container.assert_called_once_with("cid-1", force=True, v=True)


def test_engine_payload_host_network(tmp_path, engine_api):
    client, api = engine_api
    DockerRuntime(client=client).start(_spec(tmp_path, EMULATOR_CONFIG, port=41000))
    host_config = api.create_container.call_args.kwargs["host_config"]
    assert host_config["NetworkMode"] == "host"
    assert "PortBindings" not in host_config


def test_engine_missing_image_pull_failure(tmp_path, engine_api):
    client, api = engine_api
    api.inspect_image.side_effect = ImageNotFound("No such image")
    api.pull.side_effect = NotFound("manifest for ghcr.io/berriai/litellm:v1.106.2-stable not found")
    with pytest.raises(ProxyBootError, match="could not be pulled"):
        DockerRuntime(client=client).start(_spec(tmp_path))
    api.pull.assert_called_once()
    assert api.pull.call_args.args[0] == "ghcr.io/berriai/litellm"
    assert api.pull.call_args.kwargs["tag"] == "v1.106.2-stable"
    api.create_container.assert_not_called()
