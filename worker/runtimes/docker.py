"""The docker proxy runtime (CCMATRIX_PROXY_RUNTIME=docker): the gateway under test runs as a sibling container of
the worker, from the gateway image of the requested LiteLLM release, started through the Docker Engine API (the
socket mounted into the worker container; docker/compose.docker-runtime.yaml).

Network: the gateway container is attached only to CCMATRIX_DOCKER_NETWORK, an `internal` network (no route out)
shared with the workers alone; the only thing it can reach there is a relay the worker opens on its own address on
that network, which leads to the worker's emulator and nowhere else (worker/runtimes/_relay.py). Inside the
container a second relay makes 127.0.0.1:<emulator port> lead there too, so the generated config and the emulated
credentials files (which name the emulator as http://127.0.0.1:<port>, as for the process runtime) are used as
they are. The worker reaches the gateway at 127.0.0.1:<proxy port> through a third relay, which is where the CLI
and the fidelity recorder expect the proxy (sandbox.url("proxy")).

Files: the container mounts the worker container's volumes read-only (VolumesFrom), so the config under the run
directory (<cache>/run/...) is at the same path inside. The container is removed when the pool stops the proxy
(another release or config, or the worker shutting down), and reused across jobs like the process runtime; on first
use a worker process also removes gateway containers left by an earlier process of the same worker container.

Needs: a non-isolated sandbox (CCMATRIX_NETWORK_ISOLATION=off: the gateway container cannot join a worker process's
loopback-only namespace, so production-shaped routing by hostname is not available with this runtime; the gateway
is pointed at the emulator's URL as in the process runtime without a namespace), and a release version (a local
source tree is installed by the process runtime only).
"""
from __future__ import annotations

import os
import secrets
import socket
import struct
from pathlib import Path

import httpx

from worker.runtimes._relay import Relay
from worker.runtimes.base import ProxyBootError, ProxySpec
from worker.runtimes.process import OFFLINE_ENV

API_VERSION = "v1.41"  # Docker Engine 20.10 and newer
GATEWAY_PORT = 4000  # inside the gateway container
LABEL_ROLE = "io.ccmatrix.role"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


class DockerAPI:
    """The few Engine API calls the runtime needs, over the Unix socket (no Docker SDK dependency)."""

    def __init__(self, socket_path: str):
        self.socket_path = socket_path
        self.client = httpx.Client(transport=httpx.HTTPTransport(uds=socket_path),
                                   base_url=f"http://docker/{API_VERSION}", timeout=60)

    def _check(self, response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code >= 400:
            raise ProxyBootError(f"docker: {what}: {response.status_code} {response.text[:300]}")
        return response

    def inspect(self, container: str) -> dict | None:
        response = self.client.get(f"/containers/{container}/json")
        if response.status_code == 404:
            return None
        return self._check(response, f"inspect {container}").json()

    def create(self, name: str, body: dict) -> str:
        response = self.client.post("/containers/create", params={"name": name}, json=body)
        if response.status_code == 404:
            raise ProxyBootError(f"docker: image {body['Image']} not found (build it: make images, or "
                                 f"CCMATRIX_GATEWAY_VERSIONS='<versions>' sh docker/build.sh)")
        return self._check(response, f"create {name}").json()["Id"]

    def start(self, container: str) -> None:
        self._check(self.client.post(f"/containers/{container}/start"), f"start {container}")

    def remove(self, container: str) -> None:
        response = self.client.delete(f"/containers/{container}", params={"force": "1", "v": "1"})
        if response.status_code not in (204, 404, 409):
            self._check(response, f"remove {container}")

    def list(self, labels: dict[str, str]) -> list[dict]:
        import json

        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        return self._check(self.client.get("/containers/json", params={"all": "1", "filters": filters}),
                           "list").json()

    def logs(self, container: str, lines: int) -> str:
        response = self.client.get(f"/containers/{container}/logs",
                                   params={"stdout": "1", "stderr": "1", "tail": str(lines)})
        if response.status_code >= 400:
            return ""
        return demux(response.content)

    def close(self) -> None:
        self.client.close()


def demux(raw: bytes) -> str:
    """Docker's multiplexed log stream (8-byte frame headers when the container has no TTY) as text."""
    out, i = [], 0
    while i + 8 <= len(raw) and raw[i] in (0, 1, 2) and raw[i + 1:i + 4] == b"\0\0\0":
        size = struct.unpack(">I", raw[i + 4:i + 8])[0]
        out.append(raw[i + 8:i + 8 + size])
        i += 8 + size
    if i < len(raw):
        out.append(raw[i:])
    return b"".join(out).decode(errors="replace")


class DockerHandle:
    def __init__(self, api: DockerAPI, container_id: str, base_url: str, relays: list[Relay]):
        self.api = api
        self.container_id = container_id
        self.base_url = base_url
        self.relays = relays
        self.runtime = "docker"

    def alive(self) -> bool:
        try:
            info = self.api.inspect(self.container_id)
        except (httpx.HTTPError, ProxyBootError):
            return False
        return bool(info and info.get("State", {}).get("Running"))

    def log_tail(self, lines: int = 40) -> str:
        try:
            return self.api.logs(self.container_id, lines)
        except httpx.HTTPError:
            return ""

    def stop(self) -> None:
        for relay in self.relays:
            relay.close()
        self.relays = []
        try:
            self.api.remove(self.container_id)
        except (httpx.HTTPError, ProxyBootError):
            pass


class DockerRuntime:
    name = "docker"

    def __init__(self):
        self.socket_path = _env("CCMATRIX_DOCKER_SOCKET", "/var/run/docker.sock")
        self.network = _env("CCMATRIX_DOCKER_NETWORK", "ccmatrix-gateway")
        self.image_template = _env("CCMATRIX_DOCKER_GATEWAY_IMAGE", "ccmatrix/gateway:{version}")
        self.stack = _env("CCMATRIX_DOCKER_STACK", "ccmatrix")
        self.memory = int(float(_env("CCMATRIX_DOCKER_GATEWAY_MEMORY_GB", "1.5")) * 2**30)
        self._api: DockerAPI | None = None
        self._self: dict | None = None

    # --- the worker's own container ------------------------------------------------------------------------
    def api(self) -> DockerAPI:
        if self._api is None:
            if not Path(self.socket_path).exists():
                raise ProxyBootError(f"docker runtime: no Docker socket at {self.socket_path} (mount it into the "
                                     "worker container: docker/compose.docker-runtime.yaml)")
            self._api = DockerAPI(self.socket_path)
            self._remove_orphans()
        return self._api

    def own_container(self) -> dict:
        if self._self is None:
            ident = _env("CCMATRIX_DOCKER_SELF", socket.gethostname())
            info = self.api().inspect(ident)
            if info is None:
                raise ProxyBootError(f"docker runtime: this worker is not a container the engine knows ({ident}); "
                                     "set CCMATRIX_DOCKER_SELF to its id or name")
            self._self = info
        return self._self

    def own_address(self) -> str:
        networks = self.own_container().get("NetworkSettings", {}).get("Networks", {})
        address = (networks.get(self.network) or {}).get("IPAddress")
        if not address:
            raise ProxyBootError(f"docker runtime: the worker container is not attached to the network "
                                 f"{self.network!r} (CCMATRIX_DOCKER_NETWORK) it shares with the gateway containers")
        return address

    def _labels(self) -> dict[str, str]:
        return {LABEL_ROLE: "gateway", "io.ccmatrix.stack": self.stack,
                "io.ccmatrix.worker": socket.gethostname()}

    def _remove_orphans(self) -> None:
        """Gateway containers of this worker container whose worker process is gone (killed, restarted)."""
        for item in self._api.list(self._labels()):
            pid = int(item.get("Labels", {}).get("io.ccmatrix.pid", "0") or 0)
            if pid == os.getpid() or not _pid_alive(pid):
                self._api.remove(item["Id"])

    # --- the interface -------------------------------------------------------------------------------------
    def start(self, spec: ProxySpec, sandbox) -> DockerHandle:
        if getattr(sandbox, "isolated", False):
            raise ProxyBootError("docker runtime needs CCMATRIX_NETWORK_ISOLATION=off: a gateway container cannot "
                                 "join the worker process's loopback-only network namespace")
        version = spec.litellm_version
        if "/" in version or version.startswith("."):
            raise ProxyBootError(f"docker runtime: {version!r} is a local source; only releases have gateway "
                                 "images (use CCMATRIX_PROXY_RUNTIME=process)")
        api = self.api()
        own = self.own_container()
        address = self.own_address()
        emulator_port = sandbox.port("emulator")
        relays = [Relay(address, 0, "127.0.0.1", emulator_port)]   # gateway network -> the emulator only
        inner = (f'python3 -c "$CCMATRIX_RELAY_SRC" 127.0.0.1 {emulator_port} {address} {relays[0].port} & '
                 f'exec ccmatrix-gateway --config "$1" --host 0.0.0.0 --port {GATEWAY_PORT} --num_workers 1')
        env = {**OFFLINE_ENV, "HOME": "/tmp", "LITELLM_MASTER_KEY": spec.master_key,
               "CCMATRIX_RELAY_SRC": Path(__file__).with_name("_relay.py").read_text(),
               **getattr(sandbox, "gateway_env", {}), **spec.env}   # spec.env: real credentials (os.environ/<NAME>)
        labels = {**self._labels(), "io.ccmatrix.pid": str(os.getpid()), "io.ccmatrix.litellm-version": version}
        body = {
            "Image": self.image_template.format(version=version),
            "Entrypoint": ["/bin/sh", "-c", inner, "ccmatrix-gateway"],
            "Cmd": [str(spec.config_path)],
            "Env": [f"{k}={v}" for k, v in env.items()],
            "Labels": labels,
            "User": "10001:10001",
            "WorkingDir": "/tmp",
            "HostConfig": {
                "NetworkMode": self.network,
                "VolumesFrom": [f"{own['Id']}:ro"],
                "ReadonlyRootfs": True,
                "Tmpfs": {"/tmp": "rw,exec,mode=1777"},
                "CapDrop": ["ALL"],
                "SecurityOpt": ["no-new-privileges:true"],
                "Init": True,
                "Memory": self.memory,
            },
        }
        name = f"{self.stack}-gateway-{socket.gethostname()[:12]}-{os.getpid()}-{secrets.token_hex(3)}"
        container_id = None
        try:
            container_id = api.create(name, body)
            api.start(container_id)
            info = api.inspect(container_id) or {}
            gateway = ((info.get("NetworkSettings", {}).get("Networks", {}).get(self.network) or {})
                       .get("IPAddress"))
            if not gateway:
                raise ProxyBootError(f"docker runtime: gateway container {name} has no address on {self.network}")
            relays.append(Relay("127.0.0.1", spec.port, gateway, GATEWAY_PORT))   # the CLI/recorder -> gateway
        except (ProxyBootError, httpx.HTTPError, OSError) as error:
            for relay in relays:
                relay.close()
            if container_id:
                api.remove(container_id)
            if isinstance(error, ProxyBootError):
                raise
            raise ProxyBootError(f"docker runtime: could not start the gateway container: {error}") from None
        return DockerHandle(api, container_id, f"http://127.0.0.1:{spec.port}", relays)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
