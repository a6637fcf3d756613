"""worker/runtimes/docker.py without an engine: the relay, the log demux, the refusals, the container it asks for.
(The real thing, with an engine, is tests/containers/: `make test-containers`.)"""
from __future__ import annotations

import json
import socket
import struct
import threading
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from worker.runtimes import ProxyBootError, ProxySpec, get_runtime
from worker.runtimes._relay import Relay
from worker.runtimes.docker import DockerAPI, DockerRuntime, demux


def _echo_server() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
                conn.sendall(b"echo:" + data)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_relay_forwards_both_ways_with_half_close():
    server, port = _echo_server()
    relay = Relay("127.0.0.1", 0, "127.0.0.1", port)
    try:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
            conn.sendall(b"x" * 200_000)
            conn.shutdown(socket.SHUT_WR)
            got = b""
            while chunk := conn.recv(65536):
                got += chunk
        assert got == b"echo:" + b"x" * 200_000
    finally:
        relay.close()
        server.close()


def test_relay_closes_the_client_when_the_target_is_down():
    relay = Relay("127.0.0.1", 0, "127.0.0.1", 1)  # nothing listens on port 1
    try:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=5) as conn:
            conn.settimeout(15)
            assert conn.recv(10) == b""
    finally:
        relay.close()


def test_demux_reads_dockers_multiplexed_log_frames():
    frames = b"".join(struct.pack(">BxxxI", stream, len(text)) + text
                      for stream, text in ((1, b"booting\n"), (2, b"ERROR: no config\n")))
    assert demux(frames) == "booting\nERROR: no config\n"
    assert demux(b"plain tty output\n") == "plain tty output\n"


def test_get_runtime_knows_docker():
    assert get_runtime("docker").name == "docker"
    with pytest.raises(ValueError, match="process, docker"):
        get_runtime("podman")


def _spec(tmp_path: Path, version: str = "1.106.2") -> ProxySpec:
    config = tmp_path / "proxy" / "config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("model_list: []\n")
    return ProxySpec(litellm_version=version, config_path=config, master_key="sk-ccmatrix-test", port=0)


def test_refuses_an_isolated_sandbox_and_local_sources(tmp_path):
    runtime = DockerRuntime()
    with pytest.raises(ProxyBootError, match="NETWORK_ISOLATION=off"):
        runtime.start(_spec(tmp_path), SimpleNamespace(isolated=True))
    with pytest.raises(ProxyBootError, match="local source"):
        runtime.start(_spec(tmp_path, "/src/litellm"), SimpleNamespace(isolated=False))


def test_no_socket_is_an_infrastructure_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CCMATRIX_DOCKER_SOCKET", str(tmp_path / "nope.sock"))
    with pytest.raises(ProxyBootError, match="no Docker socket"):
        DockerRuntime().start(_spec(tmp_path), SimpleNamespace(isolated=False, port=lambda s: 18080))


def test_the_gateway_container_it_asks_for(tmp_path, monkeypatch):
    """Against a fake Engine API: the container is on the gateway network only, read-only, no capabilities, the
    worker's volumes read-only, labelled for clean-up, removed on stop; the CLI side reaches it through a relay."""
    calls: list[tuple[str, str, dict | None]] = []
    gateway_server, gateway_port = _echo_server()

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        calls.append((request.method, request.url.path, body))
        path = request.url.path.removeprefix("/v1.41")
        if request.method == "GET" and path == "/containers/json":
            return httpx.Response(200, json=[])
        if request.method == "GET" and path == "/containers/worker-1/json":
            return httpx.Response(200, json={"Id": "w" * 64, "NetworkSettings": {
                "Networks": {"ccmatrix-gateway": {"IPAddress": "127.0.0.1"}}}})
        if request.method == "POST" and path == "/containers/create":
            return httpx.Response(201, json={"Id": "g" * 64})
        if request.method == "POST" and path.endswith("/start"):
            return httpx.Response(204)
        if request.method == "GET" and path == f"/containers/{'g' * 64}/json":
            return httpx.Response(200, json={"State": {"Running": True}, "NetworkSettings": {
                "Networks": {"ccmatrix-gateway": {"IPAddress": "127.0.0.1"}}}})
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(500, text=f"unexpected {request.method} {path}")

    socket_path = tmp_path / "docker.sock"
    socket_path.touch()
    monkeypatch.setenv("CCMATRIX_DOCKER_SOCKET", str(socket_path))
    monkeypatch.setenv("CCMATRIX_DOCKER_SELF", "worker-1")
    monkeypatch.setattr("worker.runtimes.docker.GATEWAY_PORT", gateway_port)
    original_init = DockerAPI.__init__

    def fake_init(self, path):
        original_init(self, path)
        self.client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://docker/v1.41")

    monkeypatch.setattr(DockerAPI, "__init__", fake_init)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        proxy_port = probe.getsockname()[1]
    spec = ProxySpec(litellm_version="1.106.2", config_path=_spec(tmp_path).config_path,
                     master_key="sk-ccmatrix-test", port=proxy_port)
    sandbox = SimpleNamespace(isolated=False, port=lambda service: 18080, gateway_env={})
    handle = DockerRuntime().start(spec, sandbox)
    try:
        create = next(body for method, path, body in calls if path.endswith("/containers/create"))
        host = create["HostConfig"]
        assert create["Image"] == "ccmatrix/gateway:1.106.2"
        assert host["NetworkMode"] == "ccmatrix-gateway"
        assert host["VolumesFrom"] == ["w" * 64 + ":ro"]
        assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
        assert create["User"] == "10001:10001" and create["Cmd"] == [str(spec.config_path)]
        assert create["Labels"]["io.ccmatrix.role"] == "gateway"
        assert "LITELLM_MASTER_KEY=sk-ccmatrix-test" in create["Env"]
        assert "127.0.0.1 18080 127.0.0.1" in create["Entrypoint"][2], "the in-container relay to the emulator"
        assert handle.alive() and handle.base_url == f"http://127.0.0.1:{proxy_port}"
        with socket.create_connection(("127.0.0.1", proxy_port), timeout=5) as conn:
            conn.sendall(b"ping")
            conn.shutdown(socket.SHUT_WR)
            assert conn.recv(100) == b"echo:ping"
    finally:
        handle.stop()
        gateway_server.close()
    assert any(method == "DELETE" and path.endswith("g" * 64) for method, path, _ in calls)
